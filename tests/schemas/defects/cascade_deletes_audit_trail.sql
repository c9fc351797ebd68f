-- cascade_deletes_audit_trail: deleting a user erases their credit transactions
create table s2_ca_users (id bigint generated always as identity primary key, email text not null unique);
create table s2_ca_credit_transactions (
  id bigint generated always as identity primary key,
  user_id bigint not null references s2_ca_users (id) on delete cascade,
  amount numeric(12, 2) not null,
  balance_after numeric(12, 2) not null,
  created_at timestamptz not null default now()
);
create index s2_ca_credit_transactions_user_id_idx on s2_ca_credit_transactions (user_id);
