/* pgaudit
id = "unused_table"
title = "Tables never read since the statistics reset"
section = "7.3"
format = 2
uses = ["scope_tables"]
severity = "info"
# "never read" means something only over a long enough window: no verdict before it
min_stats_age_s = 604800
raise_when = { cost_optimized = "warning" }  # storage paid for and never read weighs more
needs = ["stats"]
locks = true
detects = "Tables with no index scan and no sequential scan beyond the ones index builds make (idx_scan = 0 and seq_scan no more than the number of indexes in pg_stat_user_tables: CREATE INDEX, a PRIMARY KEY or pg_restore each scan the heap once) over a statistics window of at least min_stats_age_s (7 days; no verdict before). A partitioned table is judged once, at its parent, with the scans, writes and size summed over all its partitions; partitions are never reported individually. Reads made by foreign-key checks count as index scans, so a referenced lookup table is not reported. Filed under 7.3 (cost): the finding is storage, backup and vacuum work spent on data nobody reads."
why = "A table nobody reads still costs storage (and its indexes), backup and restore time, autovacuum work and, when it is still written, WAL and replication traffic. Tables left behind by a retired feature or a finished migration also mislead the next person who reads the schema."
example = "create table legacy_import_2019 (...);  -- loaded once, never queried since"
fix = "-- after confirming with its owners (and on every replica): pg_dump --table=legacy_import_2019 > legacy_import_2019.sql; then drop table legacy_import_2019;"
ignore_when = "Reads happen only on replicas (their counters are separate), in rare jobs outside the window (year-end, disaster recovery), or the table is write-only by design (audit trail, outbox read by logical decoding, archive). A table created after the statistics reset has been observed for less than the window shown."
references = ["https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW", "https://www.postgresql.org/docs/current/sql-droptable.html"]
ok = "Every table was read during the statistics window"
impact = "Storage, backup and vacuum cost for data nobody reads; schema clutter."
message = "{object} was not read since the statistics reset: no index scan, {seq_scan:plural:sequential scan} for its {indexes:plural:index build}; written in the window: {written}"
remediation = "Confirm on every replica and across a full business cycle that the table is really unused (on PostgreSQL 16+ last_seq_scan/last_idx_scan say when it was last read). Then archive it (pg_dump --table) and DROP it, or REVOKE the application's privileges first and wait for complaints. No SQL is given: dropping data needs a human decision."
replica_note = "Counters are per server: a table read only on a standby looks unused on the primary, and vice versa."

[labels]
total_bytes = "Total size (indexes and TOAST included)"
rows = "Live rows"
written = "Written since the statistics reset"
seq_scan = "Sequential scans"
idx_scan = "Index scans"
last_seq_scan = "Last sequential scan"
last_idx_scan = "Last index scan"

[params]
min_bytes = 0
*/
with recursive tables as (
  select c.oid, c.relkind
  from scope_tables c
  where not c.relispartition
    and c.oid <> all(%(locked)s::oid[])
), members as (
  -- a plain table is its own only member; a partitioned table, every relation in its tree,
  -- walked through pg_inherits: pg_partition_tree() locks every partition until the check ends
  select t.oid as top, t.oid as rel from tables t
  union all
  select m.top, i.inhrelid from members m
  join pg_catalog.pg_class pc on pc.oid = m.rel and pc.relkind = 'p'  -- partitions, not inheritance
  join pg_catalog.pg_inherits i on i.inhparent = m.rel
), agg as (
  select m.top,
         count(*) filter (where rc.relkind = 'r') as partitions,
         coalesce(sum(s.seq_scan), 0) as seq_scan,
         (select count(*) from pg_catalog.pg_index i where i.indrelid = any(array_agg(m.rel))) as indexes,
         coalesce(sum(s.idx_scan), 0) as idx_scan,
         coalesce(sum(s.n_live_tup), 0) as live_rows,
         coalesce(sum(s.n_tup_ins), 0) as ins, coalesce(sum(s.n_tup_upd), 0) as upd,
         coalesce(sum(s.n_tup_del), 0) as del,
         max((to_jsonb(s) ->> 'last_seq_scan')::timestamptz) as last_seq_scan,
         max((to_jsonb(s) ->> 'last_idx_scan')::timestamptz) as last_idx_scan,
         array_agg(m.rel) filter (where rc.relkind = 'r' and m.rel <> all(%(locked)s::oid[])) as storage
  from members m
  join pg_catalog.pg_class rc on rc.oid = m.rel
  left join pg_catalog.pg_stat_user_tables s on s.relid = m.rel
  group by m.top
  -- building an index scans the heap once and counts as a sequential scan (CREATE TABLE ... PRIMARY
  -- KEY, pg_restore, REINDEX): up to one sequential scan per index is not taken as a read
  having coalesce(sum(s.idx_scan), 0) = 0
     and coalesce(sum(s.seq_scan), 0) <= (select count(*) from pg_catalog.pg_index i
                                          where i.indrelid = any(array_agg(m.rel)))
), sized as (
  -- size functions only on the unread candidates
  select a.*,
         coalesce((select sum(pg_catalog.pg_total_relation_size(r)) from unnest(a.storage) r), 0)::bigint as bytes
  from agg a
)
select z.top::regclass::text as object,
       'table' as object_type,
       z.bytes as total_bytes, z.live_rows::bigint as rows,
       -- written but never read: expected only for an audit trail, outbox or archive
       z.ins + z.upd + z.del > 0 as written,
       z.ins::bigint as inserts, z.upd::bigint as updates, z.del::bigint as deletes,
       z.seq_scan::bigint as seq_scan, z.idx_scan::bigint as idx_scan, z.indexes,
       c.relkind = 'p' as partitioned, case when c.relkind = 'p' then z.partitions end as partitions,
       z.last_seq_scan, z.last_idx_scan
from sized z
join pg_catalog.pg_class c on c.oid = z.top
where z.bytes >= %(min_bytes)s::bigint
order by 1
