-- The engine's census of the columns in scope (checks/_census.sql), passed back as parameters:
-- distinct (attname, atttypid, atttypmod) of the tables in scope, partitions left out. For a
-- check's `census` condition, which reads no catalog.
census_columns as (
  select c.attname, c.atttypid::oid as atttypid, c.atttypmod
  from unnest(%(census_attnames)s::text[], %(census_atttypids)s::int8[],
              %(census_atttypmods)s::int4[]) as c(attname, atttypid, atttypmod)
)
