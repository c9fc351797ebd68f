-- uses: scope_tables
-- The census (pgaudit/census.py): the distinct (attname, atttypid, atttypmod) of the columns
-- of the tables in scope, partitions left out. One scan of pg_attribute for every condition.
census_columns as materialized (
  select distinct a.attname::text as attname, a.atttypid, a.atttypmod
  from scope_tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  where not t.relispartition
)
