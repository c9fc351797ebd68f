/* pgaudit
id = "enum_usage"
title = "Enum types that grew or are large"
section = "1.3"
format = 2
uses = ["scope_types"]
needs = ["catalog"]
detects = "Enum types in scope: their label count, the columns that use them, and signs that labels were added later with ALTER TYPE … ADD VALUE (a fractional enumsortorder from BEFORE/AFTER, label OIDs out of sort order, or a label OID allocated far later than the others). Enums that grew, are large or are unused are reported; small stable enums in use make the 🟢 line."
why = "Enums are ideal for small fixed sets (statuses, roles): 4 bytes, ordered, self-validating. Sets that keep growing pay for it: ADD VALUE cannot run in a transaction block before PostgreSQL 12 and new labels cannot be used in the transaction that added them, labels can never be removed or reordered without recreating the type and rewriting every column, and the set cannot carry attributes (display names, active flags)."
example = "create type payment_method as enum ('card', 'sepa'); alter type payment_method add value 'paypal'; alter type payment_method add value 'klarna';"
fix = "create table payment_methods (code text primary key, label text not null, active boolean not null default true); -- and a foreign key from the using columns"
ignore_when = "The set is fixed by definition (days of the week, ISO states of a workflow) and growth is rare and planned."
references = ["https://www.postgresql.org/docs/current/datatype-enum.html", "https://www.postgresql.org/docs/current/sql-altertype.html"]
ok = "Enum types are used for small, stable value sets"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_types t where t.typtype = 'e')'''
not_applicable = "no enum type in scope"
ok_message = "Appropriate enum usage: {enum_types:plural:enum type} for small stable sets ({min_labels}–{max_labels} labels, none added later) used by {columns_using:plural:column}: {enum_list}"
impact = "Each new value is a migration with its own transaction constraints; values can never be removed or renamed safely without rewriting every using table."
message = "{object}: {labels} labels, used by {columns_using:plural:column}: {reasons}"
remediation = "Keep the enum if changes are rare and planned. For a set that grows with the business, move to a lookup table (code primary key plus attributes) referenced by a foreign key; migrating a column off an enum rewrites its table. Drop unused enum types."

[severity]
default = "info"
ok = ["_summary"]

[labels]
label_list = "Labels"
columns_using = "Columns using it"
using_columns = "Columns"
inserted_between = "Labels inserted between others"
out_of_oid_order = "Labels out of creation order"
appended_later = "Labels appended later"
other_dependents = "Other dependent objects"
enum_types = "Enum types"
min_labels = "Fewest labels"
max_labels = "Most labels"
enum_list = "Enum types"

[params]
max_labels = 20       # more labels than this: suggest a lookup table
label_oid_gap = 50    # a label OID more than this above its predecessor's was allocated later (ADD VALUE)
*/
with enums as (
  select t.oid, x.typarray
  from scope_types t
  join pg_catalog.pg_type x on x.oid = t.oid
  where t.typtype = 'e'
), labels as (
  select e.oid as typid, l.oid as lid, l.enumlabel, l.enumsortorder,
         row_number() over (partition by e.oid order by l.enumsortorder) as pos,
         row_number() over (partition by e.oid order by l.oid) as oid_pos,
         l.oid::bigint > min(l.oid::bigint) over (partition by e.oid order by l.enumsortorder
                                                 rows between 1 following and unbounded following) as later_oid,
         l.oid::bigint - max(l.oid::bigint) over (partition by e.oid order by l.enumsortorder
                                                 rows between unbounded preceding and 1 preceding) as oid_gap
  from enums e join pg_catalog.pg_enum l on l.enumtypid = e.oid
), stats as (
  select typid, count(*) as n,
         count(*) filter (where enumsortorder <> trunc(enumsortorder) or later_oid) as inserted_between,
         count(*) filter (where pos <> oid_pos) as out_of_oid_order,
         count(*) filter (where oid_gap > %(label_oid_gap)s) as appended_later,
         string_agg(quote_literal(enumlabel), ', ' order by enumsortorder) as label_list
  from labels group by typid
), usage as (
  -- one pass over pg_attribute for all the enums (and their array types), hashed by type
  select e.oid as typid, count(a.attrelid) as n,
         coalesce(array_agg(format('%%s.%%I', a.attrelid::regclass, a.attname)
                            order by a.attrelid::regclass::text, a.attname)
                  filter (where a.attname is not null), '{}') as cols
  from enums e
  left join (
    select t.typid, a.attrelid, a.attname
    from (select oid as atttypid, oid as typid from enums
          union all
          select typarray, oid from enums) t
    join pg_catalog.pg_attribute a on a.atttypid = t.atttypid and a.attnum > 0 and not a.attisdropped
    join pg_catalog.pg_class c on c.oid = a.attrelid
    where c.relkind in ('r', 'p') and not c.relispartition
  ) a on a.typid = e.oid
  group by e.oid
), raw as (
  select e.oid, s.*, coalesce(u.n, 0) as columns_using, coalesce(u.cols, '{}') as cols,
         (select count(*) from pg_catalog.pg_depend d
          where d.refclassid = 'pg_catalog.pg_type'::regclass and d.refobjid in (e.oid, e.typarray)
            and d.deptype = 'n' and d.classid <> 'pg_catalog.pg_class'::regclass) as other_dependents,
         array_remove(array[
           case when s.inserted_between + s.out_of_oid_order + s.appended_later > 0
                then format('labels added after creation (%%s inserted between others, %%s appended later)',
                            s.inserted_between, s.appended_later) end,
           case when s.n > %(max_labels)s then format('%%s labels (more than %%s)', s.n, %(max_labels)s) end,
           case when coalesce(u.n, 0) = 0 then 'not used by any table column' end], null) as reasons_raw
  from enums e join stats s on s.typid = e.oid left join usage u on u.typid = e.oid
), assessed as (
  select r.*,
         array(select case when x = 'not used by any table column' and r.other_dependents > 0
                           then format('not used by any table column (only by %%s)', case when r.other_dependents = 1 then '1 function or other object' else r.other_dependents || ' functions or other objects' end)
                           else x end
               from unnest(r.reasons_raw) x) as reasons
  from raw r
)
select a.oid::regtype::text as object,
       'type' as object_type,
       a.n as labels, a.label_list, a.columns_using, a.cols as using_columns,
       a.inserted_between, a.out_of_oid_order, a.appended_later, a.other_dependents, a.reasons,
       null::bigint as enum_types, null::bigint as min_labels, null::bigint as max_labels,
       null::text[] as enum_list, false as _summary,
       case when a.columns_using = 0 and a.other_dependents = 0 then format('drop type %%s;', a.oid::regtype) end as remediation
from assessed a
where cardinality(a.reasons) > 0
union all
-- 🟢 the enums in good use (none at all: the engine's ok line)
select quote_ident(current_database()), 'database',
       null, null, sum(a.columns_using)::bigint, null, null, null, null, null, null,
       count(*), min(a.n), max(a.n), array_agg(a.oid::regtype::text order by a.oid::regtype::text), true,
       null
from assessed a
where cardinality(a.reasons) = 0
having count(*) > 0
order by 1
