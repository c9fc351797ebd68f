/* pgaudit
id = "table_growth"
title = "Largest tables and their growth"
section = "7.1"
severity = "info"
needs = ["catalog"]
locks = true
detects = "The top_n largest tables of at least min_bytes, by total size (heap, TOAST and indexes: pg_total_relation_size, summed over the partitions of a partitioned table, which is listed once at its parent). Sizes are measured only for the largest candidates by catalog page counts. For each: estimated rows, and inserts/deletes per day since the statistics reset. With a history store (the %(history)s parameter), bytes and rows per day since the previous run and the projected date the table crosses the partitioning thresholds (partition_bytes, partition_rows: 10 GB / 100 M rows, as large_table_not_partitioned); without one, the row projection uses the net inserts per day of the statistics window. History shape (written by the store from this check's evidence): {\"tables\": {\"<regclass text>\": {\"bytes\": n, \"rows\": n, \"at\": \"<ISO 8601 time>\"}}}; an empty {} means no history."
why = "Growth, not size, decides when a table needs partitioning, archiving or a bigger disk: a 5 GB table adding 200 MB a day crosses 10 GB within a month, and partitioning a table after the fact means rewriting it. Knowing the largest tables and their rate turns 'the table will become slow' (the seed review's 3.3.2, 7.1.1) into a date to plan against."
example = "-- events: 8.2 GB, 64 M rows, +310 MB/day: crosses 10 GB around 2025-03-14"
fix = "-- plan range partitioning (by created_at) or an archiving job before the projected date; see archiving_candidate and large_table_not_partitioned"
ignore_when = "Tables whose size is bounded by design (a fixed catalogue) or already partitioned with a retention job; a one-off bulk load inflating the rate."
references = ["https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE", "https://www.postgresql.org/docs/current/ddl-partitioning.html", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW"]
ok = "No table is large enough to list"
impact = "Unplanned growth leads to slow scans, long vacuums and backups, and a forced partitioning under pressure."
message = "{object}: {total_size}, {rows} rows"
remediation = "Informational: watch the rate. Before a table reaches the partitioning thresholds, plan range partitioning on its time column (a rewrite: create the partitioned table, copy in batches, swap) or an archiving job; keep the history store so the projection improves with each run. No SQL is given."
replica_note = "Sizes are the primary's; the insert counters are this server's own (near zero on a standby)."

[params]
top_n = 10
min_bytes = 104857600
partition_bytes = 10737418240
partition_rows = 100000000
min_stats_age_s = 86400
# size functions lock each relation until the check ends: at most this many are measured (and
# never more than a quarter of max_locks_per_transaction x max_connections); larger candidates
# beyond it keep their page-count estimate (evidence: size_estimated)
max_relations_sized = 1000
*/
with recursive tables as (
  select c.oid, c.relkind
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  where c.relkind in ('r', 'p')
    and not c.relispartition
    and nsp.nspname = any(%(schemas)s::name[])
    and c.oid <> all(%(locked)s::oid[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
            and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), members as (
  -- a plain table is its own member; a partitioned table, its whole tree, walked through
  -- pg_inherits: pg_partition_tree() locks every partition until the check ends, and this
  -- reads all the partitioned tables of the catalog (the estimate keeps the leaf tables)
  select t.oid as top, t.oid as rel from tables t
  union all
  select m.top, i.inhrelid from members m
  join pg_catalog.pg_class pc on pc.oid = m.rel and pc.relkind = 'p'  -- partitions, not inheritance
  join pg_catalog.pg_inherits i on i.inhparent = m.rel
), estimate as (
  -- catalog estimate (heap + TOAST + indexes, in pages) to pick the candidates to measure
  select m.top,
         sum(rc.relpages + coalesce(tc.relpages, 0) + coalesce(ip.pages, 0)) as pages,
         sum(rc.relpages) as heap_pages, sum(coalesce(ip.pages, 0)) as index_pages,
         array_agg(m.rel order by m.rel) filter (where m.rel <> all(%(locked)s::oid[])) as rels,
         -- row estimates of the same relations, read in this pass rather than per candidate
         sum(greatest(rc.reltuples, 0)) filter (where m.rel <> all(%(locked)s::oid[])) as rows,
         bool_or(rc.reltuples < 0) filter (where m.rel <> all(%(locked)s::oid[])) as unanalyzed,
         count(*) as partitions
  from members m
  join pg_catalog.pg_class rc on rc.oid = m.rel
  left join pg_catalog.pg_class tc on tc.oid = rc.reltoastrelid
  -- index pages per table, in one grouped pass
  left join (select i.indrelid, sum(ic.relpages) as pages
             from pg_catalog.pg_index i
             join pg_catalog.pg_class ic on ic.oid = i.indexrelid
             group by i.indrelid) ip on ip.indrelid = m.rel
  where rc.relkind = 'r'
  group by m.top
), candidates as (
  -- size functions lock each relation until the check ends: candidates are measured while
  -- their relations (partitions count one each) fit in max_relations_sized and a quarter of
  -- the server's lock table; the rest keep the catalog's page-count estimate
  select x.*,
         sum(coalesce(cardinality(x.rels), 0)) over (order by x.pages desc, x.top)
           <= least(%(max_relations_sized)s::int, %(lock_budget)s::int) as sized
  from (select e.* from estimate e order by e.pages desc, e.top
        limit greatest(%(top_n)s::int * 3, 10)) x
), measured as (
  -- each size function once per relation: total = table (heap, TOAST, other forks) + indexes
  select c.*,
         case when c.sized then coalesce(sz.table_bytes + sz.index_bytes, 0)
              else c.pages * current_setting('block_size')::bigint end as bytes,
         case when c.sized then coalesce(sz.heap_bytes, 0)
              else c.heap_pages * current_setting('block_size')::bigint end as heap_bytes,
         case when c.sized then coalesce(sz.index_bytes, 0)
              else c.index_pages * current_setting('block_size')::bigint end as index_bytes
  from candidates c
  cross join lateral (
    select sum(pg_catalog.pg_table_size(r)) as table_bytes,
           sum(pg_catalog.pg_relation_size(r)) as heap_bytes,
           sum(pg_catalog.pg_indexes_size(r)) as index_bytes
    from unnest(c.rels) r
    where c.sized) sz
), stats as (
  select m.*, st.live, st.ins, st.del
  from measured m
  cross join lateral (
    -- pg_stat_user_tables' n_live_tup, n_tup_ins and n_tup_del, read directly: the view scans
    -- every relation once per candidate
    select sum(pg_catalog.pg_stat_get_live_tuples(r)) as live,
           sum(pg_catalog.pg_stat_get_tuples_inserted(r)) as ins,
           sum(pg_catalog.pg_stat_get_tuples_deleted(r)) as del
    from unnest(m.rels) r) st
), top as (
  select s.*,
         case when s.unanalyzed then greatest(coalesce(s.rows, 0), coalesce(s.live, 0)) else coalesce(s.rows, 0) end::bigint as est_rows,
         %(history)s::jsonb -> 'tables' -> (s.top::regclass::text) as prev
  from stats s
  where s.bytes >= %(min_bytes)s::bigint
  order by s.bytes desc, s.top
  limit %(top_n)s::int
), rates as (
  select t.*,
         extract(epoch from now() - (t.prev ->> 'at')::timestamptz) / 86400 as hist_days,
         (t.prev ->> 'bytes')::numeric as prev_bytes,
         (t.prev ->> 'rows')::numeric as prev_rows,
         case when %(stats_age_s)s::float8 >= %(min_stats_age_s)s::float8
              then t.ins / (%(stats_age_s)s::numeric / 86400) end as ins_per_day,
         case when %(stats_age_s)s::float8 >= %(min_stats_age_s)s::float8
              then (t.ins - t.del) / (%(stats_age_s)s::numeric / 86400) end as net_rows_per_day
  from top t
), growth as (
  select r.*,
         case when r.hist_days > 0.01 then (r.bytes - r.prev_bytes) / r.hist_days::numeric end as bytes_per_day,
         coalesce(case when r.hist_days > 0.01 then (r.est_rows - r.prev_rows) / r.hist_days::numeric end,
                  r.net_rows_per_day) as rows_per_day,
         case when r.hist_days > 0.01 and r.prev_rows is not null then 'history' 
              when r.net_rows_per_day is not null then 'statistics' end as rows_rate_source
  from rates r
), projected as (
  select g.*,
         case when g.bytes >= %(partition_bytes)s::numeric then 'already over'
              when g.bytes_per_day > 0
              then (now() + make_interval(days => least(((%(partition_bytes)s::numeric - g.bytes) / g.bytes_per_day), 36500)::int))::date::text
         end as bytes_threshold_date,
         case when g.est_rows >= %(partition_rows)s::numeric then 'already over'
              when g.rows_per_day > 0
              then (now() + make_interval(days => least(((%(partition_rows)s::numeric - g.est_rows) / g.rows_per_day), 36500)::int))::date::text
         end as rows_threshold_date
  from growth g
)
select p.top::regclass::text as object,
       'table' as object_type,
       null::text as severity,
       concat_ws('; ',
         format('%%s: %%s (heap %%s, indexes %%s, TOAST and other forks %%s)%%s, about %%s rows',
                p.top::regclass, pg_catalog.pg_size_pretty(p.bytes), pg_catalog.pg_size_pretty(p.heap_bytes),
                pg_catalog.pg_size_pretty(p.index_bytes),
                pg_catalog.pg_size_pretty(p.bytes - p.heap_bytes - p.index_bytes),
                case when c.relkind = 'p' then format(' over %%s partitions', p.partitions) else '' end,
                p.est_rows),
         case when p.ins_per_day is not null
              then format('%%s inserts/day and %%s deletes/day over %%s days of statistics',
                          round(p.ins_per_day), round(p.del / (%(stats_age_s)s::numeric / 86400)),
                          round((%(stats_age_s)s::numeric / 86400), 1))
              else 'statistics window too short for a rate' end,
         case when p.bytes_per_day is not null
              then format('%%s%%s/day since the previous run %%s days ago',
                          case when p.bytes_per_day >= 0 then '+' else '-' end,
                          pg_catalog.pg_size_pretty(abs(p.bytes_per_day)::bigint), round(p.hist_days::numeric, 1)) end,
         case when p.bytes_threshold_date = 'already over' or p.rows_threshold_date = 'already over'
              then format('already past the partitioning threshold (%%s / %%s rows)',
                          pg_catalog.pg_size_pretty(%(partition_bytes)s::bigint), %(partition_rows)s::bigint)
              when coalesce(p.bytes_threshold_date, p.rows_threshold_date) is not null
              then format('projected to cross %%s around %%s',
                          case when p.bytes_threshold_date is not null and
                                    (p.rows_threshold_date is null or p.bytes_threshold_date <= p.rows_threshold_date)
                               then pg_catalog.pg_size_pretty(%(partition_bytes)s::bigint)
                               else %(partition_rows)s::bigint || ' rows' end,
                          least(p.bytes_threshold_date, p.rows_threshold_date)) end) as detail,
       jsonb_build_object(
         'bytes', p.bytes, 'total_size', pg_catalog.pg_size_pretty(p.bytes),
         'heap_bytes', p.heap_bytes, 'index_bytes', p.index_bytes,
         'size_estimated', not p.sized,
         'rows', p.est_rows, 'at', now(),
         'partitioned', c.relkind = 'p', 'partitions', case when c.relkind = 'p' then p.partitions else 0 end,
         'inserts_per_day', round(p.ins_per_day, 1),
         'net_rows_per_day', round(p.net_rows_per_day, 1),
         'stats_age_days', round((%(stats_age_s)s::numeric / 86400), 1),
         'history_at', p.prev ->> 'at', 'history_days', round(p.hist_days::numeric, 2),
         'bytes_per_day', round(p.bytes_per_day), 'rows_per_day', round(p.rows_per_day, 1),
         'rows_rate_source', p.rows_rate_source,
         'bytes_threshold', %(partition_bytes)s::bigint, 'rows_threshold', %(partition_rows)s::bigint,
         'bytes_threshold_date', p.bytes_threshold_date,
         'rows_threshold_date', p.rows_threshold_date) as evidence,
       null::text as remediation
from projected p
join pg_catalog.pg_class c on c.oid = p.top
union all
select quote_ident(current_database()), 'database', 'ok',
       format('No table reaches %%s; the largest is %%s (%%s)',
              pg_catalog.pg_size_pretty(%(min_bytes)s::bigint),
              coalesce((select s.top::regclass::text from stats s order by s.bytes desc, s.top limit 1), 'none'),
              coalesce((select pg_catalog.pg_size_pretty(max(s.bytes)) from stats s), '-')),
       jsonb_build_object('largest_bytes', (select max(s.bytes) from stats s)),
       null
where not exists (select 1 from top)
order by 2 desc, 1
