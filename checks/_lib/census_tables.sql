-- The engine's census of the table names in scope (checks/_census.sql): distinct relname of
-- the tables in scope, partitions left out. For a check's `census` condition.
census_tables as (
  select r.relname from unnest(%(census_relnames)s::text[]) as r(relname)
)
