/* pgaudit
id = "foreign_key_type_mismatch"
title = "Foreign keys whose column type differs from the referenced key"
section = "2.2"
severity = "critical"
needs = ["catalog"]
detects = "Foreign keys (each once, at the partitioned parent) where a referencing column's type or type modifier differs from the referenced column's: integer → bigint, varchar(50) → text, varchar(36) → uuid. Also implied foreign keys: a column named <table>_id (suffix and plural forms in params) with no foreign key whose name designates an existing table's single-column primary key of another type (critical when both types are in the same category, warning when the categories differ and the relationship is less certain)."
why = "The referencing column must hold every value of the key: an integer column pointing at a bigint identity fails with 'integer out of range' the day the parent passes 2^31, usually long after the schema was written. Mismatched types also force casts in joins (a text = uuid join cannot use the index on the uuid side), confuse ORMs and hide the relationship from tools."
example = "create table orders (id bigint generated always as identity primary key);\ncreate table order_items (order_id integer references orders (id));"
fix = "alter table order_items alter column order_id type bigint;  -- rewrites order_items"
ignore_when = "A legacy column that is being migrated in steps (shadow column, backfill, swap) and is already tracked."
references = [
  "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
  "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES",
  "https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT",
]
ok = "Every foreign key column has exactly the type of the key it references"
impact = "Inserts fail once the parent key outgrows the child column; joins need casts and miss indexes."
message = "{object}: {columns} ({child_types}) references {referenced} ({parent_types})"
remediation = "Make the narrower side match the wider one. Changing an integer to bigint rewrites the table and its indexes under an ACCESS EXCLUSIVE lock: on large tables add a new column, backfill in batches and swap in a short transaction instead. varchar(n) → text and widening varchar(n) are catalog-only changes. When the referenced key is the narrower integer, widen the key (its other referencing columns will then be reported until they follow)."

[params]
# implied foreign keys: a column named <prefix><suffix> designates table <prefix> in one of these forms
implied_suffix = "_id"
# how <prefix> maps to a table name: singular, plural -s / -es, y -> ies
implied_forms = ["{x}", "{x}s", "{x}es", "{x}ies"]
*/
with rels as materialized (     -- in-scope tables and partitions, read once
  select t.oid, t.relname, nsp.nspname, t.relispartition
  from pg_catalog.pg_class t
  join pg_catalog.pg_namespace nsp on nsp.oid = t.relnamespace
  where t.relkind in ('r', 'p')
    and nsp.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = t.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), fk as (
  select c.oid, c.conname, c.conrelid, c.confrelid, k.ord, k.att as child_att, k.fatt as parent_att
  from pg_catalog.pg_constraint c
  join rels t on t.oid = c.conrelid
  cross join lateral unnest(c.conkey, c.confkey) with ordinality k(att, fatt, ord)
  where c.contype = 'f' and c.conparentid = 0
), tables as (
  select t.oid, t.relname, t.nspname
  from rels t
  where not t.relispartition
), refs as materialized (        -- columns named like references, no foreign key on them, and the names they designate
  select t.oid, t.nspname, a.attnum, a.attname, nm.name
  from tables t
  -- each table's columns by index range scan (a hash join would read all of pg_attribute)
  cross join lateral (select a.attnum, a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
                        and a.attname like '%%' || replace(%(implied_suffix)s, '_', '\_')
                        and length(a.attname) > length(%(implied_suffix)s)
                      offset 0) a
  cross join lateral (select left(a.attname, length(a.attname) - length(%(implied_suffix)s)) as x) px
  cross join lateral (
        select distinct case when f like '%%{x}ies' then replace(f, '{x}ies', regexp_replace(px.x, 'y$', ''))
                             else replace(f, '{x}', px.x) end as name
        from unnest(%(implied_forms)s::text[]) f
        where f not like '%%{x}ies' or px.x like '%%y') nm
  where not exists (select 1 from fk where fk.conrelid = t.oid and fk.child_att = a.attnum)
), pk1 as materialized (         -- tables with a single-column primary key
  -- staged (materialized) so each step is one hash join, never a loop per pair;
  -- only tables a reference names
  select t.oid, t.relname::text as relname, t.nspname, c.conkey[1] as att
  from tables t
  join pg_catalog.pg_constraint c on c.conrelid = t.oid and c.contype = 'p'
  where cardinality(c.conkey) = 1
    and t.relname::text in (select r.name from refs r)
), implied_raw as (
  select r.oid as conrelid, r.attnum as child_att, p.oid as confrelid, p.att as parent_att,
         r.attname, p.relname::name as target, r.nspname = p.nspname as same_schema,
         count(*) over (partition by r.oid, r.attnum, r.nspname = p.nspname) as n_targets
  from refs r
  join pk1 p on p.relname = r.name
  where not (p.oid = r.oid and p.att = r.attnum)           -- the table's own key
), implied as (                  -- prefer a target in the same schema; skip ambiguous names
  select distinct on (conrelid, child_att) *
  from implied_raw
  where n_targets = 1
  order by conrelid, child_att, same_schema desc
), pairs as (
  select fk.oid as con_oid, fk.conname, fk.conrelid, fk.confrelid, fk.ord, fk.child_att, fk.parent_att,
         false as is_implied
  from fk
  union all
  select null, null, i.conrelid, i.confrelid, 1, i.child_att, i.parent_att, true
  from implied i
), att as materialized (      -- both ends' columns by index lookup (a hash join would read all of pg_attribute)
  select p.*, ca.attname as ca_name, ca.atttypid as ca_typid, ca.atttypmod as ca_typmod,
         pa.attname as pa_name, pa.atttypid as pa_typid, pa.atttypmod as pa_typmod,
         coalesce(p.con_oid::text, p.conrelid::text || '.' || p.child_att::text) as grp
  from pairs p
  cross join lateral (select a.attname, a.atttypid, a.atttypmod from pg_catalog.pg_attribute a
                      where a.attrelid = p.conrelid and a.attnum = p.child_att offset 0) ca
  cross join lateral (select a.attname, a.atttypid, a.atttypmod from pg_catalog.pg_attribute a
                      where a.attrelid = p.confrelid and a.attnum = p.parent_att offset 0) pa
), differing as (              -- only keys with a column whose type differs go on
  select d.*
  from (select x.*, bool_or(x.ca_typid <> x.pa_typid or x.ca_typmod <> x.pa_typmod)
                      over (partition by x.grp, x.conrelid, x.confrelid) as any_differs
        from att x) d
  where d.any_differs
), typed as (
  select p.*, p.ca_name as child_col, p.pa_name as parent_col,
         pg_catalog.format_type(p.ca_typid, p.ca_typmod) as child_type,
         pg_catalog.format_type(p.pa_typid, p.pa_typmod) as parent_type,
         ct.typcategory as child_cat, pt.typcategory as parent_cat,
         (p.ca_typid <> p.pa_typid or p.ca_typmod <> p.pa_typmod) as differs,
         case
           when not (p.ca_typid <> p.pa_typid or p.ca_typmod <> p.pa_typmod) then 'same'
           when p.ca_typid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
            and p.pa_typid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
             then case when ct.typlen < pt.typlen then 'narrower' else 'wider' end
           when p.ca_typid in ('varchar'::regtype, 'text'::regtype, 'bpchar'::regtype)
            and p.pa_typid in ('varchar'::regtype, 'text'::regtype)
            and p.ca_typid <> 'bpchar'::regtype
             then case when p.ca_typmod = -1 then 'wider'         -- text/varchar vs varchar(n)
                       when p.pa_typmod = -1 or p.pa_typmod > p.ca_typmod then 'narrower'
                       else 'wider' end
           else 'other'
         end as relation
  from differing p
  cross join lateral (select y.typlen, y.typcategory from pg_catalog.pg_type y
                      where y.oid = p.ca_typid offset 0) ct
  cross join lateral (select y.typlen, y.typcategory from pg_catalog.pg_type y
                      where y.oid = p.pa_typid offset 0) pt
), grouped as (
  select grp,
         min(conname) as conname, conrelid, confrelid, bool_or(is_implied) as is_implied,
         array_agg(child_col::text order by ord) as columns,
         array_agg(parent_col::text order by ord) as parent_columns,
         array_agg(child_type order by ord) as child_types,
         array_agg(parent_type order by ord) as parent_types,
         bool_and(child_cat = parent_cat) as same_category,
         jsonb_agg(jsonb_build_object('column', child_col, 'type', child_type,
                                      'referenced_column', parent_col, 'referenced_type', parent_type,
                                      'child_is', relation)
                   order by ord) filter (where differs) as mismatched,
         -- only wider referencing columns: nothing fails today; the lasting fix widens the key
         bool_and(relation in ('same', 'wider')) as widen_parent,
         bool_or(relation in ('narrower', 'other')) as can_fail,
         bool_or(relation = 'narrower') as narrows,
         -- a serial key's sequence keeps its old type: widen it too
         string_agg((select format(' alter sequence %%s as %%s;', s.seqrelid::regclass, child_type)
                     from pg_catalog.pg_depend d
                     join pg_catalog.pg_sequence s on s.seqrelid = d.objid
                     where d.classid = 'pg_catalog.pg_class'::regclass and d.refobjid = confrelid
                       and d.refobjsubid = parent_att and d.deptype = 'a'
                       and s.seqtypid in ('int2'::regtype, 'int4'::regtype)
                       and relation = 'wider'), '' order by ord) as seq_alters,
         string_agg(format('alter column %%I type %%s', child_col, parent_type), ', ' order by ord)
           filter (where differs) as child_alters,
         string_agg(format('alter column %%I type %%s', parent_col, child_type), ', ' order by ord)
           filter (where differs) as parent_alters,
         bool_or(differs and (child_cat <> 'S' or parent_cat <> 'S')) as rewrites
  from typed
  group by 1, conrelid, confrelid
  having bool_or(differs)
)
select g.conrelid::regclass::text as object,
       'table' as object_type,
       g.columns,
       case when g.is_implied and not g.same_category then 'warning'
            when not g.can_fail then 'warning' end as severity,
       jsonb_build_object(
         'constraint', g.conname,
         'implied', g.is_implied,
         'implied_by_name', case when g.is_implied then g.columns[1] || ' → ' || g.confrelid::regclass::text end,
         'referenced', g.confrelid::regclass::text,
         'referenced_columns', to_jsonb(g.parent_columns),
         'child_types', array_to_string(g.child_types, ', '),
         'parent_types', array_to_string(g.parent_types, ', '),
         'mismatched', g.mismatched,
         'estimated_rows', case when t.reltuples >= 0 then t.reltuples::bigint end) as evidence,
       format('%%s.(%%s) is %%s but %%s %%s.(%%s) is %%s%%s%%s',
              g.conrelid::regclass, array_to_string(g.columns, ', '), array_to_string(g.child_types, ', '),
              case when g.is_implied
                   then 'by its name it designates' else format('foreign key %%I references', g.conname) end,
              g.confrelid::regclass, array_to_string(g.parent_columns, ', '),
              array_to_string(g.parent_types, ', '),
              case when g.is_implied and not g.same_category
                     then ': different type categories, so confirm the column really holds that key; no automatic fix'
                   when g.widen_parent
                     then format(': the referencing column is wider, so nothing fails today, but the key is the narrower type; widen %%s.(%%s)%%s',
                                 g.confrelid::regclass, array_to_string(g.parent_columns, ', '),
                                 case when g.rewrites then format(' (rewrites %%s)', g.confrelid::regclass)
                                      else ' (catalog-only change)' end)
                   else format(': %%s; change %%s%%s',
                               case when g.narrows then 'values the key can hold do not fit the column'
                                    else 'joins need casts and cannot use the key''s index' end,
                               g.conrelid::regclass,
                               case when g.rewrites then ' (rewrites the table)' else ' (catalog-only change)' end)
              end,
              case when g.is_implied and g.same_category then ' (no foreign key declared: see missing_foreign_key)' else '' end) as detail,
       case when g.is_implied and not g.same_category then null
            when g.widen_parent
            then format('alter table %%s %%s;%%s', g.confrelid::regclass, g.parent_alters,
                        coalesce(g.seq_alters, ''))
            else format('alter table %%s %%s;', g.conrelid::regclass, g.child_alters)
       end as remediation
from grouped g
cross join lateral (select c.reltuples from pg_catalog.pg_class c where c.oid = g.conrelid offset 0) t
order by 1, 3
