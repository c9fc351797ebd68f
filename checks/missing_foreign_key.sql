/* pgaudit
id = "missing_foreign_key"
title = "Columns that reference another table's key without a foreign key"
section = "2.1"
severity = "critical"
needs = ["catalog"]
detects = "Columns named after another table's key (user_id -> users.id, category_id -> categories.id, product_type_id -> product_types.id, customer_id -> customer.customer_id; singular, -s, -es, -ies and a few irregular plurals; camelCase userId too) whose type is in the same family as that key (uuid, int2/int4/int8, text/varchar/char) and which no foreign key constraint (validated or NOT VALID) includes. The referenced table is looked up in the column's own schema first, then in the other audited schemas; the referenced column must be that table's single-column primary key or a single-column unique key named `id` or like the column itself. Name-only inference cannot see references whose name does not spell the target table (contact_forms.read_by -> users.id, owner_id, parent_id): review those by hand."
why = "Without the constraint nothing stops a row from pointing at a parent that never existed or was deleted: orphaned rows accumulate silently, joins drop or duplicate data, and ON DELETE rules (CASCADE, SET NULL, RESTRICT) the application relies on never run. ORMs such as TypeORM only create the constraint when the relation is declared, so plain id columns slip through."
example = "create table generated_images (id uuid primary key, user_id uuid);  -- users(id) exists, no constraint"
fix = "alter table generated_images add constraint generated_images_user_id_fkey foreign key (user_id) references users (id) not valid;\nalter table generated_images validate constraint generated_images_user_id_fkey;"
ignore_when = "The column holds an identifier from another system that merely shares a name with a local table (an external/provider id), the reference is intentionally soft (event logs that must outlive their parents, sharded or cross-database data), or the rows live in a different database. Name-based inference has blind spots both ways: it cannot see read_by/owner_id/parent_id style references, so review those columns by hand."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-altertable.html"]
ok = "Every column named after another table's key is covered by a foreign key"
impact = "Orphaned rows and silent referential corruption; ON DELETE rules never fire."
message = "{object}.{column} looks like a reference to {referenced} but has no foreign key"
remediation = "Add the constraint NOT VALID first (takes only a brief SHARE ROW EXCLUSIVE lock on both tables and checks new rows at once), then VALIDATE CONSTRAINT, which scans the table under a lock that does not block reads or writes. VALIDATE fails if orphaned rows already exist: find them first (select ... where col is not null and not exists (select 1 from parent where parent.key = col)) and delete, repair or NULL them. Choose ON DELETE (RESTRICT, SET NULL, CASCADE) to match the relationship; the default is NO ACTION. Index the column too (see unindexed_foreign_key)."

[params]
# regular expressions with one capture group: the stem names the referenced table
column_patterns = ["^(.+)_id$", "^(.*[a-z0-9])Id$"]
# names of the referenced key, besides a key named like the column itself
key_names = ["id"]
# irregular plurals, "singular:plural"
irregular_plurals = ["person:people", "child:children", "man:men", "woman:women", "mouse:mice", "datum:data", "criterion:criteria", "index:indices", "matrix:matrices", "status:statuses", "analysis:analyses"]
# columns that are never references to a local table, whatever their name
# tables never audited by this check (schema.table), e.g. pg_partman's template tables
ignore_tables = "^partman\\.template_"
ignore_columns = "^(external|remote|provider|vendor|stripe|paypal|oauth|openid|google|facebook|apple|github|twitter|legacy|old|foreign|third_party|source_system)_"
*/
with tabs as (
  select c.oid, c.relname, n.nspname, c.relkind
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p')
    and not c.relispartition                     -- a partitioned table is reported once
    and n.nspname = any(%(schemas)s::name[])
    and format('%%s.%%s', n.nspname, c.relname) !~ %(ignore_tables)s::text
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), cols as (
  -- candidate columns: the name matches a pattern, no foreign key includes the column
  select a.relid, a.nspname, a.relname, a.attnum, a.attname, a.atttypid,
         a.pattern,
         lower(regexp_replace(substring(a.attname from a.pattern),
                              '([a-z0-9])([A-Z])', '\1_\2', 'g')) as stem
  from (
    -- the columns of each table by index range scan, the name patterns first (offset 0):
    -- the other tests run on the few columns that match
    select t.oid as relid, t.nspname, t.relname, t.relkind, a.attnum, a.attname, a.atttypid,
           p.pattern
    from tabs t
    cross join lateral (select a.attnum, a.attname, a.atttypid from pg_catalog.pg_attribute a
                        where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
                        offset 0) a
    cross join lateral (
      select pat as pattern from unnest(%(column_patterns)s::text[]) with ordinality u(pat, ord)
      where a.attname ~ pat order by ord limit 1) p
    offset 0
  ) a
  where a.attname !~* %(ignore_columns)s::text
    and not exists (
      select 1 from pg_catalog.pg_constraint f
      where f.conrelid = a.relid and f.contype = 'f' and a.attnum = any(f.conkey))
    -- a partitioned table whose every partition has its own foreign key on the column is covered
    and not (a.relkind = 'p' and not exists (
      select 1 from pg_catalog.pg_partition_tree(a.relid) pt
      where pt.isleaf and not exists (
        select 1 from pg_catalog.pg_constraint f
        join pg_catalog.pg_attribute pa on pa.attrelid = f.conrelid and pa.attnum = any(f.conkey)
        where f.conrelid = pt.relid and f.contype = 'f' and pa.attname = a.attname)))
), forms as (
  -- the table names a stem may stand for, in order of preference; the column's fields travel
  -- along, so nothing below joins back to cols (a re-scan per candidate column)
  select c.relid, c.attnum, c.attname, c.nspname, c.stem, f.form, f.ord
  from cols c
  cross join lateral (
    values (c.stem || 's', 1), (c.stem, 2), (c.stem || 'es', 3),
           (case when c.stem ~ '[^aeiou]y$' then regexp_replace(c.stem, 'y$', 'ies') end, 4),
           ((select split_part(ip, ':', 2) from unnest(%(irregular_plurals)s::text[]) ip
             where split_part(ip, ':', 1) = regexp_replace(c.stem, '^.*_', '')
             limit 1), 5)
  ) f(form, ord)
  where f.form is not null
), all_forms as (
  select relid, attnum, attname, nspname, form, ord from forms where ord < 5
  union all
  select relid, attnum, attname, nspname, regexp_replace(stem, '[^_]*$', '') || form, ord
  from forms where ord = 5
), keys as (
  -- single-column primary keys and unique keys (constraints or plain unique indexes)
  select i.indrelid as relid, i.indkey[0] as attnum, i.indisprimary
  from pg_catalog.pg_index i
  where i.indisunique and i.indisvalid and i.indnkeyatts = 1 and i.indkey[0] <> 0
    and i.indpred is null and i.indexprs is null
), targets as (
  select c.relid, c.attnum, rt.oid as target, rn.nspname as target_schema, rt.relname as target_table,
         ka.attname as key_column, ka.atttypid as key_type, k.indisprimary, c.form, c.ord,
         (rn.nspname = c.nspname) as same_schema
  from all_forms c
  join pg_catalog.pg_class rt on rt.relname = c.form and rt.relkind in ('r', 'p') and not rt.relispartition
  join pg_catalog.pg_namespace rn on rn.oid = rt.relnamespace and rn.nspname = any(%(schemas)s::name[])
  join keys k on k.relid = rt.oid
  join pg_catalog.pg_attribute ka on ka.attrelid = rt.oid and ka.attnum = k.attnum
  where rt.oid <> c.relid                        -- a table's own key is not a reference
    and (ka.attname = c.attname or ka.attname = any(%(key_names)s::text[]))
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = rt.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), typed as (
  select t.*,
         (select case when coalesce(nullif(bt.typbasetype, 0), bt.oid) in (20, 21, 23) then 'integer'
                      when coalesce(nullif(bt.typbasetype, 0), bt.oid) = 2950 then 'uuid'
                      when coalesce(nullif(bt.typbasetype, 0), bt.oid) in (25, 1043, 1042) then 'text'
                      else format_type(coalesce(nullif(bt.typbasetype, 0), bt.oid), null) end
          from pg_catalog.pg_type bt where bt.oid = c.atttypid) as col_family,
         (select case when coalesce(nullif(bt.typbasetype, 0), bt.oid) in (20, 21, 23) then 'integer'
                      when coalesce(nullif(bt.typbasetype, 0), bt.oid) = 2950 then 'uuid'
                      when coalesce(nullif(bt.typbasetype, 0), bt.oid) in (25, 1043, 1042) then 'text'
                      else format_type(coalesce(nullif(bt.typbasetype, 0), bt.oid), null) end
          from pg_catalog.pg_type bt where bt.oid = t.key_type) as key_family
  from targets t
  join cols c on c.relid = t.relid and c.attnum = t.attnum
), best as (
  select distinct on (t.relid, t.attnum) t.*,
         count(*) over (partition by t.relid, t.attnum) as candidates
  from typed t
  where t.col_family = t.key_family
    and t.col_family in ('integer', 'uuid', 'text')
  order by t.relid, t.attnum, t.same_schema desc, (t.key_column = any(%(key_names)s::text[])) desc,
           t.indisprimary desc, t.ord, t.target_schema
), named as (
  select b.*, c.attname, c.pattern, c.atttypid,
         b.relid::regclass::text as source, b.target::regclass::text as referenced,
         (select relname from pg_catalog.pg_class where oid = b.relid) || '_' || c.attname || '_fkey' as base_name
  from best b join cols c on c.relid = b.relid and c.attnum = b.attnum
), conname as (
  select nm.*,
         case when (select relkind from pg_catalog.pg_class where oid = nm.relid) = 'p' then
         (select format('%%s of %%s', count(*) filter (where exists (
                   select 1 from pg_catalog.pg_constraint f
                   join pg_catalog.pg_attribute pa on pa.attrelid = f.conrelid and pa.attnum = any(f.conkey)
                   where f.conrelid = pt.relid and f.contype = 'f' and pa.attname = nm.attname)), count(*))
          from pg_catalog.pg_partition_tree(nm.relid) pt
          where pt.isleaf) end as partitions_with_fk,
         case when octet_length(nm.base_name) <= 63 then nm.base_name
              else left(nm.base_name, case when octet_length(nm.base_name) = length(nm.base_name) then 54 else 13 end)
                   || '_' || left(md5(nm.base_name), 8) end as fk_name
  from named nm
)
select k.source as object,
       'column' as object_type,
       array[k.attname::text] as columns,
       format('%%s.%%s looks like a reference to %%s(%%s) (name pattern %%s, %%s %%s) but no foreign key covers it%%s',
              k.source, quote_ident(k.attname), k.referenced, quote_ident(k.key_column),
              k.pattern, format_type(k.atttypid, null),
              case when k.indisprimary then 'primary key' else 'unique key' end,
              case when k.partitions_with_fk is not null
                   then format(' (partitioned: %%s partitions have their own foreign key on it; add it once on the parent)', k.partitions_with_fk)
                   else '' end) as detail,
       jsonb_build_object(
         'column', k.attname,
         'pattern', k.pattern,
         'matched_table_name', k.form,
         'referenced', k.referenced,
         'referenced_column', k.key_column,
         'referenced_key', case when k.indisprimary then 'primary key' else 'unique' end,
         'same_schema', k.same_schema,
         'type', format_type(k.atttypid, null),
         'referenced_type', format_type(k.key_type, null),
         'other_candidates', k.candidates - 1,
         'partitions_with_fk', k.partitions_with_fk) as evidence,
       case when k.partitions_with_fk is not null
            -- NOT VALID foreign keys on partitioned tables need PostgreSQL 18
            then format(E'-- partitioned table: the constraint is validated at once (a scan of every partition under SHARE ROW EXCLUSIVE locks)\nalter table %%s add constraint %%I foreign key (%%I) references %%s (%%I);',
                        k.source, k.fk_name, k.attname, k.referenced, k.key_column)
            else format(E'alter table %%s add constraint %%I foreign key (%%I) references %%s (%%I) not valid;\nalter table %%s validate constraint %%I;',
                        k.source, k.fk_name, k.attname, k.referenced, k.key_column,
                        k.source, k.fk_name) end as remediation
from conname k
order by 1, 3
