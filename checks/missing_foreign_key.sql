/* pgaudit
id = "missing_foreign_key"
title = "Columns that reference another table's key without a foreign key"
section = "2.1"
format = 2
uses = ["scope_tables"]
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
message = "{object}.{column} looks like a reference to {referenced}({referenced_column}) (name pattern {pattern}, {type} {referenced_key}) but no foreign key covers it"
remediation = "Add the constraint NOT VALID first (takes only a brief SHARE ROW EXCLUSIVE lock on both tables and checks new rows at once), then VALIDATE CONSTRAINT, which scans the table under a lock that does not block reads or writes. VALIDATE fails if orphaned rows already exist: find them first (select ... where col is not null and not exists (select 1 from parent where parent.key = col)) and delete, repair or NULL them. Choose ON DELETE (RESTRICT, SET NULL, CASCADE) to match the relationship; the default is NO ACTION. Index the column too (see unindexed_foreign_key)."

[labels]
matched_table_name = "Table name matched"
same_schema = "In the column's schema"
other_candidates = "Other candidate tables"
partitions_with_fk = "Partitions with their own foreign key"

[params]
# regular expressions with one capture group: the stem names the referenced table
column_patterns = ["^(.+)_id$", "^(.*[a-z0-9])Id$"]
# names of the referenced key, besides a key named like the column itself
key_names = ["id"]
# irregular plurals, "singular:plural"
irregular_plurals = ["person:people", "child:children", "man:men", "woman:women", "mouse:mice", "datum:data", "criterion:criteria", "index:indices", "matrix:matrices", "status:statuses", "analysis:analyses"]
# tables never audited by this check (schema.table), e.g. pg_partman's template tables
ignore_tables = "^partman\\.template_"
# columns that are never references to a local table, whatever their name
ignore_columns = "^(external|remote|provider|vendor|stripe|paypal|oauth|openid|google|facebook|apple|github|twitter|legacy|old|foreign|third_party|source_system)_"
*/
with recursive family(typ, name) as (
  -- the key type families a reference and its key must share (a domain by its base type)
  values (20::oid, 'integer'), (21, 'integer'), (23, 'integer'), (2950, 'uuid'),
         (25, 'text'), (1043, 'text'), (1042, 'text')
), cand as (
  -- candidate columns: the name matches a pattern, no foreign key includes the column
  select a.*, fam.name as family,
         lower(regexp_replace(substring(a.attname from a.pattern),
                              '([a-z0-9])([A-Z])', '\1_\2', 'g')) as stem
  from (
    -- the columns of each table by index range scan, the name patterns first (offset 0):
    -- the other tests run on the few columns that match
    select t.oid as relid, t.nspname, t.relname, t.relkind, a.attnum, a.attname, a.atttypid,
           p.pattern
    from scope_tables t
    cross join lateral (select a.attnum, a.attname, a.atttypid from pg_catalog.pg_attribute a
                        where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
                        offset 0) a
    cross join lateral (
      select pat as pattern from unnest(%(column_patterns)s::text[]) with ordinality u(pat, ord)
      where a.attname ~ pat order by ord limit 1) p
    where not t.relispartition                     -- a partitioned table is reported once
      and format('%%s.%%s', t.nspname, t.relname) !~ %(ignore_tables)s::text
    offset 0
  ) a
  join pg_catalog.pg_type ct on ct.oid = a.atttypid
  join family fam on fam.typ = coalesce(nullif(ct.typbasetype, 0), ct.oid)
  where a.attname !~* %(ignore_columns)s::text
    and not exists (
      select 1 from pg_catalog.pg_constraint f
      where f.conrelid = a.relid and f.contype = 'f' and a.attnum = any(f.conkey))
), tree as (
  -- partitions below a partitioned candidate, via pg_inherits (pg_partition_tree() locks them all)
  select distinct c.relid as root, c.relid from cand c where c.relkind = 'p'
  union all
  select t.root, i.inhrelid from tree t join pg_catalog.pg_inherits i on i.inhparent = t.relid
), leaf_fk as (
  -- per partitioned candidate column: its leaf partitions, and those with their own foreign key on it
  select c.relid, c.attnum, count(*) as leaves,
         count(*) filter (where exists (
           select 1 from pg_catalog.pg_constraint f
           join pg_catalog.pg_attribute pa on pa.attrelid = f.conrelid and pa.attnum = any(f.conkey)
           where f.conrelid = t.relid and f.contype = 'f' and pa.attname = c.attname)) as with_fk
  from cand c
  join tree t on t.root = c.relid
  join pg_catalog.pg_class l on l.oid = t.relid and l.relkind not in ('p', 'I')
  group by c.relid, c.attnum
), forms as materialized (
  -- the table names a stem may stand for, in order of preference; the column's fields travel
  -- along, so nothing below joins back to cand (a re-scan per candidate column)
  select c.*, f.form, f.ord, case when c.relkind = 'p' then format('%%s of %%s',
                             coalesce(lf.with_fk, 0), coalesce(lf.leaves, 0)) end as partitions_with_fk
  from cand c
  left join leaf_fk lf on lf.relid = c.relid and lf.attnum = c.attnum
  cross join lateral (
    values (c.stem || 's', 1), (c.stem, 2), (c.stem || 'es', 3),
           (case when c.stem ~ '[^aeiou]y$' then regexp_replace(c.stem, 'y$', 'ies') end, 4),
           (regexp_replace(c.stem, '[^_]*$', '')                 -- irregular plurals
            || (select split_part(ip, ':', 2) from unnest(%(irregular_plurals)s::text[]) ip
                where split_part(ip, ':', 1) = regexp_replace(c.stem, '^.*_', '') limit 1), 5)
  ) f(form, ord)
  where f.form is not null
    -- a partitioned table whose every partition has its own foreign key on the column is covered
    and not (c.relkind = 'p' and coalesce(lf.leaves, 0) = coalesce(lf.with_fk, 0))
), best as (
  -- the referenced key: a single-column primary key or unique key (constraint or plain unique
  -- index) of the same type family, named like the column or like key_names
  select distinct on (c.relid, c.attnum) c.*, rt.oid as target, ka.attname as key_column,
         ka.atttypid as key_type, k.indisprimary, rt.nspname = c.nspname as same_schema,
         count(*) over (partition by c.relid, c.attnum) as candidates
  from forms c
  join scope_tables rt on rt.relname = c.form and not rt.relispartition
  join pg_catalog.pg_index k on k.indrelid = rt.oid and k.indisunique and k.indisvalid
   and k.indnkeyatts = 1 and k.indkey[0] <> 0 and k.indpred is null and k.indexprs is null
  join pg_catalog.pg_attribute ka on ka.attrelid = rt.oid and ka.attnum = k.indkey[0]
  join pg_catalog.pg_type kt on kt.oid = ka.atttypid
  join family kf on kf.typ = coalesce(nullif(kt.typbasetype, 0), kt.oid) and kf.name = c.family
  where rt.oid <> c.relid                        -- a table's own key is not a reference
    and (ka.attname = c.attname or ka.attname = any(%(key_names)s::text[]))
  order by c.relid, c.attnum, same_schema desc, (ka.attname = any(%(key_names)s::text[])) desc,
           k.indisprimary desc, c.ord, rt.nspname
)
select k.relid::regclass::text as object,
       'column' as object_type,
       array[k.attname::text] as columns,
       quote_ident(k.attname) as column, k.pattern, k.form as matched_table_name,
       k.target::regclass::text as referenced, quote_ident(k.key_column) as referenced_column,
       case when k.indisprimary then 'primary key' else 'unique key' end as referenced_key,
       k.same_schema, format_type(k.atttypid, null) as type,
       format_type(k.key_type, null) as referenced_type,
       k.candidates - 1 as other_candidates, k.partitions_with_fk,
       case when k.partitions_with_fk is not null
            -- NOT VALID foreign keys on partitioned tables need PostgreSQL 18
            then format(E'-- partitioned table: the constraint is validated at once (a scan of every partition under SHARE ROW EXCLUSIVE locks)\nalter table %%s add constraint %%I foreign key (%%I) references %%s (%%I);',
                        k.relid::regclass, n.fk_name, k.attname, k.target::regclass, k.key_column)
            else format(E'alter table %%s add constraint %%I foreign key (%%I) references %%s (%%I) not valid;\nalter table %%s validate constraint %%I;',
                        k.relid::regclass, n.fk_name, k.attname, k.target::regclass, k.key_column,
                        k.relid::regclass, n.fk_name) end as remediation
from best k
cross join lateral (select k.relname || '_' || k.attname || '_fkey' as base) b
cross join lateral (
  select case when octet_length(b.base) <= 63 then b.base
              else left(b.base, case when octet_length(b.base) = length(b.base) then 54 else 13 end)
                   || '_' || left(md5(b.base), 8) end as fk_name) n
order by 1, 3
