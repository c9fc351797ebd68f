/* pgaudit
id = "table_without_primary_key"
title = "Tables without a primary key"
section = "1.1"
format = 2
severity = "critical"
needs = ["catalog"]
detects = "Ordinary and partitioned tables (each partitioned table once, at its parent) with no PRIMARY KEY constraint."
why = "Rows cannot be addressed individually: updates and deletes by key are impossible, logical replication cannot replicate UPDATE/DELETE, and duplicate rows creep in."
example = "create table events (created_at timestamptz, payload jsonb);"
fix = "alter table events add column id bigint generated always as identity primary key;"
ignore_when = "Append-only staging or log tables that are truncated on every load and never updated."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS"]
ok = "Every table has a primary key"
impact = "Rows cannot be updated or deleted reliably; logical replication of UPDATE/DELETE fails."
message = "{object} has no primary key ({unique_indexes} unique index(es) could serve as one)"
remediation = "Add a primary key: an identity column (rewrites the table: plan a maintenance window on large tables), or promote a unique NOT NULL index with ADD PRIMARY KEY USING INDEX. A partitioned table's key must include its partition key."
*/
with tables as (
  select pc.oid, pc.relkind
  from pg_catalog.pg_class pc
  join pg_catalog.pg_namespace nsp on nsp.oid = pc.relnamespace
  where pc.relkind in ('r', 'p')
    and not pc.relispartition                    -- a partitioned table is reported once
    and nsp.nspname = any(%(schemas)s::text[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = pc.oid and d.deptype = 'e')
    and not exists (
      select 1 from pg_catalog.pg_constraint c where c.conrelid = pc.oid and c.contype = 'p')
), shaped as (
  select t.oid, t.relkind,
         -- the new key column must not collide with an existing one
         case when exists (select 1 from pg_catalog.pg_attribute a
                           where a.attrelid = t.oid and a.attname = 'id' and not a.attisdropped)
              then 'pk_id' else 'id' end as new_col,
         (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
          from pg_catalog.pg_partitioned_table pt
          cross join lateral unnest(pt.partattrs::int2[]) with ordinality k(attnum, ord)
          join pg_catalog.pg_attribute a on a.attrelid = pt.partrelid and a.attnum = k.attnum
          where pt.partrelid = t.oid) as part_cols,
         (select bool_or(k.attnum = 0) from pg_catalog.pg_partitioned_table pt
          cross join lateral unnest(pt.partattrs::int2[]) k(attnum)
          where pt.partrelid = t.oid) as part_expr
  from tables t
)
select s.oid::regclass::text as object,
       'table' as object_type,
       jsonb_build_object(
         'unique_indexes', (select count(*) from pg_catalog.pg_index i
                            where i.indrelid = s.oid and i.indisunique),
         'estimated_rows', greatest(c.reltuples, 0)::bigint,
         'partitioned', s.relkind = 'p') as evidence,
       case
         when s.relkind = 'p' and s.part_expr then null   -- an expression key cannot join a PK
         -- identity columns cannot be added to a partitioned table that has partitions
         when s.relkind = 'p' then format(
           'create sequence %%I.%%I;
alter table %%s add column %%I bigint not null default nextval(%%L);
alter table %%s add primary key (%%I, %%s);',
           n.nspname, c.relname || '_' || s.new_col || '_seq',
           s.oid::regclass, s.new_col,
           format('%%I.%%I', n.nspname, c.relname || '_' || s.new_col || '_seq'),
           s.oid::regclass, s.new_col, s.part_cols)
         else format(
           'alter table %%s add column %%I bigint generated always as identity primary key;',
           s.oid::regclass, s.new_col)
       end as remediation
from shaped s
join pg_catalog.pg_class c on c.oid = s.oid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
order by 1
