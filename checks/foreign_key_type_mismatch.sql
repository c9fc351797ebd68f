/* pgaudit
id = "foreign_key_type_mismatch"
title = "Foreign keys whose column type differs from the referenced key"
section = "2.2"
format = 2
uses = ["scope_tables", "implied_references"]
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
message = "{object}.({_columns}) is {child_types} but {_link} {referenced}.({referenced_columns}) is {parent_types}: {consequence}"
remediation = "Make the narrower side match the wider one. Changing an integer to bigint rewrites the table and its indexes under an ACCESS EXCLUSIVE lock: on large tables add a new column, backfill in batches and swap in a short transaction instead. varchar(n) → text and widening varchar(n) are catalog-only changes. When the referenced key is the narrower integer, widen the key (its other referencing columns will then be reported until they follow)."

[severity]
default = "critical"
# nothing fails today (the referencing column is wider), or an implied key of another type
# category the name alone does not make certain
warning = ["not _can_fail", "implied and not same_category"]

[labels]
implied = "Implied by the name (no foreign key)"
child_types = "Column types"
parent_types = "Key types"
rewrites = "The fix rewrites a table"

[params]
# implied foreign keys: a column named <prefix><suffix> designates table <prefix> in one of these forms
implied_suffix = "_id"
# how <prefix> maps to a table name: singular, plural -s / -es, y -> ies
implied_forms = ["{x}", "{x}s", "{x}es", "{x}ies"]
*/
with pk1 as materialized (      -- tables with a single-column primary key a reference names
  -- staged (materialized) so each step is one hash join, never a loop per pair
  select t.oid, t.relname::text as relname, t.nspname, c.conkey[1] as att
  from scope_tables t
  join pg_catalog.pg_constraint c on c.conrelid = t.oid and c.contype = 'p'
  where not t.relispartition and cardinality(c.conkey) = 1
    and t.relname::text in (select r.name from implied_references r)
), implied as (                  -- prefer a target in the same schema; skip ambiguous names
  select distinct on (conrelid, child_att) *
  from (select r.oid as conrelid, r.attnum as child_att, p.oid as confrelid, p.att as parent_att,
               r.nspname = p.nspname as same_schema,
               count(*) over (partition by r.oid, r.attnum, r.nspname = p.nspname) as n_targets
        from implied_references r
        join pk1 p on p.relname = r.name
        where not (p.oid = r.oid and p.att = r.attnum)) i     -- the table's own key
  where n_targets = 1
  order by conrelid, child_att, same_schema desc
), pairs as (                    -- declared foreign keys (each once, at the parent) and implied ones
  select c.oid as con_oid, c.conname, c.conrelid, c.confrelid, k.ord, k.att as child_att,
         k.fatt as parent_att, false as is_implied
  from pg_catalog.pg_constraint c
  join scope_tables t on t.oid = c.conrelid
  cross join lateral unnest(c.conkey, c.confkey) with ordinality k(att, fatt, ord)
  where c.contype = 'f' and c.conparentid = 0
  union all
  select null, null, i.conrelid, i.confrelid, 1, i.child_att, i.parent_att, true
  from implied i
), att as materialized (      -- both ends' columns by index lookup (a hash join would read all of pg_attribute)
  select p.*, ca.attname as child_col, ca.atttypid as ca_typid, ca.atttypmod as ca_typmod,
         pa.attname as parent_col, pa.atttypid as pa_typid, pa.atttypmod as pa_typmod,
         (ca.atttypid, ca.atttypmod) <> (pa.atttypid, pa.atttypmod) as differs,
         coalesce(p.con_oid::text, p.conrelid::text || '.' || p.child_att::text) as grp
  from pairs p
  cross join lateral (select a.attname, a.atttypid, a.atttypmod from pg_catalog.pg_attribute a
                      where a.attrelid = p.conrelid and a.attnum = p.child_att offset 0) ca
  cross join lateral (select a.attname, a.atttypid, a.atttypmod from pg_catalog.pg_attribute a
                      where a.attrelid = p.confrelid and a.attnum = p.parent_att offset 0) pa
), typed as (
  select p.*,
         pg_catalog.format_type(p.ca_typid, p.ca_typmod) as child_type,
         pg_catalog.format_type(p.pa_typid, p.pa_typmod) as parent_type,
         ct.typcategory as child_cat, pt.typcategory as parent_cat,
         case
           when not p.differs then 'same'
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
  -- only keys with a column whose type differs go on
  from (select x.*, bool_or(x.differs) over (partition by x.grp, x.conrelid, x.confrelid) as any_differs
        from att x) p
  cross join lateral (select y.typlen, y.typcategory from pg_catalog.pg_type y
                      where y.oid = p.ca_typid offset 0) ct
  cross join lateral (select y.typlen, y.typcategory from pg_catalog.pg_type y
                      where y.oid = p.pa_typid offset 0) pt
  where p.any_differs
), grouped as (
  select grp,
         min(conname) as conname, conrelid, confrelid, bool_or(is_implied) as is_implied,
         array_agg(child_col::text order by ord) as columns,
         array_agg(parent_col::text order by ord) as parent_columns,
         array_agg(child_type order by ord) as child_types,
         array_agg(parent_type order by ord) as parent_types,
         array_agg(child_col::text order by ord) filter (where differs) as mismatched_columns,
         bool_and(child_cat = parent_cat) as same_category,
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
)
select g.conrelid::regclass::text as object,
       'table' as object_type,
       g.columns, g.columns as _columns,
       case when g.is_implied then 'by its name it designates'
            else format('foreign key %%I references', g.conname) end as _link,
       quote_ident(g.conname) as constraint, g.is_implied as implied,
       g.confrelid::regclass::text as referenced, g.parent_columns as referenced_columns,
       g.child_types, g.parent_types, g.mismatched_columns, g.same_category, g.rewrites,
       case when g.is_implied and not g.same_category
              then 'the type categories differ, so confirm the column really holds that key'
            when g.widen_parent
              then 'the referencing column is wider, so nothing fails today, but the key is the narrower type: widen the key'
            when g.narrows then 'values the key can hold do not fit the column'
            else 'joins need casts and cannot use the key''s index' end as consequence,
       g.can_fail as _can_fail,
       case when t.reltuples >= 0 then t.reltuples::bigint end as estimated_rows,
       case when g.is_implied and not g.same_category then null
            when g.widen_parent
            then format('alter table %%s %%s;%%s', g.confrelid::regclass, g.parent_alters,
                        coalesce(g.seq_alters, ''))
            else format('alter table %%s %%s;', g.conrelid::regclass, g.child_alters)
       end as remediation
from grouped g
cross join lateral (select c.reltuples from pg_catalog.pg_class c where c.oid = g.conrelid offset 0) t
order by 1, 3
