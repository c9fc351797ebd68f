-- invalid_index: the state a failed CREATE INDEX CONCURRENTLY leaves behind (needs a superuser:
-- a failing CONCURRENTLY build cannot be scripted inside a transaction)
create table public.s3_inv_users (id bigint primary key, email text not null);
create index s3_inv_users_email_idx on public.s3_inv_users (email);
update pg_catalog.pg_index set indisvalid = false
 where indexrelid = 'public.s3_inv_users_email_idx'::regclass;
