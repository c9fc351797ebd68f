-- audit_columns_missing: a money table with no timestamps and no record of who changed it (seed 6.3.1)
create table public.s6_refunds (
  id bigint generated always as identity primary key,
  amount numeric(12, 2) not null check (amount > 0),
  reason text not null
);
