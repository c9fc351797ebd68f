/* pgaudit
id = "long_running_transactions"
title = "Transactions open longer than the threshold"
section = "4.2"
format = 2
needs = ["activity"]
detects = "Client sessions in this database whose current transaction has been open longer than threshold_s (from pg_stat_activity.xact_start), and prepared transactions older than the threshold, excluding pgaudit's own backend and autovacuum or other background workers. Critical past critical_s. The query text is never reported: it may hold secrets."
why = "An open transaction keeps its snapshot: VACUUM cannot remove any row version newer than it, so tables and indexes bloat, and its row and table locks make other writers and DDL queue behind it. Sessions 'idle in transaction' are usually an application bug (a missing commit, an exception path without rollback)."
example = "begin; select * from accounts where id = 1 for update; -- the client then waits on an HTTP call for 20 minutes"
fix = "Commit or roll back in the client; set idle_in_transaction_session_timeout and statement_timeout (or transaction_timeout on PostgreSQL 17+) so the server ends them."
ignore_when = "A known batch job or pg_dump (which holds one transaction for its whole run) in a maintenance window."
references = ["https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW", "https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY", "https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL"]
ok = "No transaction has been open longer than the threshold"
impact = "Vacuum is held back (bloat) and the transaction's locks block other writers while it stays open."
message = "{object}: transaction open longer than {_threshold_s} s ({state}), application {application_name}"
remediation = "Find the client by application_name and client address and fix its transaction handling; to end the transaction now, cancel the session's statement or terminate the backend (the transaction rolls back). The SQL is given commented out: run it only after checking who owns the session. A prepared transaction is ended with COMMIT PREPARED or ROLLBACK PREPARED by its transaction manager."
replica_note = "On a hot standby a long query delays WAL replay (or is cancelled) and, with hot_standby_feedback on, holds vacuum back on the primary."

[severity]
default = "warning"
critical = ["duration_s >= critical_s"]

[labels]
pid = "Backend pid"
duration_s = "Transaction open for"
in_state_s = "In this state for"
xact_start = "Transaction start"
client_addr = "Client address"
holds_xmin = "Holds back the xmin horizon"
gid = "Prepared transaction id"

[params]
threshold_s = 300
critical_s = 3600
*/
with sessions as (
  select a.pid, a.usename, a.application_name, a.client_addr, a.state,
         a.wait_event_type, a.wait_event,
         extract(epoch from now() - a.xact_start)::bigint as duration_s,
         extract(epoch from now() - a.state_change)::bigint as in_state_s,
         a.xact_start, a.backend_xmin
  from pg_catalog.pg_stat_activity a
  where a.datname = current_database()
    and a.pid <> all(%(own_pids)s::int[])  -- this audit's own sessions
    and a.backend_type = 'client backend'
    and a.xact_start is not null
    and a.xact_start < now() - make_interval(secs => %(threshold_s)s::int)
), prepared as (
  select p.gid, p.owner, p.prepared,
         extract(epoch from now() - p.prepared)::bigint as duration_s
  from pg_catalog.pg_prepared_xacts p
  where p.database = current_database()
    and p.prepared < now() - make_interval(secs => %(threshold_s)s::int)
)
-- the query text is never returned: it may hold secrets
select format('%%s (pid %%s)', quote_ident(s.usename), s.pid) as object,
       'session' as object_type,
       s.pid, s.usename::text as role, s.state, s.duration_s, s.in_state_s, s.xact_start,
       coalesce(nullif(s.application_name, ''), '(none)') as application_name,
       s.client_addr::text as client_addr, s.wait_event_type, s.wait_event,
       s.backend_xmin is not null as holds_xmin, null::text as gid,
       %(threshold_s)s::int as _threshold_s,
       format('-- check who owns pid %%s first; then cancel its statement or end the session (its transaction rolls back):
-- select pg_catalog.pg_cancel_backend(%%s);
-- select pg_catalog.pg_terminate_backend(%%s);', s.pid, s.pid, s.pid) as remediation,
       null::text as no_verdict
from sessions s
union all
select format('prepared transaction %%L', p.gid), 'session',
       null, p.owner::text, 'prepared, waiting for COMMIT/ROLLBACK PREPARED', p.duration_s, null,
       p.prepared, null, null, null, null, null, p.gid, %(threshold_s)s::int,
       format('-- once the transaction manager confirms the outcome:
-- rollback prepared %%L;', p.gid),
       null
from prepared p
union all
-- without track_activities the view shows no state or transaction start: no verdict
select null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
       'track_activities is off: pg_stat_activity shows no transaction start times'
where %(session_settings)s::jsonb -> 'track_activities' ->> 'setting' = 'off'
order by 1
