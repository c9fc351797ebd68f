-- unchecked_balance_column: a wallet balance nothing keeps at or above zero
create table public.s45_wallets (
  id bigint generated always as identity primary key,
  user_id bigint not null,
  balance numeric(12,2) not null default 0,
  updated_at timestamptz not null default now()
);
