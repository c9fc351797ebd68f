/* pgaudit
id = "table_without_primary_key"
title = "Tables without a primary key"
section = "1.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Ordinary and partitioned tables (each partitioned table once, at its parent) with no PRIMARY KEY constraint. Critical when nothing else identifies a row either (no valid, non-partial unique index on NOT NULL plain columns) and the table is published for logical replication (UPDATE and DELETE then fail on this server) or holds at least `critical_rows` rows (duplicates can no longer be told apart or removed one by one; 0 by default: at any size, since a keyless design is fixed cheapest before the data comes); a table with a unique key that could serve is a warning. A pg_partman template table (named template_<schema>_<table> after a partitioned table of the database) holds no rows by design and only carries properties to new partitions: info."
why = "Rows cannot be addressed individually: updates and deletes by key are impossible, logical replication cannot replicate UPDATE/DELETE, and duplicate rows creep in."
example = "create table events (created_at timestamptz, payload jsonb);"
fix = "alter table events add column id bigint generated always as identity primary key;"
ignore_when = "Append-only staging or log tables that are truncated on every load and never updated."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS"]
ok = "Every table has a primary key"
impact = "Rows cannot be updated or deleted reliably; logical replication of UPDATE/DELETE fails."
message = "{object} has no primary key{_unique_note}"
remediation = "Add a primary key: an identity column (rewrites the table: plan a maintenance window on large tables), or promote a unique NOT NULL index with ADD PRIMARY KEY USING INDEX. A partitioned table's key must include its partition key."

[severity]
default = "warning"
# nothing identifies a row, and it matters here: replication breaks, or real data is at stake
critical = ["usable_unique_keys = 0 and published and not _partition_template",
            "usable_unique_keys = 0 and estimated_rows >= critical_rows and not _partition_template"]
# pg_partman's template of a partitioned table: never holds rows
info = ["_partition_template"]

[labels]
unique_indexes = "Unique indexes"
usable_unique_keys = "Unique indexes that could serve as the key"
published = "Published for logical replication"
estimated_rows = "Estimated rows"
template_of = "pg_partman template of"

[params]
# a table without any key is critical from this many estimated rows on (0: always)
critical_rows = 0
*/
with tables as (
  select pc.oid, pc.relkind, pc.relname, pc.nspname, pc.reltuples
  from scope_tables pc
  where not pc.relispartition                    -- a partitioned table is reported once
    and not exists (
      select 1 from pg_catalog.pg_constraint c where c.conrelid = pc.oid and c.contype = 'p')
), shaped as (
  select t.*,
         -- the new key column must not collide with an existing one
         -- (offset 0: one index lookup per table, never a hashed scan of all of pg_attribute)
         case when exists (select 1 from pg_catalog.pg_attribute a
                           where a.attrelid = t.oid and a.attname = 'id' and not a.attisdropped offset 0)
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
       u.unique_indexes,
       u.usable_unique_keys,
       -- never "0 of its 0 unique index(es)": a table without one says so
       case when u.unique_indexes = 0 then ' and no unique index'
            else format(' (%%s of its %%s %%s could serve as one)', u.usable_unique_keys,
                        u.unique_indexes,
                        case when u.unique_indexes = 1 then 'unique index' else 'unique indexes' end)
       end as _unique_note,
       exists (select 1 from pg_catalog.pg_publication_rel pr where pr.prrelid = s.oid)
         or exists (select 1 from pg_catalog.pg_publication pb where pb.puballtables) as published,
       greatest(s.reltuples, 0)::bigint as estimated_rows,
       s.relkind = 'p' as partitioned,
       t.parent as template_of, t.parent is not null as _partition_template,
       case
         when s.relkind = 'p' and s.part_expr then null   -- an expression key cannot join a PK
         -- identity columns cannot be added to a partitioned table that has partitions
         when s.relkind = 'p' then format(
           'create sequence %%I.%%I;
alter table %%s add column %%I bigint not null default nextval(%%L);
alter table %%s add primary key (%%I, %%s);',
           s.nspname, s.relname || '_' || s.new_col || '_seq',
           s.oid::regclass, s.new_col,
           format('%%I.%%I', s.nspname, s.relname || '_' || s.new_col || '_seq'),
           s.oid::regclass, s.new_col, s.part_cols)
         else format(
           'alter table %%s add column %%I bigint generated always as identity primary key;',
           s.oid::regclass, s.new_col)
       end as remediation
from shaped s
cross join lateral (
  select count(*) as unique_indexes,
         -- a unique index can stand in for the key (and be the replica identity) when it is
         -- valid, not partial, on plain columns, all NOT NULL
         count(*) filter (
           where i.indisvalid and i.indpred is null and 0 <> all(i.indkey::int2[])
             and not exists (select 1 from pg_catalog.pg_attribute a
                             where a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[])
                               and not a.attnotnull)) as usable_unique_keys
  from pg_catalog.pg_index i
  where i.indrelid = s.oid and i.indisunique) u
-- pg_partman names its template template_<schema>_<table>: only such names are looked up
left join lateral (
  select p.oid::regclass::text as parent
  from pg_catalog.pg_class p join pg_catalog.pg_namespace n on n.oid = p.relnamespace
  where s.relname like 'template\_%%' and p.relkind = 'p'
    and 'template_' || n.nspname || '_' || p.relname = s.relname
  limit 1) t on true
order by 1
