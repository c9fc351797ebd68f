/* pgaudit
id = "archiving_candidate"
title = "Large tables holding mostly old rows (archiving candidates)"
section = "7.2"
format = 2
uses = ["scope_tables"]
severity = "info"
raise_when = { cost_optimized = "warning" }  # storage paid for and never read weighs more
needs = ["column_stats"]
locks = true
detects = "Large tables (at least min_rows estimated rows or min_bytes on disk) whose creation-time column (a timestamp or date column named like the time_column_patterns LIKE patterns, first match by pattern order) has most of its rows older than cutoff (default 1 year), read from pg_stats alone: the most-common-value frequencies plus the share of histogram_bounds before the cutoff. No table is scanned. Tables named like an archive (archive_name_patterns) are skipped, and so are partitioned tables and their partitions: there, archiving is detaching old partitions."
why = "Rows nobody reads any more still make every sequential scan, vacuum, index rebuild, backup, restore and replica build slower and cost primary-storage prices. Moving cold rows to an archive table (or cheaper storage) keeps the hot table and its indexes small enough to stay in memory; it is the seed review's 7.2.2."
example = "-- audit_events: 80 million rows, 85 % older than a year, only the last 30 days are ever queried"
fix = "create table audit_events_archive (like audit_events including all);  -- then move rows older than a year in batches"
ignore_when = "Old rows are read regularly (history screens, regulatory queries), or retention rules forbid moving them; tables whose statistics are stale (see last_analyze in the evidence)."
references = ["https://www.postgresql.org/docs/current/view-pg-stats.html", "https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-PARMS-LIKE", "https://www.postgresql.org/docs/current/ddl-partitioning.html"]
ok = "No large table is dominated by rows older than the archiving cutoff"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  select 1 from scope_tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  where t.relkind = 'r' and not t.relispartition
    and (t.reltuples >= %(min_rows)s::float8
         or t.relpages::float8 * current_setting('block_size')::float8 >= %(min_bytes)s::float8)
    and a.attname ilike any(%(time_column_patterns)s::text[])
    and a.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                       'pg_catalog.date'::regtype))'''
not_applicable = "no table in scope is large enough to archive (min_rows, min_bytes) with a creation-time column"
census = '''
exists (select 1 from census_sizes z
        where z.max_rows >= %(min_rows)s::float8 or z.max_bytes >= %(min_bytes)s::float8)
and exists (select 1 from census_columns c
            where c.attname ilike any(%(time_column_patterns)s::text[])
              and c.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                                 'pg_catalog.date'::regtype))'''
impact = "Cold rows inflate scans, indexes, vacuum, backups and storage cost of the hot table."
message = "{object}: about {old_share_pct:.0f} % of its {rows} rows have {column} older than {cutoff} (estimated from pg_stats)"
remediation = "Move the cold rows to an archive table (or export them to object storage) and delete them from the hot table: the SQL shown does it in one transaction, which is fine for a moderate table; on a large one run the INSERT/DELETE pair in batches (by key range) off-peak, then VACUUM (ANALYZE) the table. It is DESTRUCTIVE for the source table, and fails (or cascades) when other tables reference the rows moved. For a table that keeps growing, range partitioning by the time column turns archiving into DETACH PARTITION."

[labels]
column = "Time column"
pattern = "Pattern matched"
old_share_pct = "Rows older than the cutoff (%)"
cutoff_date = "Cutoff date"
rows = "Estimated rows"
total_bytes = "Total size"
oldest_value = "Oldest value in the statistics"
histogram_buckets = "Histogram buckets"
histogram_buckets_old = "Histogram buckets before the cutoff"
mcv_old_frac = "Most-common values before the cutoff (fraction)"
null_frac = "Null fraction"
last_analyzed = "Last analyzed"
referenced_by_foreign_keys = "Foreign keys referencing it"

[params]
min_rows = 1000000
min_bytes = 1073741824
min_old_share = 0.5
cutoff = "1 year"
time_column_patterns = ["created_at", "created_on", "created", "creation_date", "creation_time", "inserted_at", "occurred_at", "logged_at", "recorded_at", "event_time", "event_at", "sent_at", "timestamp", "ts"]
archive_name_patterns = ["%archive%", "%\\_history", "%\\_hist", "%\\_bak%", "%\\_old"]
*/
with tables as (
  select c.oid, c.relname, c.nspname, c.reltuples, c.relpages
  from scope_tables c
  where c.relkind = 'r'
    and not c.relispartition
    and c.oid <> all(%(locked)s::oid[])
    and not (c.relname like any(%(archive_name_patterns)s::text[]))
    and (c.reltuples >= %(min_rows)s::float8
         or c.relpages::float8 * current_setting('block_size')::float8 >= %(min_bytes)s::float8)
), timecol as (
  select distinct on (t.oid) t.*, a.attnum, a.attname, p.pat
  from tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  cross join lateral (select u.pat, u.ord from unnest(%(time_column_patterns)s::text[]) with ordinality u(pat, ord)
                      where a.attname ilike u.pat order by u.ord limit 1) p
  where a.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                       'pg_catalog.date'::regtype)
  order by t.oid, p.ord, a.attnum
), st_raw as materialized (
  -- materialized: the casts below must only ever see these time columns' statistics
  select tc.*, s.null_frac, s.histogram_bounds::text as bounds_text,
         s.most_common_vals::text as mcv_text, s.most_common_freqs as mcf
  from timecol tc
  join pg_catalog.pg_stats s
    on s.schemaname = tc.nspname and s.tablename = tc.relname and s.attname = tc.attname
   and not s.inherited
), st as (
  select r.*, r.bounds_text::timestamptz[] as bounds, r.mcv_text::timestamptz[] as mcv,
         now() - %(cutoff)s::interval as cutoff_at
  from st_raw r
), shares as (
  select st.*,
         coalesce((select sum(f) from unnest(st.mcv, st.mcf) m(v, f) where m.v < st.cutoff_at), 0) as mcv_old,
         coalesce((select sum(f) from unnest(st.mcf) f), 0) as mcv_total,
         coalesce(cardinality(st.bounds), 0) as hist_n,
         (select count(*) from unnest(st.bounds) b where b < st.cutoff_at) as hist_old
  from st
), judged as (
  select s.*,
         s.mcv_old + greatest(1 - s.null_frac - s.mcv_total, 0)
           * case when s.hist_n < 2 then 0
                  when s.hist_old = 0 then 0
                  when s.hist_old = s.hist_n then 1
                  else (s.hist_old - 0.5) / (s.hist_n - 1) end as old_share
  from shares s
), cand as (
  select j.*,
         pg_catalog.pg_total_relation_size(j.oid) as bytes,
         (select count(*) from pg_catalog.pg_constraint fk
          where fk.contype = 'f' and fk.confrelid = j.oid and fk.conparentid = 0) as referenced_by,
         (select greatest(u.last_analyze, u.last_autoanalyze) from pg_catalog.pg_stat_user_tables u
          where u.relid = j.oid) as last_analyzed
  from judged j
  where j.old_share >= %(min_old_share)s::float8
), shaped as (
  -- the name's first 55 bytes (whole characters): a longer result would be truncated to
  -- 63 bytes, and for a 63-byte table name that is the table itself
  select c.*, format('%%I.%%I', c.nspname,
                     (select left(c.relname, max(k)) from generate_series(0, length(c.relname)) k
                      where octet_length(left(c.relname, k)) <= 55) || '_archive') as archive
  from cand c
)
select s.oid::regclass::text as object,
       'table' as object_type,
       array[s.attname::text] as columns,
       quote_ident(s.attname) as column,
       s.pat as pattern,
       round(100 * s.old_share::numeric, 1)::float8 as old_share_pct,
       %(cutoff)s::text as cutoff,
       s.cutoff_at::date as cutoff_date,
       greatest(s.reltuples, 0)::bigint as rows,
       s.bytes as total_bytes,
       least((select min(b) from unnest(s.bounds) b), (select min(v) from unnest(s.mcv) v))::date as oldest_value,
       greatest(s.hist_n - 1, 0) as histogram_buckets,
       s.hist_old as histogram_buckets_old,
       round(s.mcv_old::numeric, 3)::float8 as mcv_old_frac,
       s.null_frac,
       s.last_analyzed,
       s.referenced_by as referenced_by_foreign_keys,
       format(E'%%s\n-- On a large table run the INSERT/DELETE pair in batches off-peak, then VACUUM (ANALYZE) it.\nbegin;\ncreate table if not exists %%s (like %%s including all);\ninsert into %%s overriding system value\n  select * from %%s where %%I < now() - interval %%L;\ndelete from %%s where %%I < now() - interval %%L;\ncommit;',
              -- a newline in a name would end the comment line: continue it with '-- '
              regexp_replace(format('-- DESTRUCTIVE for %%s: moves rows whose %%s is older than %%s to %%s.',
                                    s.oid::regclass, quote_ident(s.attname), %(cutoff)s::text, s.archive),
                             E'[\\r\\n]+', E'\\&-- ', 'g'),
              s.archive, s.oid::regclass,
              s.archive, s.oid::regclass, s.attname, %(cutoff)s::text,
              s.oid::regclass, s.attname, %(cutoff)s::text) as remediation
from shaped s
order by 1
