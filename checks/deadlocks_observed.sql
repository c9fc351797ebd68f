/* pgaudit
id = "deadlocks_observed"
title = "Deadlocks since the statistics reset"
section = "4.2"
severity = "warning"
needs = ["stats"]
detects = "pg_stat_database.deadlocks for this database at or above min_deadlocks since stats_reset (or server start), with the window and the rate per day; critical at critical_per_day or more over a window of at least min_window_s. With no deadlocks, a window shorter than min_window_s gives no verdict. On a hot standby, also queries cancelled by recovery conflicts (pg_stat_database_conflicts)."
why = "Every deadlock aborts one transaction after deadlock_timeout of blocked waiting: the application sees errors (SQLSTATE 40P01) it must retry, and recurring deadlocks mean two code paths lock the same rows or tables in opposite orders."
example = "-- session 1: update accounts set ... where id = 1; update accounts set ... where id = 2;\n-- session 2: update accounts set ... where id = 2; update accounts set ... where id = 1;"
fix = "Lock rows in one global order (e.g. select ... where id = any($1) order by id for update), keep transactions short, and turn on log_lock_waits to see the blocked statements."
ignore_when = "A handful of deadlocks over months from a known batch job that retries."
references = ["https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW", "https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LOCK-WAITS"]
ok = "No deadlocks since the statistics reset"
impact = "Transactions are aborted with 40P01 errors; clients that do not retry lose work."
message = "{object}: {deadlocks} deadlock(s) in {window_days} days ({per_day} per day)"
remediation = "Read the server log around the deadlock reports (the DETAIL lines name both statements), then make the code paths take their locks in the same order. log_lock_waits = on logs every wait longer than deadlock_timeout. Counters are cumulative: the finding clears only after pg_stat_reset() or when no new deadlocks appear over a window you judge."
replica_note = "A standby counts its own deadlocks and recovery conflicts; the primary's counters are on the primary."

[params]
min_window_s = 86400
min_deadlocks = 1
critical_per_day = 10
*/
with d as (
  select s.datname, s.deadlocks, s.stats_reset,
         %(stats_age_s)s::float8 as window_s,
         %(session_settings)s::jsonb -> 'log_lock_waits' ->> 'setting' as log_lock_waits,
         %(session_settings)s::jsonb -> 'deadlock_timeout' ->> 'setting' as deadlock_timeout_ms
  from pg_catalog.pg_stat_database s
  where s.datname = current_database()
), c as (
  select coalesce(x.confl_lock, 0) + coalesce(x.confl_snapshot, 0) + coalesce(x.confl_bufferpin, 0)
           + coalesce(x.confl_deadlock, 0) + coalesce(x.confl_tablespace, 0) as conflicts,
         to_jsonb(x) - 'datid' - 'datname' as by_kind
  from pg_catalog.pg_stat_database_conflicts x
  where x.datname = current_database()
)
select quote_ident(d.datname) as object, 'database' as object_type,
       -- a rate is only extrapolated to critical over a full window
       case when d.window_s >= %(min_window_s)s::float8
             and d.deadlocks / (d.window_s / 86400.0) >= %(critical_per_day)s::float8
            then 'critical' end as severity,
       format('%%s deadlock(s) in database %%s over %%s days of statistics (since %%s): %%s per day; log_lock_waits is %%s',
              d.deadlocks, quote_ident(d.datname), round((d.window_s / 86400.0)::numeric, 1),
              coalesce(d.stats_reset::text, 'server start'),
              round((d.deadlocks / greatest(d.window_s / 86400.0, 1.0 / 24))::numeric, 2),
              coalesce(d.log_lock_waits, 'unknown')) as detail,
       jsonb_build_object('deadlocks', d.deadlocks, 'window_s', round(d.window_s::numeric),
                          'window_days', round((d.window_s / 86400.0)::numeric, 1),
                          'per_day', round((d.deadlocks / greatest(d.window_s / 86400.0, 1.0 / 24))::numeric, 2),
                          'stats_reset', d.stats_reset, 'log_lock_waits', d.log_lock_waits,
                          'deadlock_timeout_ms', d.deadlock_timeout_ms) as evidence,
       null::text as remediation,
       null::text as no_verdict
from d
where d.deadlocks >= %(min_deadlocks)s::bigint   -- deadlocks seen are evidence even in a short window
union all
-- on a standby: queries cancelled because WAL replay needed what they held
select quote_ident(current_database()), 'database', null,
       format('%%s quer(ies) cancelled by recovery conflicts on this standby over %%s days (%%s)',
              c.conflicts, round((%(stats_age_s)s::float8 / 86400.0)::numeric, 1), c.by_kind::text),
       jsonb_build_object('recovery_conflicts', c.conflicts, 'by_kind', c.by_kind,
                          'window_s', round(%(stats_age_s)s::numeric)),
       null, null
from c
where %(is_replica)s and c.conflicts > 0
  and coalesce(%(stats_age_s)s::float8, 0) >= %(min_window_s)s::float8
union all
select null, null, null, null, null, null,
       format('statistics cover %%s s (reset %%s), less than min_window_s = %%s: too short to judge a deadlock rate',
              coalesce(round(d.window_s)::text, 'an unknown time'), coalesce(d.stats_reset::text, 'never: counting since server start'),
              %(min_window_s)s)
from d
where coalesce(d.window_s, 0) < %(min_window_s)s::float8
  and d.deadlocks < %(min_deadlocks)s::bigint
order by 1
