/* pgaudit
id = "identifier_requires_quoting"
title = "Identifiers that need quoting"
section = "1.1"
format = 2
uses = ["scope_relations"]
needs = ["catalog"]
detects = "Schema, table, view, column and index names that only work double-quoted: upper-case letters, spaces or other characters outside [a-z0-9_$], a leading digit, reserved words (pg_get_keywords() categories R and T), and names exactly 63 bytes long (NAMEDATALEN - 1: most likely truncated silently when created). One finding per table (its name, its columns and its indexes) and per schema. Priority low when its only names are index names (those of primary key and unique constraints included: TypeORM's PK_<hash>, Flowable's ACT_*_pkey), which only maintenance DDL types and ORMs quote themselves, or 63-byte names (info)."
why = "Unquoted identifiers fold to lower case, so \"UserId\" must be quoted in every query, by every tool and every hand-written psql session forever; forgetting the quotes gives 'column does not exist' errors or, worse, hits a different lower-case object. Reserved words break generated SQL. A 63-byte name was cut by the server, and two long names with the same prefix collide."
example = "create table \"OrderItems\" (\"Id\" bigint primary key, \"order\" int, \"unit price\" numeric);"
fix = "alter table \"OrderItems\" rename to order_items; alter table order_items rename column \"Id\" to id;"
ignore_when = "An ORM or framework owns the schema and always quotes (Prisma, EF Core defaults) and nobody writes SQL by hand; renaming would break every client at once."
references = ["https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS", "https://www.postgresql.org/docs/current/sql-keywords-appendix.html"]
ok = "No identifier needs quoting"
impact = "Every query must quote these names exactly; unquoted use fails or silently addresses another object, and hand-written SQL and tooling break."
message = "{object}: {names}"
remediation = "Rename to lower-case snake_case in the same deploy as the application change (or keep a view with the old names during the transition). The SQL renames names that only differ by case or characters; reserved words and truncated names need a name chosen by you (remediation left out). Renames take a brief ACCESS EXCLUSIVE lock, no rewrite."

[severity]
default = "warning"
# a name of exactly 63 bytes and nothing else: perhaps truncated, usable unquoted
info = ["_only_truncated"]

[priority]
default = "high"
# only index and constraint names (TypeORM's PK_<hash>): no application query names them, only
# maintenance DDL, and ORMs quote their own; a 63-byte name is usable unquoted
low = ["_only_indexes", "_only_truncated"]

[labels]
names = "Names"
suggested_renames = "Suggested renames (the others need a name chosen by you)"

[params]
ignore_names = []   # regexes of names to leave alone (e.g. a schema kept quoted on purpose)
*/
with kw as (
  select word from pg_catalog.pg_get_keywords() where catcode in ('R', 'T')
), rels as (
  select c.oid, c.relname, c.relkind, c.relispartition, c.nspname
  from scope_relations c
  where c.relkind in ('r', 'p', 'v', 'm', 'f', 'i', 'I')
), names as (
  -- (kind, relation oid, column number, name)
  select 'schema' as kind, n.oid as relid, n.oid as objid, 0::int2 as attnum, n.nspname::text as name
  from scope_schemas n
  union all
  -- an index is reported with its table: its table is looked up in bad, for flagged names only
  select case when r.relkind in ('i', 'I') then 'index' else 'relation' end,
         r.oid, r.oid, 0::int2, r.relname::text
  from rels r
  union all
  select 'column', r.oid, r.oid, a.attnum, a.attname::text
  from rels r
  cross join lateral (select a.attnum, a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped offset 0) a
  where r.relkind in ('r', 'p', 'v', 'm', 'f') and not r.relispartition
), flagged as (
  select n.*,
         array_remove(array[
           case when n.name <> lower(n.name) then 'upper case' end,
           case when lower(n.name) !~ '^[a-z_][a-z0-9_$]*$' then 'special characters' end,
           case when n.name in (select word from kw) then 'reserved word' end,
           case when octet_length(n.name) = 63 then '63 bytes (truncated?)' end], null) as reasons
  from names n
  -- a cheap test first: a name of [a-z_][a-z0-9_$]* has neither upper case nor special characters
  where (n.name !~ '^[a-z_][a-z0-9_$]*$' or n.name in (select word from kw) or octet_length(n.name) = 63)
    and not exists (select 1 from unnest(%(ignore_names)s::text[]) p(re) where n.name ~ p.re)
), bad as (
  select f.*,
         -- the snake_case rename, when case and characters are the only problems
         case when f.reasons <@ array['upper case', 'special characters'] then
           nullif(trim(both '_' from regexp_replace(lower(regexp_replace(f.name, '([a-z0-9])([A-Z])', '\1_\2', 'g')),
                                                  '[^a-z0-9_]+', '_', 'g')), '') end as new_name
  from (
    select f.kind,
           case when f.kind = 'index'
                then coalesce((select i.indrelid from pg_catalog.pg_index i where i.indexrelid = f.objid), f.objid)
                else f.relid end as relid,
           f.objid, f.attnum, f.name, f.reasons
    from flagged f
    where cardinality(f.reasons) > 0
      and not (f.kind = 'index' and exists (     -- partition indexes are named by the server
            select 1 from pg_catalog.pg_index i join pg_catalog.pg_class t on t.oid = i.indrelid
            where i.indexrelid = f.objid and t.relispartition))
  ) f
), fixed as (
  select b.*,
         case when b.new_name is null or b.new_name ~ '^[0-9]' or b.new_name in (select word from kw)
                   or octet_length(b.new_name) > 63 then null
              -- no collision with a sibling name
              when b.kind = 'column' and exists (select 1 from pg_catalog.pg_attribute a
                     where a.attrelid = b.relid and a.attname = b.new_name and not a.attisdropped) then null
              when b.kind in ('relation', 'index') and exists (select 1 from pg_catalog.pg_class c2
                     where c2.relnamespace = (select relnamespace from pg_catalog.pg_class where oid = b.objid)
                       and c2.relname = b.new_name) then null
              when b.kind = 'schema' and exists (select 1 from pg_catalog.pg_namespace n2 where n2.nspname = b.new_name) then null
              when b.kind = 'schema' then format('alter schema %%I rename to %%I;', b.name, b.new_name)
              when b.kind = 'index' then format('alter index %%s rename to %%I;', b.objid::regclass, b.new_name)
              when b.kind = 'column' then format('alter table %%s rename column %%I to %%I;', b.relid::regclass, b.name, b.new_name)
              else format('alter %%s %%s rename to %%I;',
                          case (select relkind from pg_catalog.pg_class where oid = b.relid)
                               when 'v' then 'view' when 'm' then 'materialized view'
                               when 'f' then 'foreign table' else 'table' end,
                          b.relid::regclass, b.new_name) end as sql
  from bad b
), grouped as (
  -- one finding per schema, per index, and per relation (its own name and its columns)
  select f.kind = 'schema' as is_schema, false as is_index,
         f.relid,
         array_agg(f.name order by f.attnum) filter (where f.kind = 'column') as cols,
         jsonb_object_agg(f.name, to_jsonb(f.reasons)) as reasons,
         string_agg(format('%%s %%s (%%s)', case when f.kind = 'relation' then 'name' else f.kind end,
                           quote_ident(f.name), array_to_string(f.reasons, ', ')), '; ' order by f.attnum, f.name) as names,
         bool_and(f.sql is not null) as all_fixable,
         bool_and(f.reasons = array['63 bytes (truncated?)']) as _only_truncated,
         bool_and(f.kind = 'index') as _only_indexes,
         -- column renames before the relation rename: regclass text is computed now
         string_agg(f.sql, E'\n' order by (f.kind = 'relation'), f.kind, f.attnum, f.name) as sql
  from fixed f
  group by 1, 2, 3
)
select case when g.is_schema then quote_ident(n.nspname)
            when g.is_index then (select i.indrelid::regclass::text from pg_catalog.pg_index i where i.indexrelid = g.relid)
            else g.relid::regclass::text end as object,
       case when g.is_schema then 'schema' when g.is_index then 'index'
            when g.cols is not null and not exists (select 1 from fixed x where x.relid = g.relid and x.kind = 'relation')
              then 'column' else 'table' end as object_type,
       coalesce(g.cols, '{}') as columns,
       case when g.is_index then g.relid::regclass::text end as index,
       g.names, g.reasons, g._only_truncated, g._only_indexes,
       case when not g.all_fixable then g.sql end as suggested_renames,
       case when g.all_fixable then g.sql end as remediation
from grouped g
left join pg_catalog.pg_namespace n on g.is_schema and n.oid = g.relid
order by 1, 4 nulls first
