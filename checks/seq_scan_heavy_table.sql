/* pgaudit
id = "seq_scan_heavy_table"
title = "Large tables read mostly by sequential scans"
section = "3.2"
format = 2
uses = ["scope_relations"]
severity = "warning"
needs = ["stats"]
# scans since the statistics reset: no verdict before a day of them
min_stats_age_s = 86400
detects = "Tables with at least min_rows rows whose reads since the statistics reset are mostly sequential scans (seq_scan share of all scans ≥ min_seq_scan_share, at least min_seq_scans scans) that each read many rows (average ≥ min_avg_rows_per_scan). Partitions are summed into their partitioned table, reported once. Filed under 3.2 (query patterns): the fix is an index that matches the queries' filters."
why = "A sequential scan reads the whole table: on a large table each one costs I/O and CPU proportional to its size, evicts hot pages from shared buffers, and gets slower as the table grows. Repeated ones almost always mean a query filters or joins on a column no index serves."
example = "select * from orders where external_ref = $1;  -- orders has 5 M rows and no index on external_ref"
fix = "create index concurrently orders_external_ref_idx on orders (external_ref);"
ignore_when = "Reporting or batch jobs that really read most of the table (aggregates, exports, pg_dump), or a table small enough to sit in memory."
references = ["https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW", "https://www.postgresql.org/docs/current/indexes-intro.html", "https://www.postgresql.org/docs/current/pgstatstatements.html"]
ok = "No large table is read mostly by sequential scans"
impact = "Queries on a large table read it end to end: latency and I/O grow with the table."
message = "{object} ({rows} rows) is read mostly by sequential scans: {seq_scan_share:.0%} of its scans since the statistics reset, {avg_rows_per_seq_scan} rows read per scan on average"
remediation = "Find the statements behind the scans (pg_stat_statements ordered by shared_blks_read, or auto_explain), then index the columns they filter, join or sort on, with CREATE INDEX CONCURRENTLY. Partial indexes fit filters on a status or soft-delete column."
replica_note = "counters are per server: sequential scans run on replicas (reports, analytics) are not seen on the primary and vice versa"

[labels]
seq_scan = "Sequential scans"
idx_scan = "Index scans"
seq_tup_read = "Rows read by sequential scans"

[params]
min_rows = 100000
min_seq_scans = 100
min_seq_scan_share = 0.5
min_avg_rows_per_scan = 10000
*/
with leaf as (
  select case when c.relispartition then pg_catalog.pg_partition_root(c.oid) else c.oid::regclass end as root,
         s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0) as idx_scan,
         case when c.reltuples >= 0 then c.reltuples else s.n_live_tup end as rows
  from pg_catalog.pg_stat_all_tables s
  join scope_relations c on c.oid = s.relid
  where c.relkind in ('r', 'm')
), agg as (
  select root, sum(seq_scan)::bigint as seq_scan, sum(seq_tup_read)::bigint as seq_tup_read,
         sum(idx_scan)::bigint as idx_scan, sum(rows)::bigint as rows, count(*) as partitions
  from leaf group by root
)
select a.root::regclass::text as object,
       'table' as object_type,
       a.rows,
       a.seq_scan,
       a.idx_scan,
       a.seq_tup_read,
       a.seq_tup_read / nullif(a.seq_scan, 0) as avg_rows_per_seq_scan,
       round(a.seq_scan::numeric / nullif(a.seq_scan + a.idx_scan, 0), 3)::float8 as seq_scan_share,
       round(a.seq_scan / greatest(%(stats_age_s)s::numeric / 86400, 1e-9), 1)::float8 as seq_scans_per_day,
       case when c.relkind = 'p' then a.partitions end as partitions
from agg a
join pg_catalog.pg_class c on c.oid = a.root
where a.rows >= %(min_rows)s::float8
  and a.seq_scan >= %(min_seq_scans)s::bigint
  and a.seq_scan::float8 / nullif(a.seq_scan + a.idx_scan, 0) >= %(min_seq_scan_share)s::float8
  and a.seq_tup_read::float8 / nullif(a.seq_scan, 0) >= %(min_avg_rows_per_scan)s::float8
order by 1
