-- uses: scope_tables
-- Columns named like a reference (<x> + the check's implied_suffix, e.g. user_id) that no foreign
-- key includes, with the table names they designate (the check's implied_forms: user, users,
-- useres, ...): one row per (table, column, name), the same tables of different schemas
-- included. Partitions are left out (their parent speaks for them). Checks using it declare the
-- params implied_suffix and implied_forms. Materialized: the checks hash-join it by name.
implied_references as materialized (
  select t.oid, t.nspname, a.attnum, a.attname, a.atttypid, ty.typcategory, nm.name
  from scope_tables t
  -- each table's columns by index range scan (a hash join would read all of pg_attribute)
  cross join lateral (select a.attnum, a.attname, a.atttypid from pg_catalog.pg_attribute a
                      where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
                        and a.attname like '%%' || replace(%(implied_suffix)s, '_', '\_')
                        and length(a.attname) > length(%(implied_suffix)s)
                      offset 0) a
  join pg_catalog.pg_type ty on ty.oid = a.atttypid
  cross join lateral (select left(a.attname, length(a.attname) - length(%(implied_suffix)s)) as x) px
  cross join lateral (
        select distinct case when f like '%%{x}ies' then replace(f, '{x}ies', regexp_replace(px.x, 'y$', ''))
                             else replace(f, '{x}', px.x) end as name
        from unnest(%(implied_forms)s::text[]) f
        where f not like '%%{x}ies' or px.x like '%%y') nm
  where not t.relispartition
    and not exists (select 1 from pg_catalog.pg_constraint c
                    where c.conrelid = t.oid and c.contype = 'f' and a.attnum = any(c.conkey))
)
