-- deadlocks_observed: a deadlock needs two concurrent sessions and cannot be planted by a schema
-- script; see tests/test_activity_checks.py. The rows such sessions would lock in opposite orders:
create table public.s45_dl_accounts (id bigint primary key, n int not null default 0);
insert into public.s45_dl_accounts values (1), (2);
