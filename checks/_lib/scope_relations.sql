-- uses: scope_schemas
-- Every relation (any relkind) in the schemas this audit covers that no extension owns: the
-- one place the audit's scope is written for relations. Checks filter by relkind.
scope_relations as (
  select c.oid, c.relname, c.relkind, c.relispartition, c.relnamespace, n.nspname,
         c.reltuples, c.relpages, c.relpersistence, c.relowner, c.reloptions
  from pg_catalog.pg_class c
  join scope_schemas n on n.oid = c.relnamespace
  where not exists (
    select 1 from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
      and d.refclassid = 'pg_catalog.pg_extension'::regclass)
)
