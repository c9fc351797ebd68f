-- The schemas this audit covers (the engine already left out system and extension schemas).
scope_schemas as (
  select n.oid, n.nspname, n.nspowner, n.nspacl
  from pg_catalog.pg_namespace n
  where n.nspname = any(%(schemas)s::name[])
)
