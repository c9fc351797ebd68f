-- soft_delete_unique_conflict: a soft-deleted account keeps its e-mail reserved forever
create table s2_su_accounts (
  id bigint generated always as identity primary key,
  email text not null constraint s2_su_accounts_email_key unique,
  deleted_at timestamptz
);
create index s2_su_accounts_live_idx on s2_su_accounts (id) where deleted_at is null;
