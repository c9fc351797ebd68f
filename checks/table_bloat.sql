/* pgaudit
id = "table_bloat"
title = "Tables with estimated heap bloat"
section = "3.3"
severity = "warning"
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
message = "{object}: ~{bloat_pct}% of the heap is estimated bloat"
remediation = "Plain VACUUM (VERBOSE, ANALYZE) makes dead space reusable but will not shrink the file. To return the space, rewrite the table: pg_repack (online, needs the extension and a primary key or unique index) or VACUUM FULL / CLUSTER, which hold an ACCESS EXCLUSIVE lock for the whole rewrite and need free disk for a full copy. Then find the cause (long transactions holding back vacuum, autovacuum too slow for the table's update rate, mass deletes that should be partition drops). The SQL is given commented out on purpose: confirm the estimate first."
replica_note = "pg_stats and relpages are replicated from the primary, so the estimate is the primary's; the modification counters used to judge staleness are the standby's own."

[params]
# fire when both the estimated bloat ratio (extra pages / heap pages) and bytes pass these
min_bloat_ratio = 0.3
min_bloat_bytes = 52428800
# tables smaller than this are not estimated at all
min_table_bytes = 52428800
# skip tables modified more than this fraction of their rows since the last ANALYZE
max_mod_since_analyze_ratio = 0.2
# columns wider than this on average make the estimate low confidence (TOAST)
wide_column_bytes = 2000
# confirm candidates with pgstattuple_approx when the extension is installed (scans the table)
use_pgstattuple = false
*/
with tabs as (
  select c.oid, c.relname, n.nspname, c.relpages::bigint as relpages, c.reltuples,
         c.reltoastrelid, c.reloptions,
         s.n_mod_since_analyze, coalesce(s.last_analyze, s.last_autoanalyze) as last_analyzed
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  -- pg_stat_user_tables' counters, read directly for the tables kept (the view aggregates over
  -- every relation's indexes first)
  cross join lateral (
    select pg_catalog.pg_stat_get_mod_since_analyze(c.oid) as n_mod_since_analyze,
           pg_catalog.pg_stat_get_last_analyze_time(c.oid) as last_analyze,
           pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) as last_autoanalyze) s
  where c.relkind in ('r', 'm')
    and n.nspname = any(%(schemas)s::name[])
    and c.oid <> all(%(locked)s::oid[])
    and c.relpages::float8 * current_setting('block_size')::float8 >= %(min_table_bytes)s::float8
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), cols as (
  select t.oid,
         count(*) as ncols,
         count(s.attname) as ncols_with_stats,
         max(coalesce(s.null_frac, 0)) as max_null_frac,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) as data_width,
         max(s.avg_width) as widest,
         bool_or(a.atttypid = 'pg_catalog.name'::regtype) as has_name_col
  from tabs t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  left join pg_catalog.pg_stats s
    on s.schemaname = t.nspname and s.tablename = t.relname and s.attname = a.attname and not s.inherited
  group by t.oid
), est as (
  select t.*, c.ncols, c.ncols_with_stats, c.data_width, c.widest, c.has_name_col,
         current_setting('block_size')::numeric as bs,
         8 as ma,                                       -- MAXALIGN on 64-bit servers
         24 as page_hdr,
         coalesce(substring(array_to_string(t.reloptions, ' ') from 'fillfactor=([0-9]+)')::int, 100) as fillfactor,
         23 + case when c.max_null_frac > 0 then (7 + c.ncols) / 8 else 0 end as tpl_hdr_size,
         coalesce((select tc.relpages::bigint from pg_catalog.pg_class tc where tc.oid = t.reltoastrelid), 0) as toast_pages,
         case when t.reltuples < 0 or t.last_analyzed is null then 'never analyzed'
              when c.ncols_with_stats < c.ncols then format('%%s of %%s columns have no statistics', c.ncols - c.ncols_with_stats, c.ncols)
              when c.has_name_col then 'has columns of type name (widths not in pg_stats)'
              when coalesce(t.n_mod_since_analyze, 0) > %(max_mod_since_analyze_ratio)s::float8 * greatest(t.reltuples, 1)
                then format('%%s rows modified since the last ANALYZE', t.n_mod_since_analyze)
         end as skip_reason
  from tabs t join cols c on c.oid = t.oid
), sized as (
  select e.*,
         (4 + e.tpl_hdr_size + e.data_width + (2 * e.ma)
          - case when e.tpl_hdr_size %% e.ma = 0 then e.ma else e.tpl_hdr_size %% e.ma end
          - case when ceil(e.data_width)::int %% e.ma = 0 then e.ma else ceil(e.data_width)::int %% e.ma end
         ) as tpl_size
  from est e
  where e.skip_reason is null
), judged as (
  select s.*,
         ceil(s.reltuples / ((s.bs - s.page_hdr) * s.fillfactor / (s.tpl_size * 100)))::bigint as est_pages
  from sized s
), bloat as (
  select j.*,
         greatest(j.relpages - j.est_pages, 0) as extra_pages,
         round(greatest(j.relpages - j.est_pages, 0)::numeric / nullif(j.relpages, 0), 3) as ratio,
         (j.toast_pages > j.relpages or coalesce(j.widest, 0) > %(wide_column_bytes)s::int) as low_confidence
  from judged j
), confirmed as (
  select b.*,
         case when %(use_pgstattuple)s::boolean and px.nspname is not null then
           (xpath('/row/approx_free_percent/text()',
                  query_to_xml(format('select approx_free_percent from %%I.pgstattuple_approx(%%s::oid::regclass)',
                                      px.nspname, b.oid), false, true, '')))[1]::text::numeric
         end as approx_free_percent,
         case when %(use_pgstattuple)s::boolean and px.nspname is not null then
           (xpath('/row/dead_tuple_percent/text()',
                  query_to_xml(format('select dead_tuple_percent from %%I.pgstattuple_approx(%%s::oid::regclass)',
                                      px.nspname, b.oid), false, true, '')))[1]::text::numeric
         end as dead_tuple_percent
  from bloat b
  left join (select n.nspname from pg_catalog.pg_extension x
             join pg_catalog.pg_namespace n on n.oid = x.extnamespace
             where x.extname = 'pgstattuple') px on true
  where b.ratio >= %(min_bloat_ratio)s::numeric
    and b.extra_pages * b.bs >= %(min_bloat_bytes)s::numeric
), summary as (
  select count(*) as considered,
         count(*) filter (where skip_reason is null) as estimated,
         count(*) filter (where skip_reason is not null) as n_skipped,
         (select string_agg(x.item, '; ' order by x.item)
          from (select format('%%s (%%s)', e2.oid::regclass::text, e2.skip_reason) as item
                from est e2 where e2.skip_reason is not null
                order by 1 limit 10) x)
         || case when count(*) filter (where skip_reason is not null) > 10
                 then format('; and %%s more', count(*) filter (where skip_reason is not null) - 10)
                 else '' end as skipped
  from est
), findings as (
  select c.oid::regclass::text as object, 'table' as object_type, null::text as severity,
         format('%%s: ~%%s%%%% of the heap (%%s of %%s) is estimated bloat%%s%%s',
                c.oid::regclass::text, round(c.ratio * 100), pg_catalog.pg_size_pretty(c.extra_pages * c.bs),
                pg_catalog.pg_size_pretty(c.relpages * c.bs),
                case when c.low_confidence then ' (low confidence: TOAST-heavy or very wide columns)' else '' end,
                case when c.approx_free_percent is not null
                     then format('; pgstattuple_approx: %%s%%%% free, %%s%%%% dead', round(c.approx_free_percent, 1), round(c.dead_tuple_percent, 1))
                     else '' end) as detail,
         jsonb_build_object(
           'estimate', 'ioguix-style heap estimate from pg_stats widths and null fractions; TOAST not included',
           'bloat_pct', round(c.ratio * 100), 'bloat_ratio', c.ratio,
           'extra_bytes', c.extra_pages * c.bs, 'heap_bytes', c.relpages * c.bs,
           'heap_pages', c.relpages, 'expected_pages', c.est_pages,
           'estimated_rows', c.reltuples::bigint, 'tuple_bytes', round(c.tpl_size::numeric, 1),
           'fillfactor', c.fillfactor, 'toast_pages', c.toast_pages,
           'low_confidence', c.low_confidence, 'last_analyzed', c.last_analyzed,
           'n_mod_since_analyze', c.n_mod_since_analyze,
           'tables_skipped', (select s.skipped from summary s),
           'pgstattuple_approx_free_percent', c.approx_free_percent,
           'pgstattuple_approx_dead_percent', c.dead_tuple_percent,
           'thresholds', jsonb_build_object('min_bloat_ratio', %(min_bloat_ratio)s::numeric,
                                            'min_bloat_bytes', %(min_bloat_bytes)s::bigint)) as evidence,
         format(E'-- an estimate: confirm first, e.g. select * from pgstattuple_approx(%%s);\n' ||
                E'-- VACUUM (VERBOSE, ANALYZE) makes the space reusable but does not shrink the file.\n' ||
                E'-- online rewrite (needs the pg_repack extension and a primary key):\n' ||
                E'--   pg_repack --table=%%s --dbname=%%s\n' ||
                E'-- or in a maintenance window (ACCESS EXCLUSIVE lock for the whole rewrite, needs a full copy of free disk):\n' ||
                E'--   vacuum (full, verbose, analyze) %%s;',
                -- every line is a comment: a newline in a name would end it, so continue with '-- ';
                -- the pg_repack line is for a shell: its arguments in single quotes, ' as '\''
                regexp_replace(quote_literal(c.oid::regclass::text), E'[\\r\\n]+', E'\\&-- ', 'g'),
                regexp_replace('''' || replace(c.oid::regclass::text, '''', '''\''''') || '''', E'[\\r\\n]+', E'\\&-- ', 'g'),
                regexp_replace('''' || replace(current_database(), '''', '''\''''') || '''', E'[\\r\\n]+', E'\\&-- ', 'g'),
                regexp_replace(c.oid::regclass::text, E'[\\r\\n]+', E'\\&-- ', 'g'))
           as remediation,
         null::text as no_verdict
  from confirmed c
  -- with pgstattuple confirming, drop candidates whose real free space is small
  where c.approx_free_percent is null
     or c.approx_free_percent + coalesce(c.dead_tuple_percent, 0) >= %(min_bloat_ratio)s::numeric * 100
)
select f.object, f.object_type, f.severity, f.detail, f.evidence, f.remediation, f.no_verdict
from findings f
union all
-- nothing could be estimated at all: no verdict rather than a vacuous pass
select quote_ident(current_database()), 'database', null, null, null, null,
       format('no table above %%s could be estimated: %%s', pg_catalog.pg_size_pretty(%(min_table_bytes)s::bigint), s.skipped)
from summary s
where s.considered > 0 and s.estimated = 0
union all
-- the 🟢 line with its numbers, naming the tables that were skipped
select quote_ident(current_database()), 'database', 'ok',
       format('No table shows significant estimated heap bloat (%%s table(s) above %%s estimated%%s)',
              s.estimated, pg_catalog.pg_size_pretty(%(min_table_bytes)s::bigint),
              case when s.skipped is not null then '; skipped: ' || s.skipped else '' end),
       jsonb_build_object('estimated', s.estimated, 'considered', s.considered, 'skipped', s.skipped),
       null, null
from summary s
where not exists (select 1 from findings) and not (s.considered > 0 and s.estimated = 0)
order by 1
