-- missing_idempotency_key: a credit ledger (the review's 4.3.1) with no unique idempotency key
create table public.s45_credit_transactions (
  id bigint generated always as identity primary key,
  user_id bigint not null,
  delta integer not null,
  balance_before integer not null check (balance_before >= 0),
  balance_after integer not null check (balance_after >= 0),
  created_at timestamptz not null default now()
);
