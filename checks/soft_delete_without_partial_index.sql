/* pgaudit
id = "soft_delete_without_partial_index"
title = "Soft-delete tables without a partial index on live rows"
section = "2.3"
severity = "warning"
needs = ["catalog", "stats"]
detects = "Tables (each partitioned table once, at its parent) with a soft-delete column (`deleted_at`, `is_deleted`, `archived_at`…: `columns`) where no valid index has a predicate selecting live rows on that column (`where deleted_at is null`, `where not is_deleted`, `where deleted = 0`). An index on deleted rows (`where is_deleted = true`) does not count. NOT NULL timestamp columns (a log of deletions, not a flag) and history tables that copy their entity's flag (`artist_versions` beside `artists`: `history_table_pattern`) are skipped. Warning on tables of at least `min_rows` rows that are scanned; info on small or unused ones."
why = "With soft deletes nearly every query adds `deleted_at is null`. Without a partial index the planner reads dead-and-buried rows through the full indexes and filters them afterwards, and the share of deleted rows only grows; a partial index holds only live rows, stays small and matches the application's predicate exactly."
example = "create table users (id bigint primary key, email text not null, deleted_at timestamptz);"
fix = "create index concurrently users_live_idx on users (id) where deleted_at is null;"
ignore_when = "Deleted rows are a negligible share and stay so (deleted rows are purged quickly), or queries never filter on live rows."
references = [
  "https://www.postgresql.org/docs/current/indexes-partial.html",
  "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
]
ok = "Soft-delete tables have partial indexes on their live rows"
impact = "Live-row queries read and filter deleted rows; the cost grows with every delete."
message = "{object}.{column} marks deleted rows but no index is partial on live rows"
remediation = "Create a partial index on the columns live-row queries filter or sort by (the primary key by default, as the review's `create index … (id) where deleted_at is null`), with CREATE INDEX CONCURRENTLY (no write lock). Partial variants of the busiest foreign-key indexes usually pay off more: check the query log. On a partitioned table CONCURRENTLY is not available: the SQL builds the index on every partition under a write lock; on large tables create it per partition concurrently and attach."
replica_note = "Scan counters on a standby count only the queries it served; the catalog finding holds everywhere."

[params]
columns = ["deleted_at", "is_deleted", "archived_at", "discarded_at", "deleted", "removed_at"]
# a table named <entity><suffix> whose entity table (singular or plural) has the same column is a
# history table keeping the entity's flag, not a soft delete of its own rows
history_table_pattern = "(_versions?|_history|_histories|_audits?|_logs?|_snapshots?)$"
# below this many rows (reltuples / n_live_tup) the finding is informational
min_rows = 10000
# statistics younger than this do not lower the severity of an unscanned table
min_stats_window_s = 86400
*/
with soft as (
  select t.oid, t.relname, t.relkind, a.attnum, a.attname, a.atttypid, a.attnotnull,
         ty.typcategory, quote_ident(a.attname) as q
  from pg_catalog.pg_class t
  join pg_catalog.pg_namespace nsp on nsp.oid = t.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join pg_catalog.pg_type ty on ty.oid = a.atttypid
  where t.relkind in ('r', 'p') and not t.relispartition
    and nsp.nspname = any(%(schemas)s::name[])
    -- pg_get_* functions open the table: skip tables locked by DDL (never queue behind it)
    and t.oid <> all(%(locked)s::oid[])
    and a.attname = any(%(columns)s::text[])
    -- a history table (artist_versions) copies the flag of the entity it versions (artists)
    and not (t.relname ~* %(history_table_pattern)s and exists (
      select 1 from pg_catalog.pg_class e
      join pg_catalog.pg_attribute ea on ea.attrelid = e.oid and ea.attname = a.attname and not ea.attisdropped
      where e.relnamespace = t.relnamespace and e.relkind in ('r', 'p') and e.oid <> t.oid
        and e.relname in (select regexp_replace(t.relname, %(history_table_pattern)s, '', 'i') || sfx
                          from unnest(array['', 's', 'es']) sfx)))
    and not (a.attnotnull and ty.typcategory = 'D')     -- a NOT NULL deleted_at logs deletions
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = t.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), judged as (
  select s.*,
         exists (
           select 1 from pg_catalog.pg_index i
           cross join lateral (select pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred) p
           where i.indrelid = s.oid and i.indisvalid and i.indpred is not null
             and (strpos(p.pred, s.q || ' IS NULL') > 0
                  or strpos(p.pred, 'NOT ' || s.q) > 0
                  or strpos(p.pred, s.q || ' = false') > 0
                  or strpos(p.pred, s.q || ' IS FALSE') > 0
                  or strpos(p.pred, s.q || ' IS NOT TRUE') > 0
                  or strpos(p.pred, s.q || ' <> true') > 0
                  or strpos(p.pred, s.q || ' = 0') > 0)) as has_live_index
  from soft s
), missing as (
  select j.*,
         case when j.atttypid = 'bool'::regtype and j.attnotnull then format('not %%I', j.attname)
              when j.atttypid = 'bool'::regtype then format('%%I is not true', j.attname)
              when j.typcategory = 'N' then format('%%I = 0', j.attname)
              else format('%%I is null', j.attname) end as live_pred,
         (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
          from pg_catalog.pg_constraint c
          cross join lateral unnest(c.conkey) with ordinality k(attnum, ord)
          join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
          where c.conrelid = j.oid and c.contype = 'p') as pk_cols,
         (select quote_ident(a.attname)
          from pg_catalog.pg_constraint c
          join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
          where c.conrelid = j.oid and c.contype = 'f' and c.conparentid = 0
          order by c.conname limit 1) as fk_col
  from judged j
  where not j.has_live_index
), measured as (
  select m.*, c.reltuples,
         case when c.reltuples >= 0 or st.n_live_tup > 0
              then greatest(c.reltuples, coalesce(st.n_live_tup, 0), 0)::bigint end as est_rows,
         st.seq_scan, st.idx_scan, st.seq_tup_read,
         coalesce(%(stats_age_s)s::float8, 0) >= %(min_stats_window_s)s as window_ok
  from missing m
  join pg_catalog.pg_class c on c.oid = m.oid
  -- a partitioned table's counters are the sum over its partitions (pg_partition_tree of a
  -- plain table is the table itself)
  left join lateral (
    select sum(s.n_live_tup) as n_live_tup, sum(s.seq_scan) as seq_scan,
           sum(s.idx_scan) as idx_scan, sum(s.seq_tup_read) as seq_tup_read
    from pg_catalog.pg_stat_all_tables s
    where s.relid in (select pt.relid from pg_catalog.pg_partition_tree(m.oid) pt)
  ) st on true
), total as (
  select count(distinct oid) as n_tables from soft
)
select m.oid::regclass::text as object,
       'table' as object_type,
       array[m.attname::text] as columns,
       case when coalesce(m.est_rows, 0) >= %(min_rows)s
             and not (m.window_ok and coalesce(m.seq_scan, 0) + coalesce(m.idx_scan, 0) = 0)
            then 'warning' else 'info' end as severity,
       jsonb_build_object(
         'column', m.attname,
         'matched_column_name', m.attname,
         'estimated_rows', m.est_rows,
         'analyzed', m.reltuples >= 0,
         'seq_scan', m.seq_scan, 'idx_scan', m.idx_scan, 'seq_tup_read', m.seq_tup_read,
         'stats_window_s', round(%(stats_age_s)s::numeric),
         'stats_window_ok', m.window_ok,
         'index_columns', coalesce(m.pk_cols, m.fk_col)) as evidence,
       format('%%s.%%I marks deleted rows but no index is partial on live rows (where %%s); %%s%%s',
              m.oid::regclass, m.attname, m.live_pred,
              coalesce('~' || m.est_rows || ' rows', 'size unknown (never analyzed)'),
              case when m.seq_scan is null then ''
                   else format(', %%s sequential and %%s index scans in the last %%s',
                               m.seq_scan, coalesce(m.idx_scan, 0),
                               coalesce(round(%(stats_age_s)s::numeric / 3600) || ' h of statistics', 'unknown statistics window')) end)
         || case when coalesce(m.pk_cols, m.fk_col) is null
                 then '; no primary key or foreign key to index: index the columns of the most frequent live-row query'
                 when m.relkind = 'p'
                 then '; partitioned: the index is built on every partition under a write lock'
                 else '' end as detail,
       case when coalesce(m.pk_cols, m.fk_col) is not null then
         format('create index%%s %%I on %%s (%%s) where %%s;',
                case when m.relkind = 'p' then '' else ' concurrently' end,
                -- byte-bounded stems (whole characters): PostgreSQL truncates names at 63 bytes
                (select left(m.relname, max(k)) from generate_series(0, length(m.relname)) k where octet_length(left(m.relname, k)) <= 35) || '_'
                || (select left(m.attname, max(k)) from generate_series(0, length(m.attname)) k where octet_length(left(m.attname, k)) <= 15) || '_live_idx', m.oid::regclass, coalesce(m.pk_cols, m.fk_col), m.live_pred)
       end as remediation
from measured m
union all
select quote_ident(current_database()), 'database', array[]::text[], 'ok',
       jsonb_build_object('soft_delete_tables', t.n_tables),
       format('Soft deletes used consistently: %%s table(s) with a soft-delete column, all with partial indexes on live rows',
              t.n_tables),
       null
from total t
where t.n_tables > 0 and not exists (select 1 from missing)
order by 1, 3
