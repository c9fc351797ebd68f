-- naming_inconsistency: a camelCase column and an FK without _id in an otherwise snake_case schema
create table public.s1_vendors (id bigint generated always as identity primary key, vendor_name text not null);
create table public.s1_purchase_orders (
  id bigint generated always as identity primary key,
  vendor bigint not null references public.s1_vendors,     -- dominant convention: vendor_id
  "createdAt" timestamptz not null default now()
);
create index on public.s1_purchase_orders (vendor);
