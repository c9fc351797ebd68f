/* pgaudit
id = "dead_tuples_accumulating"
title = "Dead tuples accumulating"
section = "3.3"
format = 2
uses = ["scope_relations"]
severity = "warning"
needs = ["stats"]
detects = "Tables with at least min_dead_tuples dead row versions that either make up at least dead_ratio of the table, or exceed the table's autovacuum trigger (autovacuum_vacuum_threshold + scale factor × rows, the table's own storage parameters first) with no vacuum in the last vacuum_overdue_s. Partitions are grouped under their partitioned table, reported once, and the vacuum names the partitions concerned."
why = "Dead rows take space in the heap and in every index, slow sequential and index scans, and keep the visibility map clear so index-only scans fetch the heap. When autovacuum falls behind (disabled, throttled, or blocked by a long transaction or a stale replication slot holding back the xmin horizon) the table only grows."
example = "update queue set status = 'done' where id = $1;  -- millions of updates a day, autovacuum_vacuum_scale_factor = 0.2 on a 50 M row table"
fix = "vacuum (analyze) queue;\nalter table queue set (autovacuum_vacuum_scale_factor = 0.01);"
ignore_when = "A bulk delete or update has just finished and autovacuum is already running on the table (pg_stat_progress_vacuum)."
references = ["https://www.postgresql.org/docs/current/routine-vacuuming.html", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW", "https://www.postgresql.org/docs/current/runtime-config-autovacuum.html"]
ok = "No table accumulates dead tuples beyond what autovacuum clears"
impact = "Table and index bloat, slower scans and index-only scans that hit the heap."
message = "{object} holds {dead_tuples} dead tuples ({dead_pct}% of rows); last vacuum {last_vacuum_any}"
remediation = "Vacuum the table now (VACUUM does not block reads or writes), then find why autovacuum did not: autovacuum disabled on the table, long-running or idle-in-transaction sessions and stale replication slots holding back the xmin horizon, or thresholds too high for a large table (lower autovacuum_vacuum_scale_factor on it)."
replica_note = "a standby has no dead-tuple counters of its own: read this on the primary"
# n_dead_tup is a current count, not a rate: it survives a clean restart and is judged at once
[labels]
dead_tuples = "Dead tuples"
live_tuples = "Live tuples"
dead_pct = "Dead share (%)"
autovacuum_trigger_dead_tuples = "Autovacuum trigger (dead tuples)"
last_vacuum_any = "Last vacuum"
autovacuum_count = "Autovacuums since the statistics reset"
autovacuum_on = "Autovacuum on"
oldest_xact_age_s = "Oldest open transaction (s)"
partitions_flagged = "Partitions flagged"

[params]
min_dead_tuples = 10000
dead_ratio = 0.2
vacuum_overdue_s = 86400
*/
with leaf as (
  select c.oid, case when c.relispartition then pg_catalog.pg_partition_root(c.oid) else c.oid::regclass end as root,
         s.n_dead_tup, s.n_live_tup,
         case when c.reltuples >= 0 then c.reltuples else s.n_live_tup end as rows,
         greatest(s.last_vacuum, s.last_autovacuum) as last_vac,
         s.last_autovacuum, s.autovacuum_count, s.vacuum_count,
         -- the table's own storage parameters first (a non-matching option is no row, not a null)
         coalesce((select split_part(r, '=', 2)::float8 from pg_catalog.unnest(c.reloptions) r
                   where r like 'autovacuum\_vacuum\_threshold=%%' limit 1),
                  pg_catalog.current_setting('autovacuum_vacuum_threshold')::float8) as av_threshold,
         coalesce((select split_part(r, '=', 2)::float8 from pg_catalog.unnest(c.reloptions) r
                   where r like 'autovacuum\_vacuum\_scale\_factor=%%' limit 1),
                  pg_catalog.current_setting('autovacuum_vacuum_scale_factor')::float8) as av_scale
  from scope_relations c
  -- the counters pg_stat_all_tables shows, read directly: the view aggregates over every
  -- relation's indexes first
  cross join lateral (
    select pg_catalog.pg_stat_get_dead_tuples(c.oid) as n_dead_tup,
           pg_catalog.pg_stat_get_live_tuples(c.oid) as n_live_tup,
           pg_catalog.pg_stat_get_last_vacuum_time(c.oid) as last_vacuum,
           pg_catalog.pg_stat_get_last_autovacuum_time(c.oid) as last_autovacuum,
           pg_catalog.pg_stat_get_autovacuum_count(c.oid) as autovacuum_count,
           pg_catalog.pg_stat_get_vacuum_count(c.oid) as vacuum_count) s
  where c.relkind in ('r', 'm')
    and s.n_dead_tup >= %(min_dead_tuples)s::bigint
), flagged as (
  select l.*,
         l.n_dead_tup::float8 / greatest(l.n_live_tup + l.n_dead_tup, 1) as ratio,
         l.av_threshold + l.av_scale * greatest(l.rows, 0) as av_trigger
  from leaf l
), hits as (
  select f.* from flagged f
  where f.ratio >= %(dead_ratio)s::float8
     or (f.n_dead_tup > f.av_trigger
         and (f.last_vac is null
              or f.last_vac < now() - make_interval(secs => %(vacuum_overdue_s)s::float8)))
), agg as (
  select h.root,
         sum(h.n_dead_tup)::bigint as dead, sum(h.n_live_tup)::bigint as live,
         min(h.last_vac) as last_vac, bool_or(h.last_vac is null) as never_vacuumed,
         min(h.av_trigger)::bigint as av_trigger,
         sum(h.autovacuum_count)::bigint as autovacuum_count,
         count(*) as leaves,
         string_agg(h.oid::regclass::text, ', ' order by h.oid::regclass::text) as targets
  from hits h group by h.root
)
select a.root::regclass::text as object,
       'table' as object_type,
       a.dead as dead_tuples,
       a.live as live_tuples,
       round((100.0 * a.dead / greatest(a.dead + a.live, 1))::numeric, 1) as dead_pct,
       a.av_trigger as autovacuum_trigger_dead_tuples,
       case when a.never_vacuumed then 'never (since the statistics reset)'
            else a.last_vac::timestamptz(0)::text end as last_vacuum_any,
       a.autovacuum_count,
       coalesce(%(session_settings)s::jsonb -> 'autovacuum' ->> 'setting', 'on') = 'on' as autovacuum_on,
       (select round(extract(epoch from now() - min(x.xact_start)))
        from pg_catalog.pg_stat_activity x
        where x.pid <> all(%(own_pids)s::int[])
          and (x.backend_xid is not null or x.backend_xmin is not null)) as oldest_xact_age_s,
       case when c.relkind = 'p' then a.leaves end as partitions_flagged,
       format('vacuum (analyze) %%s;', a.targets) as remediation
from agg a
join pg_catalog.pg_class c on c.oid = a.root
order by 1
