/* pgaudit
id = "index_bloat"
title = "Bloated B-tree indexes (estimate)"
section = "3.1"
format = 2
uses = ["scope_relations"]
needs = ["stats", "column_stats"]
detects = "B-tree indexes whose size (relpages) exceeds the size expected from their row count and the average width of their columns in pg_stats (the well-known estimate of ioguix/pgsql-bloat-estimation, with the index's fillfactor) by at least min_bloat_ratio and min_bloat_bytes. It is an estimate: expression indexes are skipped (no reliable width), partial indexes are reported as low-confidence info, indexes with a column lacking statistics or of type name are skipped. Each physical index is reported, partition indexes included (each is rebuilt on its own)."
why = "A bloated index holds mostly empty or dead space left by updates and deletes: every scan reads more pages, it takes more cache than its live entries need, and VACUUM cannot give the space back. REINDEX CONCURRENTLY rebuilds it compactly without blocking writes."
example = "delete from events where created_at < now() - interval '90 days';  -- the events_created_at_idx keeps its size"
fix = "reindex index concurrently events_created_at_idx;"
ignore_when = "The table will refill the freed space soon (a queue that cycles), or the statistics are stale (run ANALYZE first). On PostgreSQL 13+ B-tree deduplication makes indexes with many duplicate keys smaller than the estimate expects, so their bloat is understated, never invented; run pgstatindex() (pgstattuple) for an exact figure before acting on a large index."
references = ["https://github.com/ioguix/pgsql-bloat-estimation", "https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY", "https://www.postgresql.org/docs/current/btree-implementation.html#BTREE-DEDUPLICATION", "https://www.postgresql.org/docs/current/pgstattuple.html"]
ok = "No B-tree index is estimated to be bloated"
impact = "Scans read and cache more pages than the live entries need."
message = "{index} on {object}: about {_bloat_size} of {_index_size} ({bloat_pct:.1f}%) is estimated to be bloat"
remediation = "Confirm with pgstatindex() when pgstattuple is installed, then rebuild with REINDEX INDEX CONCURRENTLY (needs free disk for a second copy of the index while it runs). If it comes back quickly, tune autovacuum on the table rather than reindexing on a schedule."
replica_note = "a standby's indexes are physical copies of the primary's: the estimate holds there too, but the REINDEX must run on the primary"

[severity]
default = "warning"
# the estimate cannot tell which rows a partial index holds
info = ["confidence = 'low (partial index)'"]

[labels]
bloat_bytes = "Estimated bloat"
bloat_pct = "Estimated bloat (%)"
index_rows = "Index entries"

[params]
min_bloat_ratio = 0.5
min_bloat_bytes = 10485760
*/
with idx as (
  select i.indexrelid, i.indrelid, ic.relpages::float8 as relpages, ic.reltuples::float8 as reltuples,
         i.indnatts, i.indpred is not null as partial,
         coalesce(substring(array_to_string(ic.reloptions, ' ') from 'fillfactor=([0-9]+)')::int, 90) as fillfactor,
         coalesce(array_to_string(ic.reloptions, ' ') !~ 'deduplicate_items=(off|false|no|0)', true)
           and not i.indisunique as dedup_possible,
         tc.relname as tblname, tc.nspname
  from pg_catalog.pg_index i
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join pg_catalog.pg_am am on am.oid = ic.relam and am.amname = 'btree'
  join scope_relations tc on tc.oid = i.indrelid
  where tc.relkind in ('r', 'm')
    and ic.relkind = 'i' and i.indisvalid
    and ic.reltuples >= 0 and ic.relpages > 1
    and ic.relpages::float8 * pg_catalog.current_setting('block_size')::float8 >= %(min_bloat_bytes)s::float8
    and 0 <> all(i.indkey::int2[])              -- expression indexes: no trustworthy width
), cols as (
  select x.indexrelid,
         count(s.attname) as with_stats,
         bool_or(a.atttypid = 'pg_catalog.name'::regtype) as has_name_type,
         max(coalesce(s.null_frac, 0)) as max_null_frac,
         sum((1 - coalesce(s.null_frac, 0)) * s.avg_width) as data_width
  from idx x
  cross join lateral unnest((select i.indkey::int2[] from pg_catalog.pg_index i
                             where i.indexrelid = x.indexrelid)) k(attnum)
  join pg_catalog.pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
  left join pg_catalog.pg_stats s
    on s.schemaname = x.nspname and s.tablename = x.tblname and s.attname = a.attname and not s.inherited
  group by x.indexrelid
), est as (
  select x.*, c.data_width,
         pg_catalog.current_setting('block_size')::float8 as bs,
         -- index tuple: header (+ null bitmap) and data, each padded to MAXALIGN (8)
         (case when c.max_null_frac = 0 then 2 else 6 end) as hdr,
         c.data_width as dw
  from idx x join cols c on c.indexrelid = x.indexrelid
  where c.with_stats = x.indnatts and not c.has_name_type
), sized as (
  select e.*,
         (e.hdr + 8 - case when e.hdr %% 8 = 0 then 8 else e.hdr %% 8 end)
         + e.dw + 8 - case when e.dw = 0 then 0 when e.dw::int %% 8 = 0 then 8 else e.dw::int %% 8 end
           as tuple_width
  from est e
), calc as (
  select s.*,
         1 + ceil(s.reltuples / floor((s.bs - 16 - 24) * s.fillfactor / (100 * (4 + s.tuple_width)))) as est_pages
  from sized s
)
select c.indrelid::regclass::text as object,
       'index' as object_type,
       c.indexrelid::regclass::text as index,
       array(select a.attname::text
             from pg_catalog.pg_index i
             cross join lateral unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where i.indexrelid = c.indexrelid and k.ord <= i.indnkeyatts
             order by k.ord) as columns,
       case when c.partial then 'low (partial index)' else 'medium' end as confidence,
       (c.relpages * c.bs)::bigint as index_bytes,
       pg_catalog.pg_size_pretty((c.relpages * c.bs)::bigint) as _index_size,
       (c.est_pages * c.bs)::bigint as expected_bytes,
       ((c.relpages - c.est_pages) * c.bs)::bigint as bloat_bytes,
       pg_catalog.pg_size_pretty(((c.relpages - c.est_pages) * c.bs)::bigint) as _bloat_size,
       round((100 * (c.relpages - c.est_pages) / c.relpages)::numeric, 1)::float8 as bloat_pct,
       c.reltuples::bigint as index_rows,
       round(c.tuple_width::numeric, 1)::float8 as avg_entry_bytes,
       c.fillfactor,
       %(server_version_num)s::int >= 130000 and c.dedup_possible as deduplication_may_understate,
       (select greatest(st.last_analyze, st.last_autoanalyze)::timestamptz(0)
        from pg_catalog.pg_stat_all_tables st where st.relid = c.indrelid) as table_last_analyzed,
       format('reindex index concurrently %%s;', c.indexrelid::regclass) as remediation
from calc c
where c.relpages > c.est_pages
  and (c.relpages - c.est_pages) / c.relpages >= %(min_bloat_ratio)s::float8
  and (c.relpages - c.est_pages) * c.bs >= %(min_bloat_bytes)s::float8
order by 1, 3
