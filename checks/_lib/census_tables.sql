-- uses: scope_tables
-- The census (pgaudit/census.py): the distinct names of the tables in scope, partitions left
-- out (every check with a census condition judges a partitioned table at its parent).
census_tables as materialized (
  select distinct t.relname::text as relname from scope_tables t where not t.relispartition
)
