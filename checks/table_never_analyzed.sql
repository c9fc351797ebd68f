/* pgaudit
id = "table_never_analyzed"
title = "Tables with rows and no planner statistics, or far more changes than their last ANALYZE saw"
section = "3.3"
format = 2
uses = ["scope_relations"]
needs = ["stats"]
detects = "Tables and materialized views (partitions each on their own: autovacuum analyzes them one by one) holding at least min_rows rows, that either (1) were never analyzed: no ANALYZE or autoanalyze recorded since the statistics reset and, to tell that from a reset, no column statistics at all (pg_stats, for tables the role may read; reltuples = -1 for the others, PostgreSQL 14+), the usual state after pg_restore, pg_upgrade or a bulk load with autovacuum off; or (2) had at least stale_factor times their autovacuum analyze trigger (autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x rows, the table's own storage parameters first) rows inserted, updated or deleted since their last ANALYZE (n_mod_since_analyze): autovacuum is off, throttled, or cannot keep up. A warning; never critical on its own: stale statistics make bad plans likely, not certain. Partitioned parents are not judged (autovacuum never analyzes them; run ANALYZE on the parent by hand after large changes)."
why = "The planner chooses join orders, join methods and index use from row counts and per-column statistics (most common values, histograms, distinct counts, correlation). Without them it falls back to fixed guesses, and with statistics from a table a tenth of today's size it plans for that table: nested loops over millions of rows, sequential scans where an index would do, hash joins spilling to disk. A restored database that nobody analyzed runs every query on guesses until autovacuum gets round to each table, which it never does when autovacuum is off."
example = "pg_restore -d app app.dump   -- data restored, no ANALYZE: every table's statistics are empty"
fix = "analyze orders;  -- or vacuumdb --analyze-in-stages --all after a restore or an upgrade"
ignore_when = "A table loaded moments ago whose load job runs ANALYZE next, or a table only ever read by primary key (a plan that no statistic changes)."
references = ["https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS", "https://www.postgresql.org/docs/current/sql-analyze.html", "https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-ANALYZE-SCALE-FACTOR", "https://www.postgresql.org/docs/current/pgupgrade.html"]
ok = "Every table with rows has planner statistics, none far older than its changes"
impact = "The planner guesses row counts and value distributions: wrong join orders, wrong index choices, slow queries."
message = "{object}: {_problem}"
remediation = "Run ANALYZE on the table now (it reads a sample, takes only a SHARE UPDATE EXCLUSIVE lock and does not block reads or writes). After a restore or a major upgrade, run vacuumdb --all --analyze-in-stages. Then find why autovacuum did not: autovacuum off (server or table), thresholds too high for the table, or workers busy elsewhere (autovacuum_max_workers, cost limits)."
replica_note = "a standby keeps no ANALYZE history or modification counters of its own: read this on the primary"

[severity]
default = "warning"

[labels]
rows = "Rows (estimated)"
modified_since_analyze = "Rows changed since the last ANALYZE"
analyze_trigger = "Autovacuum analyze trigger (rows changed)"
last_analyze = "Last ANALYZE"
autovacuum_on = "Autovacuum on for this table"

[params]
min_rows = 1000
stale_factor = 10
*/
with rel as (
  select c.oid, c.relname, c.relnamespace, c.reltuples, c.reloptions, c.relkind,
         s.last_analyze, s.last_autoanalyze, s.mod_since_analyze, s.live,
         greatest(c.reltuples, s.live::float4, 0) as rows
  from scope_relations c
  -- the counters pg_stat_all_tables shows, read directly (the view aggregates every index)
  cross join lateral (
    select pg_catalog.pg_stat_get_last_analyze_time(c.oid) as last_analyze,
           pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) as last_autoanalyze,
           pg_catalog.pg_stat_get_mod_since_analyze(c.oid) as mod_since_analyze,
           pg_catalog.pg_stat_get_live_tuples(c.oid) as live) s
  where c.relkind in ('r', 'm')
    and greatest(c.reltuples, s.live::float4) >= greatest(%(min_rows)s::float8, 1)
), trig as (
  select r.*,
         coalesce((select o[1]::float8 from pg_catalog.unnest(r.reloptions) x,
                   regexp_match(x, '^autovacuum_analyze_threshold=(.*)$') o limit 1),
                  pg_catalog.current_setting('autovacuum_analyze_threshold')::float8)
         + coalesce((select o[1]::float8 from pg_catalog.unnest(r.reloptions) x,
                     regexp_match(x, '^autovacuum_analyze_scale_factor=(.*)$') o limit 1),
                    pg_catalog.current_setting('autovacuum_analyze_scale_factor')::float8)
           * greatest(r.reltuples, 0) as trigger_rows,
         pg_catalog.current_setting('autovacuum') = 'on'
           and not exists (select 1 from pg_catalog.unnest(r.reloptions) x
                           where x ~* '^autovacuum_enabled=(f|fa|fal|fals|false|n|no|of|off|0)$') as av_on
  from rel r
), judged as (
  select t.*,
         case when t.last_analyze is null and t.last_autoanalyze is null
                   -- no ANALYZE since the statistics reset: never, unless column statistics
                   -- say otherwise (a reset clears the timestamps, not pg_statistic)
                   and (t.reltuples < 0
                        or (pg_catalog.has_table_privilege(t.oid, 'SELECT')
                            and not exists (select 1 from pg_catalog.pg_stats st
                                            join pg_catalog.pg_namespace n on n.nspname = st.schemaname
                                            where n.oid = t.relnamespace and st.tablename = t.relname
                                            offset 0)))
              then 'never'
              when t.mod_since_analyze >= %(stale_factor)s::float8 * greatest(t.trigger_rows, 1)
              then 'stale' end as kind
  from trig t
)
select j.oid::regclass::text as object,
       'table' as object_type,
       j.kind as _kind,
       case j.kind
         when 'never' then format('never analyzed while holding about %%s rows: the planner has no statistics for it and plans on fixed guesses', j.rows::bigint)
         else format('%%s rows changed since its last ANALYZE, %%s times the autovacuum analyze trigger of %%s rows: its statistics describe a different table',
                     j.mod_since_analyze, round((j.mod_since_analyze / greatest(j.trigger_rows, 1))::numeric, 1), round(j.trigger_rows)::bigint)
       end as _problem,
       j.rows::bigint as rows,
       j.mod_since_analyze as modified_since_analyze,
       round(j.trigger_rows)::bigint as analyze_trigger,
       greatest(j.last_analyze, j.last_autoanalyze) as last_analyze,
       j.av_on as autovacuum_on,
       format('analyze %%s;', j.oid::regclass) as remediation
from judged j
where j.kind is not null
order by 1
