-- The census the engine reads once for the checks that declare a `census` condition: the
-- distinct names of the tables in scope, the distinct (name, type, typmod) of their columns,
-- and the largest ordinary table's estimated rows and size on disk (each may be another
-- table), partitions left out (every such check judges a partitioned table at its parent).
-- One scan of pg_attribute instead of one per check: a check whose condition fails on it is
-- not applicable without a statement of its own over the catalogs.
with tables as materialized (
  select t.oid, t.relname, t.relkind, t.reltuples, t.relpages
  from scope_tables t where not t.relispartition
), cols as (
  select distinct a.attname::text as attname, a.atttypid, a.atttypmod
  from tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
)
select (select coalesce(array_agg(distinct t.relname::text), '{}') from tables t) as relnames,
       coalesce(array_agg(c.attname), '{}') as attnames,
       coalesce(array_agg(c.atttypid::int8), '{}') as atttypids,
       coalesce(array_agg(c.atttypmod), '{}') as atttypmods,
       (select coalesce(max(t.reltuples), -1)::float8 from tables t where t.relkind = 'r') as max_rows,
       (select coalesce(max(t.relpages), 0)::float8 * current_setting('block_size')::float8
        from tables t where t.relkind = 'r') as max_bytes
from cols c
