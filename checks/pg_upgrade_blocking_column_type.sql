/* pgaudit
id = "pg_upgrade_blocking_column_type"
title = "Columns whose type makes pg_upgrade refuse the database"
section = "5.3"
format = 2
uses = ["scope_relations"]
severity = "warning"
needs = ["catalog"]
detects = "Columns of tables (each partitioned table once, at its parent) and materialized views in scope whose type pg_upgrade's consistency check rejects, directly or wrapped in an array, a domain, a composite type or a range (the recursion pg_upgrade itself runs): the reg* types that store the OID of a catalog row pg_upgrade does not preserve (regcollation, regconfig, regdictionary, regnamespace, regoper, regoperator, regproc, regprocedure; regclass, regrole and regtype are preserved and allowed); aclitem on PostgreSQL 15 and older (its on-disk format changed in 16, so pg_upgrade to 16 or later refuses it); and system-defined composite types (the row type of a catalog or of an information_schema view), whose OIDs are not stable across versions. Types pg_upgrade rejects only from versions this tool does not audit are not looked for: abstime, reltime and tinterval (removed in 12; they cannot exist on 13+), sql_identifier (its format changed in 12), unknown (forbidden in tables since 10). Never critical: nothing breaks until the next major upgrade, which then stops at its check."
why = "pg_upgrade is the fast way to a new major version: it keeps the data files and rewrites only the catalogs, so OIDs of most catalog rows change. A column storing such an OID (a regproc holding a function, a regconfig holding a text-search configuration) would silently point at the wrong object afterwards, so pg_upgrade --check refuses the whole cluster and names the columns. Found on the day of the upgrade, this turns a planned minutes-long outage into a dump and restore of the whole database, or a hurried schema change."
example = "create table public.jobs (id bigint primary key, handler regproc not null, search_config regconfig);"
fix = "alter table public.jobs alter column handler type text using handler::text, alter column search_config type text using search_config::text;  -- cast back with ::regproc where it is used"
ignore_when = "The database will be upgraded by dump and restore or by logical replication, never by pg_upgrade (the text form of these types survives a dump)."
references = [
  "https://www.postgresql.org/docs/current/pgupgrade.html",
  "https://www.postgresql.org/docs/current/datatype-oid.html",
  "https://www.postgresql.org/docs/release/16.0/",
]
ok = "No column has a type that pg_upgrade refuses"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_relations r where r.relkind in ('r', 'p', 'm'))'''
not_applicable = "no table or materialized view in scope"
impact = "pg_upgrade refuses the cluster: the next major-version upgrade needs a dump and restore, or a schema change first."
message = "{object}: pg_upgrade refuses the type of {column_list} ({blocking_types}), so this database blocks pg_upgrade to {blocks_upgrade_to}"
remediation = "Store the name instead of the OID: ALTER TABLE … ALTER COLUMN … TYPE text USING …::text (the text form of a reg* value is the object's name, cast back with ::regproc, ::regconfig … where it is used; aclitem's text form casts back with ::aclitem). This rewrites the table under an ACCESS EXCLUSIVE lock, and views using the column must be dropped and recreated around it. Columns of a domain, composite or range over such a type, and materialized views, need their definitions changed: no SQL is given for them."

[labels]
column_list = "Columns"
column_types = "Column types"
blocking_types = "Types pg_upgrade refuses"
blocks_upgrade_to = "Blocks pg_upgrade to"
rewrites_table = "The fix rewrites the table"
*/
with recursive blocking(oid, blocking_type, from_version) as (
  -- the reg* types whose OIDs pg_upgrade does not preserve
  select t.oid, t.typname::text, 0
  from pg_catalog.pg_type t
  where t.typnamespace = 'pg_catalog'::regnamespace
    and t.typname in ('regcollation', 'regconfig', 'regdictionary', 'regnamespace', 'regoper',
                      'regoperator', 'regproc', 'regprocedure')
  union all
  -- aclitem: its on-disk format changed in PostgreSQL 16
  select 'pg_catalog.aclitem'::regtype::oid, 'aclitem', 16
  where %(server_version_num)s::int < 160000
  union all
  -- row types of system catalogs and information_schema views: OIDs not stable across versions
  select t.oid, format('%%s (a system row type)', t.oid::regtype), 0
  from pg_catalog.pg_type t
  where t.typtype = 'c'
    and (t.oid < 16384 or t.typnamespace = 'information_schema'::regnamespace)
), attrs as materialized (
  -- one pass over pg_attribute: columns and composite attributes whose type is blocked itself,
  -- an array of such a type, or user-defined (which may wrap one); built-in types are not
  select a.attrelid, a.attnum, a.attname, a.atttypid
  from pg_catalog.pg_attribute a
  where a.attnum > 0 and not a.attisdropped
    and (a.atttypid >= 16384
         or a.atttypid in (select b.oid from blocking b)
         or a.atttypid in (select t.oid from pg_catalog.pg_type t join blocking b on t.typelem = b.oid
                           where t.typcategory = 'A'))
), wrapped(oid, blocking_type, from_version, direct) as (
  select b.oid, b.blocking_type, b.from_version, true from blocking b
  union
  select * from (
    with w as (select * from wrapped)
    -- arrays of it
    select t.oid, w.blocking_type, w.from_version, w.direct
    from pg_catalog.pg_type t join w on t.typelem = w.oid and t.typtype = 'b'
    union all
    -- domains over it
    select t.oid, w.blocking_type, w.from_version, false
    from pg_catalog.pg_type t join w on t.typbasetype = w.oid and t.typtype = 'd'
    union all
    -- composite types with an attribute of it
    select t.oid, w.blocking_type, w.from_version, false
    from w
    join attrs a on a.atttypid = w.oid
    join pg_catalog.pg_class c on c.oid = a.attrelid
    join pg_catalog.pg_type t on t.oid = c.reltype and t.typtype = 'c'
    union all
    -- ranges over it
    select t.oid, w.blocking_type, w.from_version, false
    from pg_catalog.pg_type t
    join pg_catalog.pg_range r on r.rngtypid = t.oid
    join w on r.rngsubtype = w.oid
  ) x
), types as (
  -- a type blocked itself (or an array of one) is named as such; a wrapper by what it wraps
  select w.oid,
         coalesce(string_agg(distinct w.blocking_type, ', ') filter (where w.direct),
                  string_agg(distinct w.blocking_type, ', ')) as blocking_type,
         coalesce(min(w.from_version) filter (where w.direct), min(w.from_version)) as min_version,
         bool_or(w.direct) as direct
  from wrapped w
  group by w.oid
), cols as (
  select r.oid, r.relkind, a.attnum, a.attname, a.atttypid, ty.blocking_type, ty.min_version,
         ty.direct
  from scope_relations r
  join attrs a on a.attrelid = r.oid
  join types ty on ty.oid = a.atttypid
  where r.relkind in ('r', 'p', 'm') and not r.relispartition
)
select c.oid::regclass::text as object,
       case when c.relkind = 'm' then 'view' else 'table' end as object_type,
       array_agg(c.attname::text order by c.attnum) as columns,
       string_agg(quote_ident(c.attname), ', ' order by c.attnum) as column_list,
       array_agg(format_type(c.atttypid, null) order by c.attnum) as column_types,
       string_agg(distinct c.blocking_type, ', ') as blocking_types,
       case when min(c.min_version) = 0 then 'any later version' else 'PostgreSQL 16 or later' end
         as blocks_upgrade_to,
       case when c.relkind <> 'm' and bool_and(c.direct) then true end as rewrites_table,
       case when c.relkind <> 'm' and bool_and(c.direct)
            then format('alter table %%s %%s;  -- rewrites the table: maintenance window',
                        c.oid::regclass,
                        string_agg(format('alter column %%1$I type %%2$s using %%1$I::%%2$s', c.attname,
                                          case when exists (select 1 from pg_catalog.pg_type t
                                                            where t.oid = c.atttypid and t.typcategory = 'A')
                                               then 'text[]' else 'text' end),
                                   ', ' order by c.attnum)) end as remediation
from cols c
group by c.oid, c.relkind
order by 1
