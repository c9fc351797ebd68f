/* pgaudit
id = "column_type_inconsistent"
title = "Same column name with different types across tables"
section = "1.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Column names used in two or more tables (partitions and extension tables excluded) with different data types, e.g. `user_id` uuid in one table and text in another; one finding per column name with the type distribution. Generic names (`id`, `name`, `value` …) are ignored through a parameter. Type modifiers (varchar lengths, numeric precision) are ignored and varchar counts as text unless `compare_typmod` is set. Key-like names (`*_id`) are warnings, other names info."
why = "A column name that means the same thing should have the same type: joins across mismatched types need casts that defeat indexes, FKs cannot be added between them, and data copied between the tables fails or is silently converted. `_id` columns with different types are usually a key that drifted between migrations."
example = "create table orders (user_id uuid); create table audit_events (user_id text);"
fix = "alter table audit_events alter column user_id type uuid using user_id::uuid;"
ignore_when = "The same name genuinely means different things in different tables (a `code` of a country and of a discount); add the name to `ignore_names`."
references = ["https://www.postgresql.org/docs/current/datatype.html", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DATA-TYPE"]
ok = "Columns with the same name have the same type everywhere"
impact = "Joins on these columns need casts that bypass indexes; foreign keys between them are impossible; values drift in format."
message = "column {object} has {type_count} types across {table_count} tables: {distribution}"
remediation = "Convert the minority columns to the majority type (SQL below, built for each differing column with a USING cast). ALTER COLUMN TYPE REWRITES each table under an ACCESS EXCLUSIVE lock (plan a maintenance window), fails if a value does not cast, and views referencing the column must be recreated. Where the names mean different things, rename one instead."

[severity]
default = "warning"
# a key that drifted between migrations; other names are info
info = ["not key_like"]

[labels]
type_count = "Types"
table_count = "Tables"
majority_type = "Majority type"
distribution = "Types and tables"
types = "Tables per type"
tie = "No majority (tie)"
key_like = "Key-like name (*_id)"
rewrites_table = "The fix rewrites the tables"

[params]
ignore_names = ["id", "name", "value", "data", "type", "key", "code", "description", "title", "status", "kind", "label", "position", "sort_order", "metadata", "notes", "note", "comment", "comments", "text", "content", "body", "url", "version", "state", "source", "level", "priority", "active", "enabled", "deleted", "count", "amount", "quantity", "properties", "settings", "options", "config", "payload", "details", "extra", "info"]
compare_typmod = false
*/
with cols0 as materialized (  -- in-scope columns first: the name patterns never run over system catalogs
  select c.oid as relid, a.attname::text as name, a.attnum, a.atttypid, a.atttypmod
  from scope_tables c
  cross join lateral (select a.attname, a.attnum, a.atttypid, a.atttypmod
                      from pg_catalog.pg_attribute a
                      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped offset 0) a
  where not c.relispartition
    and rtrim(a.attname::text, '_') <> all(%(ignore_names)s::text[])  -- flowable-style id_, name_
), cols as materialized (
  -- only a name with more than one type (oid, and typmod when compared) can be inconsistent:
  -- format_type and the rest run on those columns alone
  select x.relid, x.name, x.attnum,
         case when %(compare_typmod)s then format_type(x.atttypid, x.atttypmod)
              -- varchar without its length is text: not an inconsistency worth a rewrite
              when x.atttypid = 'pg_catalog.varchar'::regtype then 'text'
              else format_type(x.atttypid, null) end as coltype
  from cols0 x
  where x.name in (
    select y.name from cols0 y group by y.name
    having count(distinct case when %(compare_typmod)s then (y.atttypid, y.atttypmod)
                               when y.atttypid = 'pg_catalog.varchar'::regtype
                                 then ('pg_catalog.text'::regtype::oid, -1)
                               else (y.atttypid, -1) end) > 1)
), per_type as (
  select name, coltype, count(*) as n,
         array_agg(relid::regclass::text order by relid::regclass::text) as tables
  from cols group by name, coltype
), names as (
  select name, count(*) as type_count, sum(n)::bigint as table_count,
         (array_agg(coltype order by n desc, coltype))[1] as majority,
         max(n) as majority_n,
         string_agg(format('%%s in %%s', coltype, array_to_string(tables, ', ')), '; ' order by n desc, coltype) as distribution,
         jsonb_object_agg(coltype, to_jsonb(tables)) as types
  from per_type group by name
  having count(*) > 1
)
select quote_ident(nm.name) as object,
       'column' as object_type,
       array[nm.name] as columns,
       nm.type_count, nm.table_count, nm.majority as majority_type, nm.distribution, nm.types,
       nm.majority_n * 2 <= nm.table_count as tie,
       nm.name ~ '(^|_)(id|ID)_?$|[a-z]Id$' as key_like,
       true as rewrites_table,
       (select string_agg(format('alter table %%s alter column %%I type %%s using %%I::%%s;  -- rewrites the table',
                                 c.relid::regclass, c.name, nm.majority, c.name, nm.majority),
                          E'\n' order by c.relid::regclass::text)
        from cols c where c.name = nm.name and c.coltype <> nm.majority) as remediation
from names nm
order by 1
