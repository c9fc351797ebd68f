-- uses: scope_schemas
-- Functions and procedures in scope: those of the covered schemas that no extension owns.
scope_functions as (
  select p.oid, p.proname, p.pronamespace, s.nspname, p.prokind, p.prosecdef, p.proconfig,
         p.proowner, p.proacl
  from pg_catalog.pg_proc p
  join scope_schemas s on s.oid = p.pronamespace
  where not exists (
    select 1 from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
      and d.refclassid = 'pg_catalog.pg_extension'::regclass)
)
