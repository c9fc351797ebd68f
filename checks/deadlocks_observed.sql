/* pgaudit
id = "deadlocks_observed"
title = "Deadlocks since the statistics reset"
section = "4.2"
format = 2
needs = ["stats"]
# a rate per day is only judged over a day of statistics; deadlocks seen count at once, but
# none seen over a shorter window is no verdict (the no_verdict row below: the engine's
# "rates" window would rate it ok)
min_stats_age_s = 86400
stats_window = "rates"
detects = "pg_stat_database.deadlocks for this database at or above min_deadlocks since stats_reset (or server start), with the rate per day; critical at critical_per_day or more over a statistics window of at least min_stats_age_s. With no deadlocks, a shorter window gives no verdict. On a hot standby, also queries cancelled by recovery conflicts (pg_stat_database_conflicts)."
why = "Every deadlock aborts one transaction after deadlock_timeout of blocked waiting: the application sees errors (SQLSTATE 40P01) it must retry, and recurring deadlocks mean two code paths lock the same rows or tables in opposite orders."
example = "-- session 1: update accounts set ... where id = 1; update accounts set ... where id = 2;\n-- session 2: update accounts set ... where id = 2; update accounts set ... where id = 1;"
fix = "Lock rows in one global order (e.g. select ... where id = any($1) order by id for update), keep transactions short, and turn on log_lock_waits to see the blocked statements."
ignore_when = "A handful of deadlocks over months from a known batch job that retries."
references = ["https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW", "https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LOCK-WAITS"]
ok = "No deadlocks since the statistics reset"
impact = "Transactions are aborted with 40P01 errors; clients that do not retry lose work."
message = "{object}: {deadlocks:plural:deadlock} since the statistics reset; log_lock_waits is {log_lock_waits}"
remediation = "Read the server log around the deadlock reports (the DETAIL lines name both statements), then make the code paths take their locks in the same order. log_lock_waits = on logs every wait longer than deadlock_timeout. Counters are cumulative: the finding clears only after pg_stat_reset() or when no new deadlocks appear over a window you judge."
replica_note = "A standby counts its own deadlocks and recovery conflicts; the primary's counters are on the primary."

[severity]
default = "warning"
critical = ["per_day >= critical_per_day"]

[labels]
deadlocks = "Deadlocks since the statistics reset"
per_day = "Deadlocks per day"
stats_reset = "Statistics reset"
deadlock_timeout_ms = "deadlock_timeout (ms)"
recovery_conflicts = "Queries cancelled by recovery conflicts"
conflicts_by_kind = "Recovery conflicts by kind"

[params]
min_deadlocks = 1
critical_per_day = 10
*/
with d as (
  select s.datname, s.deadlocks, s.stats_reset,
         %(session_settings)s::jsonb -> 'log_lock_waits' ->> 'setting' as log_lock_waits,
         %(session_settings)s::jsonb -> 'deadlock_timeout' ->> 'setting' as deadlock_timeout_ms
  from pg_catalog.pg_stat_database s
  where s.datname = current_database()
), c as (
  -- on a standby: queries cancelled because WAL replay needed what they held
  select coalesce(x.confl_lock, 0) + coalesce(x.confl_snapshot, 0) + coalesce(x.confl_bufferpin, 0)
           + coalesce(x.confl_deadlock, 0) + coalesce(x.confl_tablespace, 0) as conflicts,
         to_jsonb(x) - 'datid' - 'datname' as by_kind
  from pg_catalog.pg_stat_database_conflicts x
  where x.datname = current_database() and %(is_replica)s
)
select quote_ident(d.datname) as object, 'database' as object_type,
       d.deadlocks,
       -- a rate is only extrapolated over a full window
       case when %(rates_ok)s then round((d.deadlocks / nullif(%(stats_age_s)s::float8 / 86400.0, 0))::numeric, 2)::float8 end as per_day,
       d.stats_reset, d.log_lock_waits, d.deadlock_timeout_ms,
       c.conflicts as recovery_conflicts, c.by_kind as conflicts_by_kind,
       null::text as remediation,
       null::text as no_verdict
from d
left join c on true
where d.deadlocks >= %(min_deadlocks)s::bigint   -- deadlocks seen are evidence even in a short window
   or (%(rates_ok)s and c.conflicts > 0)
union all
-- none seen over a short window: no verdict, never a silent pass
select null, null, null, null, null, null, null, null, null, null,
       'no deadlocks seen, but ' || %(stats_window_note)s::text
from d
where not %(rates_ok)s and d.deadlocks < %(min_deadlocks)s::bigint
order by 1
