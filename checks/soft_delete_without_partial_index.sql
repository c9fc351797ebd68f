/* pgaudit
id = "soft_delete_without_partial_index"
title = "Soft-delete tables without a partial index on live rows"
section = "2.3"
format = 2
uses = ["scope_tables"]
needs = ["catalog", "stats"]
# an unscanned table is lowered to info only over a day of statistics; before that size alone judges
min_stats_age_s = 86400
stats_window = "rates"
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
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  select 1 from scope_tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join pg_catalog.pg_type ty on ty.oid = a.atttypid
  where not t.relispartition and a.attname = any(%(columns)s::text[])
    and not (a.attnotnull and ty.typcategory = 'D'))'''
not_applicable = "no table in scope has a soft-delete column"
census = '''
exists (select 1 from census_columns c where c.attname = any(%(columns)s::text[]))'''
impact = "Live-row queries read and filter deleted rows; the cost grows with every delete."
message = "{object}.{column} marks deleted rows but no index is partial on live rows (where {live_predicate})"
ok_message = "Soft deletes used consistently: {soft_delete_tables:plural:table} with a soft-delete column, all with partial indexes on live rows"
remediation = "Create a partial index on the columns live-row queries filter or sort by (the primary key by default, as the review's `create index … (id) where deleted_at is null`), with CREATE INDEX CONCURRENTLY (no write lock). Partial variants of the busiest foreign-key indexes usually pay off more: check the query log. On a partitioned table CONCURRENTLY is not available: the SQL builds the index on every partition under a write lock; on large tables create it per partition concurrently and attach."
replica_note = "Scan counters on a standby count only the queries it served; the catalog finding holds everywhere."

[severity]
default = "info"
# a large table that queries use (an unscanned one is lowered once the statistics window allows)
warning = ["estimated_rows >= min_rows and not _unscanned"]
ok = ["_all_good"]

[labels]
live_predicate = "Live-row predicate"
estimated_rows = "Estimated rows"
seq_scan = "Sequential scans"
idx_scan = "Index scans"
seq_tup_read = "Rows read by sequential scans"
index_columns = "Suggested index columns"
soft_delete_tables = "Soft-delete tables"

[params]
columns = ["deleted_at", "is_deleted", "archived_at", "discarded_at", "deleted", "removed_at"]
# a table named <entity><suffix> whose entity table (singular or plural) has the same column is a
# history table keeping the entity's flag, not a soft delete of its own rows
history_table_pattern = "(_versions?|_history|_histories|_audits?|_logs?|_snapshots?)$"
# below this many rows (reltuples / n_live_tup) the finding is informational
min_rows = 10000
*/
with recursive soft as (
  select t.oid, t.relname, t.relkind, a.attnum, a.attname, a.atttypid, a.attnotnull,
         ty.typcategory, quote_ident(a.attname) as q
  from scope_tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join pg_catalog.pg_type ty on ty.oid = a.atttypid
  where not t.relispartition
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
), tree as (
  -- each table and, below a partitioned one, every partition, walked through pg_inherits
  -- (pg_partition_tree() locks them all, and has no row for a plain table)
  select distinct m.oid as root, m.oid as relid from missing m
  union all
  select t.root, i.inhrelid from tree t join pg_catalog.pg_inherits i on i.inhparent = t.relid
), counters as (
  -- the counters pg_stat_all_tables shows, read directly and summed over the tree
  select t.root,
         sum(pg_catalog.pg_stat_get_live_tuples(t.relid))::bigint as n_live_tup,
         sum(pg_catalog.pg_stat_get_numscans(t.relid))::bigint as seq_scan,
         sum(pg_catalog.pg_stat_get_tuples_returned(t.relid))::bigint as seq_tup_read,
         (select sum(pg_catalog.pg_stat_get_numscans(i.indexrelid))::bigint
          from pg_catalog.pg_index i
          where i.indrelid in (select t2.relid from tree t2 where t2.root = t.root)) as idx_scan
  from tree t
  group by t.root
), measured as (
  select m.*, c.reltuples,
         case when c.reltuples >= 0 or st.n_live_tup > 0
              then greatest(c.reltuples, coalesce(st.n_live_tup, 0), 0)::bigint end as est_rows,
         -- scan counters only over a long enough statistics window
         case when %(rates_ok)s then st.seq_scan end as seq_scan,
         case when %(rates_ok)s then st.idx_scan end as idx_scan,
         case when %(rates_ok)s then st.seq_tup_read end as seq_tup_read
  from missing m
  join pg_catalog.pg_class c on c.oid = m.oid
  left join counters st on st.root = m.oid
), total as (
  select count(distinct oid) as n_tables from soft
)
select m.oid::regclass::text as object,
       'table' as object_type,
       array[m.attname::text] as columns,
       quote_ident(m.attname) as column,
       m.live_pred as live_predicate,
       m.est_rows as estimated_rows,
       m.reltuples >= 0 as analyzed,
       m.seq_scan, m.idx_scan, m.seq_tup_read,
       coalesce(m.pk_cols, m.fk_col) as index_columns,
       %(rates_ok)s and coalesce(m.seq_scan, 0) + coalesce(m.idx_scan, 0) = 0 as _unscanned,
       null::bigint as soft_delete_tables,
       false as _all_good,
       case when coalesce(m.pk_cols, m.fk_col) is not null then
         format('create index%%s %%I on %%s (%%s) where %%s;',
                case when m.relkind = 'p' then '' else ' concurrently' end,
                -- byte-bounded stems (whole characters): PostgreSQL truncates names at 63 bytes
                (select left(m.relname, max(k)) from generate_series(0, length(m.relname)) k where octet_length(left(m.relname, k)) <= 35) || '_'
                || (select left(m.attname, max(k)) from generate_series(0, length(m.attname)) k where octet_length(left(m.attname, k)) <= 15) || '_live_idx', m.oid::regclass, coalesce(m.pk_cols, m.fk_col), m.live_pred)
       end as remediation
from measured m
union all
select quote_ident(current_database()), 'database', array[]::text[],
       null, null, null, null, null, null, null, null, false, t.n_tables, true, null
from total t
where t.n_tables > 0 and not exists (select 1 from missing)
order by 1, 3
