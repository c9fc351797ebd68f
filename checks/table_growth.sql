/* pgaudit
id = "table_growth"
title = "Largest tables and their growth"
section = "7.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
min_stats_age_s = 86400  # the statistics' insert and delete rates need a day; sizes and the history need none
stats_window = "rates"
locks = true
detects = "The top_n largest tables of at least min_bytes, by total size (heap, TOAST and indexes: pg_total_relation_size, summed over the partitions of a partitioned table, which is listed once at its parent). Sizes are measured only for the largest candidates by catalog page counts. For each: estimated rows, and inserts/deletes per day since the statistics reset. With a history store (the %(history)s parameter), bytes and rows per day since the previous run and the projected date the table crosses the partitioning thresholds (partition_bytes, partition_rows: 10 GB / 100 M rows, as large_table_not_partitioned); without one, the row projection uses the net inserts per day of the statistics window. History shape (written by the store from its own size snapshot): {\"tables\": {\"<regclass text>\": {\"bytes\": n, \"rows\": n, \"at\": \"<ISO 8601 time>\"}}}; an empty {} means no history."
why = "Growth, not size, decides when a table needs partitioning, archiving or a bigger disk: a 5 GB table adding 200 MB a day crosses 10 GB within a month, and partitioning a table after the fact means rewriting it. Knowing the largest tables and their rate turns 'the table will become slow' (the seed review's 3.3.2, 7.1.1) into a date to plan against."
example = "-- events: 8.2 GB, 64 M rows, +310 MB/day: crosses 10 GB around 2025-03-14"
fix = "-- plan range partitioning (by created_at) or an archiving job before the projected date; see archiving_candidate and large_table_not_partitioned"
ignore_when = "Tables whose size is bounded by design (a fixed catalogue) or already partitioned with a retention job; a one-off bulk load inflating the rate."
references = ["https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE", "https://www.postgresql.org/docs/current/ddl-partitioning.html", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW"]
ok = "No table is large enough to list"
impact = "Unplanned growth leads to slow scans, long vacuums and backups, and a forced partitioning under pressure."
message = "{object}: one of the largest tables, {_partitioning}"
ok_message = "No table is large enough to be listed; the largest is {largest}"
remediation = "Informational: watch the rate. Before a table reaches the partitioning thresholds, plan range partitioning on its time column (a rewrite: create the partitioned table, copy in batches, swap) or an archiving job; keep the history store so the projection improves with each run. No SQL is given."
replica_note = "Sizes are the primary's; the insert counters are this server's own (near zero on a standby)."

[severity]
default = "info"
ok = ["not _listed"]
[labels]
size_estimated = "Size estimated from page counts (over the lock budget)"
history_at = "Previous run"
bytes_per_day = "Growth per day since the previous run"
rows_rate_source = "Rows per day from"
[params]
top_n = 10
min_bytes = 104857600
partition_bytes = 10737418240
partition_rows = 100000000
max_relations_sized = 1000  # size functions lock each relation until the check ends: at most this many are measured (and never more than a quarter of max_locks_per_transaction x max_connections); larger candidates beyond it keep their page-count estimate (fact: size_estimated)
*/
with recursive members as (
  -- a plain table is its own member; a partitioned table, its whole tree, walked through pg_inherits: pg_partition_tree()
  -- locks every partition until the check ends, and this reads all the partitioned tables (the estimate keeps the leaves)
  select t.oid as top, t.oid as rel from scope_tables t where not t.relispartition and t.oid <> all(%(locked)s::oid[])
  union all
  select m.top, i.inhrelid from members m
  join pg_catalog.pg_class pc on pc.oid = m.rel and pc.relkind = 'p'  -- partitions, not inheritance
  join pg_catalog.pg_inherits i on i.inhparent = m.rel
), estimate as (
  -- catalog estimate (heap + TOAST + indexes, in pages) to pick the candidates to measure
  select m.top, sum(rc.relpages + coalesce(tc.relpages, 0) + coalesce(ip.pages, 0)) as pages,
         sum(rc.relpages) as heap_pages, sum(coalesce(ip.pages, 0)) as index_pages,
         array_agg(m.rel order by m.rel) filter (where m.rel <> all(%(locked)s::oid[])) as rels,
         -- row estimates of the same relations, read in this pass rather than per candidate
         sum(greatest(rc.reltuples, 0)) filter (where m.rel <> all(%(locked)s::oid[])) as rows,
         bool_or(rc.reltuples < 0) filter (where m.rel <> all(%(locked)s::oid[])) as unanalyzed,
         count(*) as partitions
  from members m join pg_catalog.pg_class rc on rc.oid = m.rel left join pg_catalog.pg_class tc on tc.oid = rc.reltoastrelid
  -- index pages per table, in one grouped pass
  left join (select i.indrelid, sum(ic.relpages) as pages from pg_catalog.pg_index i
             join pg_catalog.pg_class ic on ic.oid = i.indexrelid group by i.indrelid) ip on ip.indrelid = m.rel
  where rc.relkind = 'r' group by m.top
), candidates as (
  -- size functions lock each relation until the check ends: candidates are measured while their relations (partitions
  -- count one each) fit in max_relations_sized and a quarter of the lock table; the rest keep the page-count estimate
  select x.*,
         sum(coalesce(cardinality(x.rels), 0)) over (order by x.pages desc, x.top)
           <= least(%(max_relations_sized)s::int, %(lock_budget)s::int) as sized
  from (select e.* from estimate e order by e.pages desc, e.top
        limit greatest(%(top_n)s::int * 3, 10)) x
), measured as (
  -- each size function once per relation: total = table (heap, TOAST, other forks) + indexes; the counters read
  -- directly (pg_stat_user_tables scans every relation per candidate)
  select c.*, st.live, st.ins, st.del, (case when c.sized then coalesce(sz.table_bytes + sz.index_bytes, 0) else c.pages * bs.b end)::bigint as bytes,
         (case when c.sized then coalesce(sz.heap_bytes, 0) else c.heap_pages * bs.b end)::bigint as heap_bytes,
         (case when c.sized then coalesce(sz.index_bytes, 0) else c.index_pages * bs.b end)::bigint as index_bytes
  from candidates c
  cross join (select current_setting('block_size')::bigint as b) bs
  cross join lateral (
    select sum(pg_catalog.pg_table_size(r)) as table_bytes, sum(pg_catalog.pg_relation_size(r)) as heap_bytes,
           sum(pg_catalog.pg_indexes_size(r)) as index_bytes
    from unnest(c.rels) r where c.sized) sz
  cross join lateral (
    select sum(pg_catalog.pg_stat_get_live_tuples(r)) as live, sum(pg_catalog.pg_stat_get_tuples_inserted(r)) as ins,
           sum(pg_catalog.pg_stat_get_tuples_deleted(r)) as del from unnest(c.rels) r) st
), growth as (
  select t.*, h.days,
         case when h.days > 0.01 then (t.bytes - (t.prev ->> 'bytes')::numeric) / h.days end as bytes_per_day,
         coalesce(case when h.days > 0.01 then (t.est_rows - (t.prev ->> 'rows')::numeric) / h.days end,
                  (t.ins - t.del) * t.per_day) as rows_per_day
  from (select m.*, %(history)s::jsonb -> 'tables' -> (m.top::regclass::text) as prev,
               case when m.unanalyzed then greatest(coalesce(m.rows, 0), coalesce(m.live, 0))
                    else coalesce(m.rows, 0) end::bigint as est_rows,
               -- the statistics' rates per day, over a window long enough
               case when %(rates_ok)s then 86400 / %(stats_age_s)s::float8 end as per_day
        from measured m where m.bytes >= %(min_bytes)s::bigint
        order by m.bytes desc, m.top limit %(top_n)s::int) t
  cross join lateral (select extract(epoch from now() - (t.prev ->> 'at')::timestamptz) / 86400 as days) h
), projected as (
  select g.*,
         case when g.bytes >= %(partition_bytes)s::numeric then 'already over'
              when g.bytes_per_day > 0
              then (now() + make_interval(days => least(((%(partition_bytes)s::numeric - g.bytes) / g.bytes_per_day), 36500)::int))::date::text
         end as bytes_date,
         case when g.est_rows >= %(partition_rows)s::numeric then 'already over'
              when g.rows_per_day > 0
              then (now() + make_interval(days => least(((%(partition_rows)s::numeric - g.est_rows) / g.rows_per_day), 36500)::int))::date::text
         end as rows_date
  from growth g
)
select p.top::regclass::text as object, 'table' as object_type, true as _listed,
       case when 'already over' in (p.bytes_date, p.rows_date)
            then 'already past the partitioning threshold (partition_bytes or partition_rows)'
            when coalesce(p.bytes_date, p.rows_date) is not null
            then 'projected to cross the partitioning threshold (the dates are in the evidence)'
            when p.rows_per_day is null then 'below the partitioning threshold; no growth rate yet'
            else 'below the partitioning threshold and not growing' end as _partitioning,
       p.bytes as total_bytes, p.heap_bytes, p.index_bytes, not p.sized as size_estimated,
       p.est_rows as rows, c.relkind = 'p' as partitioned,
       case when c.relkind = 'p' then p.partitions else 0 end as partitions,
       round((p.ins * p.per_day)::numeric, 1)::float8 as inserts_per_day,
       round((p.del * p.per_day)::numeric, 1)::float8 as deletes_per_day,
       p.prev ->> 'at' as history_at, round(p.bytes_per_day)::bigint as bytes_per_day,
       round(p.rows_per_day::numeric, 1)::float8 as rows_per_day,
       case when p.days > 0.01 and p.prev ->> 'rows' is not null then 'history'
            when p.per_day is not null then 'statistics' end as rows_rate_source,
       p.bytes_date as bytes_threshold_date, p.rows_date as rows_threshold_date, null::text as largest
from projected p
join pg_catalog.pg_class c on c.oid = p.top
union all
-- the 🟢 row: nothing reaches min_bytes; the largest table and its size
select quote_ident(current_database()), 'database', false, null, (select max(m.bytes) from measured m),
       null, null, null, null, null, null, null, null, null, null, null, null, null, null,
       coalesce((select format('%%s (%%s; tables are listed from %%s)', m.top::regclass,
                               pg_catalog.pg_size_pretty(m.bytes),
                               pg_catalog.pg_size_pretty(%(min_bytes)s::bigint))
                 from measured m order by m.bytes desc, m.top limit 1), 'none')
where not exists (select 1 from growth)
order by 2 desc, 1
