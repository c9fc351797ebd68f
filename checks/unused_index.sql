/* pgaudit
id = "unused_index"
title = "Indexes never scanned"
section = "3.1"
format = 2
uses = ["scope_relations"]
severity = "warning"
needs = ["stats"]
locks = true
# "never scanned" means something only over a statistics window of a week
min_stats_age_s = 604800
detects = "Valid, non-unique indexes with no index scan (idx_scan = 0) since the statistics were last reset, over a statistics window of at least min_stats_age_s; on PostgreSQL 16+ also indexes whose last scan (last_idx_scan) is older than idle_s (30 days). Never proposed: primary-key, unique and exclusion-constraint indexes (they enforce rules even when idx_scan stays 0). A partitioned index is reported once, with the scans and size of all its partitions."
why = "An index nobody reads still costs on every INSERT, on every non-HOT UPDATE and in VACUUM, takes disk and WAL, and competes for shared buffers with the indexes that matter."
example = "create index orders_note_idx on orders (note);  -- no query filters or sorts on note"
fix = "drop index concurrently orders_note_idx;"
ignore_when = "Reads are served by replicas (their scans are not counted on the primary), the index serves rare but critical jobs (month-end reports) outside the statistics window, or an index access method that does not count idx_scan (e.g. some extensions)."
references = ["https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-INDEXES-VIEW", "https://www.postgresql.org/docs/current/sql-dropindex.html"]
ok = "Every non-unique index was scanned in the statistics window"
impact = "Write amplification, vacuum work and storage for an index no query uses."
message = "{index} on {object} ({_index_size}) has not been scanned {_unused_for}"
remediation = "Confirm on every replica (pg_stat_user_indexes there) and across a full business cycle, then drop the index with DROP INDEX CONCURRENTLY; keep its definition (evidence) to re-create it. A partitioned index cannot be dropped concurrently: plain DROP INDEX briefly takes an ACCESS EXCLUSIVE lock on the parent and every partition."
replica_note = "counters are per server: scans served by this standby are not seen on the primary and vice versa; an index unused here may be used on another node"

# Priority follows what the index costs: a few megabytes are not worth scheduling a change for
[priority]
default = "medium"
high = ["index_bytes >= high_bytes"]
low = ["index_bytes < low_bytes"]

[labels]
idx_scan = "Index scans since the statistics reset"
table_writes = "Table writes since the statistics reset"
partitioned = "Partitioned index"

[params]
min_index_bytes = 1048576
idle_s = 2592000
# priority high from this index size, low under the other
high_bytes = 1073741824
low_bytes = 67108864
*/
with cand as (
  select i.indexrelid, i.indrelid, ic.relkind as idx_kind
  from pg_catalog.pg_index i
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join scope_relations tc on tc.oid = i.indrelid
  where tc.relkind in ('r', 'p', 'm')
    and not ic.relispartition
    and i.indisvalid and not i.indisunique
    and not exists (select 1 from pg_catalog.pg_constraint con
                    where con.conindid = i.indexrelid and con.conrelid = i.indrelid
                      and con.contype in ('p', 'u', 'x'))
    and tc.oid <> all(%(locked)s::oid[])
), usage as (
  -- an index and, for a partitioned index, every partition's index
  select c.indexrelid,
         sum(s.idx_scan)::bigint as idx_scan,
         sum(s.idx_tup_read)::bigint as idx_tup_read,
         max((to_jsonb(s) ->> 'last_idx_scan')::timestamptz) as last_idx_scan,
         count(s.indexrelid) as leaf_indexes,
         array_agg(s.indexrelid order by s.indexrelid) as leaves
  from cand c
  cross join lateral (
    select c.indexrelid as relid where c.idx_kind <> 'I'
    union all
    -- the leaf indexes through pg_inherits: pg_partition_tree() would lock every one of them
    select t.relid
    from (with recursive tree(relid) as (
            select c.indexrelid
            union all
            select i.inhrelid from tree join pg_catalog.pg_inherits i on i.inhparent = tree.relid)
          select tree.relid from tree) t
    join pg_catalog.pg_class lc on lc.oid = t.relid
    where c.idx_kind = 'I' and lc.relkind <> 'I') leaf
  join pg_catalog.pg_stat_all_indexes s on s.indexrelid = leaf.relid
  group by c.indexrelid
), unused as (
  select c.*, u.idx_scan, u.idx_tup_read, u.last_idx_scan, u.leaves,
         (select sum(pg_catalog.pg_relation_size(l)) from unnest(u.leaves) l)::bigint as bytes
  from cand c join usage u on u.indexrelid = c.indexrelid
  where (u.idx_scan = 0 and u.idx_tup_read = 0)
     or u.last_idx_scan < now() - make_interval(secs => %(idle_s)s::float8)
)
select u.indrelid::regclass::text as object,
       'index' as object_type,
       u.indexrelid::regclass::text as index,
       array(select a.attname::text
             from pg_catalog.pg_index i
             cross join lateral unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where i.indexrelid = u.indexrelid and k.ord <= i.indnkeyatts
             order by k.ord) as columns,
       case when u.idx_scan = 0 and u.idx_tup_read = 0 then 'since the statistics reset'
            else format('in the last %%s days', round(%(idle_s)s::numeric / 86400)) end as _unused_for,
       u.idx_scan,
       u.last_idx_scan,
       u.bytes as index_bytes,
       pg_catalog.pg_size_pretty(u.bytes) as _index_size,
       (select sum(coalesce(st.n_tup_ins, 0) + coalesce(st.n_tup_upd, 0) + coalesce(st.n_tup_del, 0))
        from pg_catalog.pg_stat_all_tables st
        where st.relid in (select i.indrelid from pg_catalog.pg_index i
                           where i.indexrelid = any(u.leaves)))::bigint as table_writes,
       pg_catalog.pg_get_indexdef(u.indexrelid) as definition,
       u.idx_kind = 'I' as partitioned,
       case when u.idx_kind = 'I' then format('drop index %%s;', u.indexrelid::regclass)
            else format('drop index concurrently %%s;', u.indexrelid::regclass)
       end as remediation
from unused u
where u.bytes >= %(min_index_bytes)s::bigint
order by 1, 3
