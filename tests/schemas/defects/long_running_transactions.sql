-- long_running_transactions: cannot be planted by a schema script (it needs a session that
-- stays open during the audit); see tests/test_activity_checks.py. A table for that session:
create table public.s45_lrt_counters (id bigint generated always as identity primary key, hits bigint not null default 0);
