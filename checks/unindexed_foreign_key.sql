/* pgaudit
id = "unindexed_foreign_key"
title = "Foreign keys without an index on the referencing columns"
section = "3.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog", "stats"]
min_stats_age_s = 3600  # write rates need an hour of statistics; before that the size rules still judge
stats_window = "rates"
detects = "Foreign keys (each partitioned table once, at its parent) whose columns are not, in any order, the leading key columns of one valid btree or hash index of the referencing table. Columns spread over two indexes do not count; INCLUDE columns and expression columns never count; a partial index counts only when its predicate is `col IS NOT NULL` on the key columns (or a conjunction of such terms); an index on a partitioned parent counts, and so do covering indexes on every one of its partitions. Severity rises to critical when the referencing table is large (rows or bytes) or hot (inserts+updates+deletes per second since the statistics reset). Priority follows the same facts: low for a small, quiet table (under 10,000 rows and 8 MiB, under one write per second: a lookup table), high from 100,000 rows, 100 MiB or 5 writes per second, immediate where the severity is critical."
why = "Every DELETE of a parent row and every UPDATE of its key makes PostgreSQL look for referencing rows: without an index that is a sequential scan of the child table, under locks, once per parent row. ON DELETE CASCADE/SET NULL on a large child turns one delete into minutes of blocking, and joins from parent to children (the usual 'list the user's items' query) scan the child too."
example = "create table orders (id bigint primary key, customer_id bigint references customers);  -- no index on customer_id"
fix = "create index concurrently orders_customer_id_idx on orders (customer_id);"
ignore_when = "The parent table is never deleted from and its key never updated, and no query joins or filters the child by the key (e.g. an insert-only log pointing at a static lookup table) while the child is small; or an index exists whose leading columns are the key but is INVALID because a CREATE INDEX CONCURRENTLY is still running (re-run afterwards)."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY", "https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE"]
ok = "Every foreign key has an index on its referencing columns"
applies = '''exists (select 1 from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid where c.contype = 'f')'''
not_applicable = "no foreign key in scope"
impact = "Deletes and key updates on the parent scan the whole child table under lock; parent-to-child joins scan it too."
message = "{object} ({fk_columns}) -> {referenced}: no index has these columns as its leading keys ({constraints}; {_rows})"
remediation = "Create a btree index whose leading columns are the foreign key's columns, with CREATE INDEX CONCURRENTLY (no write lock; it cannot run inside a transaction block; if it fails, drop the INVALID leftover and retry). A partitioned table cannot be indexed concurrently at the parent: the SQL given creates the parent index ON ONLY, builds each partition's index concurrently and attaches it (where a partition already has an index on exactly these columns, attach that one instead of building a second). An index that starts with the key columns and goes on with others (e.g. (user_id, created_at) for user_id) already serves the FK, so where the queries also need such a composite index, create that one instead of a single-column index."
replica_note = "Write rates come from this server's counters; on a standby they reflect replay, not the primary's traffic. The verdict itself (missing index) is catalog-based and holds on a replica."

[severity]
default = "warning"
critical = ["estimated_rows >= critical_rows", "heap_bytes >= critical_bytes", "writes_per_s >= critical_writes_per_s"]  # a large or hot child: each parent delete scans it under lock
[priority]  # the child's size and traffic: a 60-row lookup table scanned per parent delete costs nothing
default = "medium"
immediate = ["estimated_rows >= critical_rows", "heap_bytes >= critical_bytes", "writes_per_s >= critical_writes_per_s"]
high = ["estimated_rows >= high_rows", "heap_bytes >= high_bytes", "writes_per_s >= high_writes_per_s"]
low = ["estimated_rows < low_rows and heap_bytes < low_bytes and not writes_per_s >= low_writes_per_s"]  # small and quiet; never analyzed (rows unknown) stays medium
[labels]
constraints = "Constraints"
fk_columns = "Key columns"
referenced = "Referenced table"
writes_per_s = "Writes per second"
declared_on_partitions = "Declared on partitions only"
[params]
critical_rows = 1000000  # severity rises to critical when the referencing table has at least this many rows ...
critical_bytes = 1073741824  # ... or this many bytes (heap pages * block size, summed over partitions) ...
critical_writes_per_s = 50.0  # ... or this many inserts+updates+deletes per second since the statistics reset
high_rows = 100000  # priority high from this many rows, bytes or writes per second (immediate at the critical ones)
high_bytes = 104857600
high_writes_per_s = 5.0
low_rows = 10000  # priority low under this many rows and bytes, with fewer writes per second
low_bytes = 8388608
low_writes_per_s = 1.0
*/
with recursive fks as (
  -- an FK declared on a partition itself (not cloned from the parent) is reported at the root
  select con.oid as conid, con.conname, con.conrelid, con.confrelid, con.conkey, cardinality(con.conkey) as nkeys,
         c.relkind, c.nspname, c.relname, case when c.relispartition then pg_catalog.pg_partition_root(c.oid) else c.oid end as report_rel
  from pg_catalog.pg_constraint con join scope_tables c on c.oid = con.conrelid
  -- FKs cloned onto partitions: parent only; pg_get_expr (partial indexes) opens the table: never queue behind DDL
  where con.contype = 'f' and con.conparentid = 0 and c.oid <> all(%(locked)s::oid[])
), tree as (
  -- the table, and below a partitioned one every partition, walked through pg_inherits (pg_partition_tree()
  -- would lock them all until the check ends); judged: where an index may serve the FK (itself, or a leaf)
  select f.conid, f.conrelid as relid, true as is_self, f.relkind, true as judged from fks f
  union all
  select t.conid, i.inhrelid, false, pc.relkind, pc.relkind not in ('p', 'I') and i.inhrelid <> all(%(locked)s::oid[])
  from tree t join pg_catalog.pg_inherits i on i.inhparent = t.relid join pg_catalog.pg_class pc on pc.oid = i.inhrelid
  where t.relkind = 'p'
), served as materialized (
  -- (FK, relation) pairs with one valid, equality-capable index whose leading key columns are
  -- exactly the FK columns, in any order
  select distinct r.conid, r.relid, r.is_self
  from tree r join fks f on f.conid = r.conid join pg_catalog.pg_index i on i.indrelid = r.relid
  -- the access method of the first key column's operator class: no scan of pg_class
  join pg_catalog.pg_opclass oc on oc.oid = i.indclass[0] join pg_catalog.pg_am am on am.oid = oc.opcmethod
  where r.judged and i.indisvalid and i.indisready and am.amname in ('btree', 'hash')
    and i.indnkeyatts >= f.nkeys                -- INCLUDE columns come after indnkeyatts
    -- by name, since partitions may number their columns differently; 0 = expression: no match.
    -- On the table itself a one-column key is the index's first key column: no name lookups.
    and case when r.is_self and f.nkeys = 1 then i.indkey[0] = f.conkey[1]
             else (select array_agg(a.attname::text order by a.attname)
                   from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
                   join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                   where k.ord <= f.nkeys and k.attnum <> 0 having count(*) = f.nkeys)
                  = (select array_agg(a.attname::text order by a.attname) from unnest(f.conkey) k(attnum)
                     join pg_catalog.pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum) end
    -- a partial index serves the FK only when its predicate is implied by "col IS NOT NULL"
    and (i.indpred is null or not exists (
      select 1 from regexp_split_to_table(
             regexp_replace(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '^\((.*)\)$', '\1'), ' AND ') term
      where btrim(term, ' ()') <> all(
        (select array_agg(quote_ident(a.attname) || ' IS NOT NULL') from unnest(f.conkey) k(attnum)
         join pg_catalog.pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum)::text[])))
), covered as materialized (  -- once, then hashed below: never re-scanned per foreign key
  select f.conid from fks f
  where exists (select 1 from served s where s.conid = f.conid and s.is_self)
     -- a partitioned table whose every partition has its own covering index is covered too
     or (f.relkind = 'p'
         and exists (select 1 from tree r where r.conid = f.conid and r.judged and not r.is_self)
         and not exists (select 1 from tree r where r.conid = f.conid and r.judged and not r.is_self
                           and not exists (select 1 from served s where s.conid = r.conid and s.relid = r.relid)))
), sizes as (  -- the rows are in the table itself or its leaf partitions
  select t.conid, coalesce(sum(pc.reltuples) filter (where pc.reltuples >= 0), 0)::bigint as est_rows, bool_or(pc.reltuples < 0) as never_analyzed,
         sum(pc.relpages::bigint) * current_setting('block_size')::bigint as est_bytes, sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del) as writes
  from tree t join pg_catalog.pg_class pc on pc.oid = t.relid left join pg_catalog.pg_stat_user_tables s on s.relid = t.relid
  where t.relkind <> 'p' and t.conid not in (select c.conid from covered c) group by t.conid
), missing as (  -- the column names once
  select f.*, z.est_rows, z.never_analyzed, z.est_bytes, z.writes, k.* from fks f left join sizes z on z.conid = f.conid
  cross join lateral (
    select string_agg(quote_ident(a.attname), ', ' order by k.ord) as fk_columns,
           array_agg(a.attname::text order by k.ord) as cols, string_agg(a.attname, '_' order by k.ord) as name_cols
    from unnest(f.conkey) with ordinality k(attnum, ord)
    join pg_catalog.pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum) k
  where f.conid not in (select c.conid from covered c)
), fixes as (
  select m.*,
         case when m.relkind = 'p' and exists (select 1 from pg_catalog.pg_inherits ih join pg_catalog.pg_class pc on pc.oid = ih.inhrelid
                                               where ih.inhparent = m.conrelid and pc.relkind = 'p') then
           format(E'-- sub-partitioned table: a plain CREATE INDEX, which blocks writes to every partition while it builds\ncreate index %%I on %%s (%%s);',
                  n.idx_name, m.conrelid::regclass, m.fk_columns)
         when m.relkind = 'p' then
           format(E'create index %%I on only %%s (%%s);\n', n.idx_name, m.conrelid::regclass, m.fk_columns)
           || coalesce((
             select string_agg(format(E'create index concurrently %%I on %%s (%%s);\nalter index %%I.%%I attach partition %%I.%%I;',
                                      p.name, ih.inhrelid::regclass, m.fk_columns, m.nspname, n.idx_name, pn.nspname, p.name),
                               E'\n' order by ih.inhrelid::regclass::text)
             from pg_catalog.pg_inherits ih join pg_catalog.pg_class pc on pc.oid = ih.inhrelid
             join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
             cross join lateral (
               select case when octet_length(pc.relname || '_' || m.name_cols || '_idx') <= 63 then pc.relname || '_' || m.name_cols || '_idx'
                           else left(pc.relname, 13) || '_' || left(md5(n.idx_name || pc.relname), 12) || '_idx' end as name) p
             where ih.inhparent = m.conrelid), '')
         else format('create index concurrently %%I on %%s (%%s);', n.idx_name, m.conrelid::regclass, m.fk_columns)
         end as remediation
  from missing m cross join lateral (select m.relname || '_' || m.name_cols || '_idx' as full_name) w
  cross join lateral (  -- PostgreSQL truncates names at 63 bytes: keep them apart with a hash
    select case when octet_length(w.full_name) <= 63 then w.full_name
                else left(w.full_name, case when octet_length(m.relname || m.name_cols) = length(m.relname || m.name_cols) then 54 else 13 end)
                     || '_' || left(md5(w.full_name), 8) end as idx_name) n
)
-- one finding per table and key; FKs declared partition by partition are grouped at the root
select f.report_rel::regclass::text as object, 'table' as object_type, f.cols as columns,
       string_agg(quote_ident(f.conname), ', ' order by f.conrelid::regclass::text) as constraints,
       f.fk_columns, f.confrelid::regclass::text as referenced,
       case when bool_or(f.never_analyzed) then null else sum(f.est_rows)::bigint end as estimated_rows, sum(f.est_bytes)::bigint as heap_bytes,
       -- a never-analyzed child has no estimate: say so rather than "~unknown rows"
       case when bool_or(f.never_analyzed) then 'rows not yet estimated: never analyzed'
            else format('~%%s rows', to_char(sum(f.est_rows), 'FM999,999,999,999')) end as _rows,
       case when %(rates_ok)s then round((sum(f.writes) / %(stats_age_s)s::float8)::numeric, 2) end as writes_per_s,
       bool_or(f.relkind = 'p') as partitioned, bool_or(f.report_rel <> f.conrelid) as declared_on_partitions,
       -- distinct: duplicate foreign keys on the same columns need the index once
       string_agg(distinct f.remediation, E'\n' order by f.remediation) as remediation
from fixes f
group by f.report_rel, f.confrelid, f.cols, f.fk_columns
order by 1, 3
