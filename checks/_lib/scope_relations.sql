-- uses: scope_schemas
-- Every relation (any relkind) in the schemas this audit covers that no extension owns: the
-- one place the audit's scope is written for relations. Checks filter by relkind.
-- It carries the pg_class columns checks read, so that no check joins pg_class back on oid:
-- PostgreSQL 15 does not remove that self-join, and it costs a second pg_class scan and a hash
-- join (autovacuum_disabled 56 -> 110 ms of server CPU at 50,000 relations). Unused columns cost
-- nothing where the CTE is inlined (referenced once).
scope_relations as (
  select c.oid, c.relname, c.relkind, c.relispartition, c.relnamespace, n.nspname,
         c.reltuples, c.relpages, c.relpersistence, c.relowner, c.reloptions,
         c.reltoastrelid, c.relfrozenxid, c.relminmxid, c.relrowsecurity, c.relforcerowsecurity,
         c.relacl
  from pg_catalog.pg_class c
  join scope_schemas n on n.oid = c.relnamespace
  where not exists (
    select 1 from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
      and d.refclassid = 'pg_catalog.pg_extension'::regclass)
)
