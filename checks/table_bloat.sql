/* pgaudit
id = "table_bloat"
title = "Tables with estimated heap bloat"
section = "3.3"
format = 2
uses = ["scope_relations"]
needs = ["column_stats", "stats"]
locks = true
detects = "Tables (each partition on its own: bloat lives in the leaves) whose heap, by the well-known ioguix-style estimate, holds more pages than their live rows need: expected tuple size from pg_stats average widths and null fractions, tuple header and null bitmap, alignment, page header and fillfactor, against relpages. Fires past both a ratio and a byte threshold. Only tables above min_table_bytes are considered; tables never analyzed, with columns missing from pg_stats, with `name` columns, or modified heavily since their last ANALYZE are skipped and listed. TOAST is not estimated; tables whose TOAST is larger than their heap or with very wide columns are marked low confidence. With use_pgstattuple = true and the pgstattuple extension installed, pgstattuple_approx (a visibility-map-assisted scan) confirms each candidate."
why = "Dead tuples and free space left by updates and deletes make every sequential scan, backup and cache page carry empty space: queries read more pages than the data needs, the table takes more disk and memory than it should, and ordinary VACUUM only makes the space reusable, it does not return it."
example = "-- a 40 GB queue table whose live rows fit in 6 GB after a mass DELETE"
fix = "-- online, without a long exclusive lock:\n-- pg_repack --table='public.jobs' --dbname='app'\n-- or, in a maintenance window (ACCESS EXCLUSIVE lock for the whole rewrite):\n-- vacuum (full, verbose, analyze) public.jobs;"
ignore_when = "The free space is being reused: tables with a steady update/delete rate settle at some bloat (a fillfactor below 100 is intended free space and already accounted for), and shrinking them only makes them grow back. The estimate is an estimate: stale statistics, TOAST-heavy or very wide columns, and recent mass updates make it wrong; confirm with pgstattuple_approx before rewriting a large table."
references = ["https://github.com/ioguix/pgsql-bloat-estimation", "https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY", "https://www.postgresql.org/docs/current/pgstattuple.html", "https://reorg.github.io/pg_repack/"]
ok = "No table shows significant estimated heap bloat"
impact = "Scans, backups and the buffer cache carry dead space: more I/O, memory and storage for the same data."
message = "{object}: ~{bloat_pct}% of the heap ({_extra_size} of {_heap_size}) is estimated bloat"
ok_message = "No table shows significant estimated heap bloat ({tables_estimated:plural:table} above {_min_table_size} estimated; skipped: {tables_skipped})"
remediation = "Plain VACUUM (VERBOSE, ANALYZE) makes dead space reusable but will not shrink the file. To return the space, rewrite the table: pg_repack (online, needs the extension and a primary key or unique index) or VACUUM FULL / CLUSTER, which hold an ACCESS EXCLUSIVE lock for the whole rewrite and need free disk for a full copy. Then find the cause (long transactions holding back vacuum, autovacuum too slow for the table's update rate, mass deletes that should be partition drops). The SQL is given commented out on purpose: confirm the estimate first."
replica_note = "pg_stats and relpages are replicated from the primary, so the estimate is the primary's; the modification counters used to judge staleness are the standby's own."

[severity]
default = "warning"
ok = ["_all_good"]
[labels]
tuple_bytes = "Expected row size"
n_mod_since_analyze = "Rows modified since the last ANALYZE"
[params]
min_bloat_ratio = 0.3  # fire when both the estimated bloat ratio (extra pages / heap pages) and bytes pass these
min_bloat_bytes = 52428800
min_table_bytes = 52428800  # tables smaller than this are not estimated at all
max_mod_since_analyze_ratio = 0.2  # skip tables modified more than this fraction of their rows since the last ANALYZE
wide_column_bytes = 2000  # columns wider than this on average make the estimate low confidence (TOAST)
use_pgstattuple = false  # confirm candidates with pgstattuple_approx when the extension is installed (scans the table)
*/
with tabs as (
  -- each table with its columns' statistics; the counters read directly (pg_stat_user_tables aggregates every index first)
  select c.oid, c.relpages::bigint as relpages, c.reltuples, c.reloptions,
         coalesce((select tc.relpages::bigint from pg_catalog.pg_class tc where tc.oid = c.reltoastrelid), 0) as toast_pages,
         pg_catalog.pg_stat_get_mod_since_analyze(c.oid) as n_mod_since_analyze,
         coalesce(pg_catalog.pg_stat_get_last_analyze_time(c.oid), pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid)) as last_analyzed,
         count(*) as ncols, count(ps.attname) as ncols_with_stats, max(coalesce(ps.null_frac, 0)) as max_null_frac,
         sum((1 - coalesce(ps.null_frac, 0)) * coalesce(ps.avg_width, 0)) as data_width,
         max(ps.avg_width) as widest, bool_or(a.atttypid = 'pg_catalog.name'::regtype) as has_name_col
  from scope_relations s
  join pg_catalog.pg_class c on c.oid = s.oid
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  left join pg_catalog.pg_stats ps
    on ps.schemaname = s.nspname and ps.tablename = s.relname and ps.attname = a.attname and not ps.inherited
  where s.relkind in ('r', 'm')
    and c.oid <> all(%(locked)s::oid[])
    and c.relpages::float8 * current_setting('block_size')::float8 >= %(min_table_bytes)s::float8
  group by c.oid, c.relpages, c.reltuples, c.reloptions, c.reltoastrelid
), est as (
  -- a tuple: item pointer, header (+ null bitmap), data, each padded to MAXALIGN (8 on 64-bit); a page: 24-byte header, fillfactor
  select t.*, z.tpl_size, p.est_pages, greatest(t.relpages - p.est_pages, 0) as extra_pages,
         round(greatest(t.relpages - p.est_pages, 0)::numeric / nullif(t.relpages, 0), 3) as ratio,
         f.fillfactor, current_setting('block_size')::numeric as bs,
         case when t.reltuples < 0 or t.last_analyzed is null then 'never analyzed'
              when t.ncols_with_stats < t.ncols then format('%%s of %%s columns have no statistics', t.ncols - t.ncols_with_stats, t.ncols)
              when t.has_name_col then 'has columns of type name (widths not in pg_stats)'
              when coalesce(t.n_mod_since_analyze, 0) > %(max_mod_since_analyze_ratio)s::float8 * greatest(t.reltuples, 1)
                then format('%%s rows modified since the last ANALYZE', t.n_mod_since_analyze)
         end as skip_reason
  from tabs t
  cross join lateral (
    select coalesce(substring(array_to_string(t.reloptions, ' ') from 'fillfactor=([0-9]+)')::int, 100) as fillfactor,
           23 + case when t.max_null_frac > 0 then (7 + t.ncols) / 8 else 0 end as hdr) f
  cross join lateral (
    select 4 + f.hdr + t.data_width + (2 * 8) - case when f.hdr %% 8 = 0 then 8 else f.hdr %% 8 end
           - case when ceil(t.data_width)::int %% 8 = 0 then 8 else ceil(t.data_width)::int %% 8 end as tpl_size) z
  cross join lateral (
    select ceil(t.reltuples / ((current_setting('block_size')::numeric - 24) * f.fillfactor
                               / (z.tpl_size * 100)))::bigint as est_pages) p
), confirmed as (
  -- use_pgstattuple: pgstattuple_approx (a scan of each candidate) measures the free space
  select b.*, (xpath('/row/approx_free_percent/text()', q.x))[1]::text::numeric as free,
         (xpath('/row/dead_tuple_percent/text()', q.x))[1]::text::numeric as dead
  from est b
  left join lateral (
    select query_to_xml(format('select approx_free_percent, dead_tuple_percent from %%I.pgstattuple_approx(%%s::oid::regclass)',
                               n.nspname, b.oid), false, true, '') as x
    from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgstattuple' and %(use_pgstattuple)s::boolean) q on true
  where b.skip_reason is null
    and b.ratio >= %(min_bloat_ratio)s::numeric and b.extra_pages * b.bs >= %(min_bloat_bytes)s::numeric
), summary as (
  select count(*) as considered, count(*) filter (where skip_reason is null) as estimated,
         coalesce(array_to_string((array_agg(format('%%s (%%s)', oid::regclass::text, skip_reason) order by oid::regclass::text)
                                     filter (where skip_reason is not null))[1:10], '; ')
                  || case when count(skip_reason) > 10 then format('; and %%s more', count(skip_reason) - 10) else '' end,
                  'none') as skipped
  from est
)
-- one row per finding; with none, one row for the database: the 🟢 line with its numbers, or no
-- verdict when no table above min_table_bytes could be estimated at all (not a vacuous pass)
select coalesce(c.oid::regclass::text, quote_ident(current_database())) as object,
       case when c.oid is null then 'database' else 'table' end as object_type,
       c.oid is null as _all_good,
       round(c.ratio * 100)::int as bloat_pct, (c.extra_pages * c.bs)::bigint as extra_bytes,
       (c.relpages * c.bs)::bigint as heap_bytes, c.est_pages as expected_pages, c.reltuples::bigint as estimated_rows,
       pg_catalog.pg_size_pretty(c.extra_pages * c.bs) as _extra_size, pg_catalog.pg_size_pretty(c.relpages * c.bs) as _heap_size,
       round(c.tpl_size::numeric, 1)::float8 as tuple_bytes, c.fillfactor, c.toast_pages, c.last_analyzed, c.n_mod_since_analyze,
       c.toast_pages > c.relpages or coalesce(c.widest, 0) > %(wide_column_bytes)s::int as low_confidence,
       c.free::float8 as pgstattuple_approx_free_percent, c.dead::float8 as pgstattuple_approx_dead_percent,
       s.estimated as tables_estimated, s.considered as tables_considered, s.skipped as tables_skipped,
       pg_catalog.pg_size_pretty(%(min_table_bytes)s::bigint) as _min_table_size,
       case when c.oid is null and s.considered > 0 and s.estimated = 0
            then format('no table above %%s could be estimated: %%s', pg_catalog.pg_size_pretty(%(min_table_bytes)s::bigint), s.skipped)
       end as no_verdict,
       -- every line is a comment: a newline in a name would end it, so each line break continues it with '-- ';
       -- the pg_repack line is for a shell: its arguments in single quotes, ' as '\''
       case when c.oid is not null then '-- ' || regexp_replace(format(
              E'an estimate: confirm first, e.g. select * from pgstattuple_approx(%%s);\n' ||
              E'VACUUM (VERBOSE, ANALYZE) makes the space reusable but does not shrink the file.\n' ||
              E'online rewrite (needs the pg_repack extension and a primary key):\n' ||
              E'  pg_repack --table=%%s --dbname=%%s\n' ||
              E'or in a maintenance window (ACCESS EXCLUSIVE lock for the whole rewrite, needs a full copy of free disk):\n' ||
              E'  vacuum (full, verbose, analyze) %%s;',
              quote_literal(c.oid::regclass::text), '''' || replace(c.oid::regclass::text, '''', '''\''''') || '''',
              '''' || replace(current_database(), '''', '''\''''') || '''', c.oid::regclass), E'[\\r\\n]+', E'\\&-- ', 'g') end as remediation
from summary s
-- with pgstattuple confirming, candidates whose real free space is small are dropped
left join confirmed c
  on c.free is null or c.free + coalesce(c.dead, 0) >= %(min_bloat_ratio)s::numeric * 100
order by 1
