-- uses: scope_relations
-- Tables in scope: ordinary and partitioned tables, partitions included (relispartition says
-- which); a check that judges a partitioned table as one logical table filters
-- "not relispartition" and walks the partitions through pg_inherits.
scope_tables as (
  select r.* from scope_relations r where r.relkind in ('r', 'p')
)
