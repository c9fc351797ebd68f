-- uses: scope_schemas
-- Types in scope: those of the covered schemas that no extension owns.
scope_types as (
  select t.oid, t.typname, t.typtype, t.typnamespace, s.nspname
  from pg_catalog.pg_type t
  join scope_schemas s on s.oid = t.typnamespace
  where not exists (
    select 1 from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_type'::regclass and d.objid = t.oid and d.deptype = 'e'
      and d.refclassid = 'pg_catalog.pg_extension'::regclass)
)
