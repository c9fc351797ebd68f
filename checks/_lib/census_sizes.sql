-- uses: scope_tables
-- The census (pgaudit/census.py): the largest ordinary table's estimated rows and size on
-- disk (each may be another table), partitions left out.
census_sizes as materialized (
  select coalesce(max(t.reltuples), -1)::float8 as max_rows,
         coalesce(max(t.relpages), 0)::float8 * current_setting('block_size')::float8 as max_bytes
  from scope_tables t where t.relkind = 'r' and not t.relispartition
)
