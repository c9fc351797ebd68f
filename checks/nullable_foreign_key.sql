/* pgaudit
id = "nullable_foreign_key"
title = "Nullable foreign key columns with ON DELETE CASCADE"
section = "1.1"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Foreign keys declared ON DELETE CASCADE (the child is owned by its parent) whose columns allow NULL. Self-referencing keys (trees whose root has no parent) are not reported; each partitioned table is reported once, at its parent."
why = "ON DELETE CASCADE says the child row cannot exist without its parent, yet a NULL key lets it exist with no parent at all: orphans that no cascade will ever remove. With a multi-column key (MATCH SIMPLE) a single NULL column switches the whole constraint off for that row."
example = "create table order_lines (id bigint primary key, order_id bigint references orders on delete cascade);"
fix = "alter table order_lines alter column order_id set not null;"
ignore_when = "The child row is genuinely optional-parent (it may exist alone) and CASCADE was chosen only for the rows that have a parent; then say so in a column comment."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL"]
ok = "Every ON DELETE CASCADE foreign key is NOT NULL"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid
        where c.contype = 'f' and c.confdeltype = 'c')'''
not_applicable = "no ON DELETE CASCADE foreign key in scope"
impact = "Child rows without a parent escape the ownership the cascade expresses; orphans accumulate and the FK no longer guarantees a parent."
message = "{object} ({nullable_columns}) cascades from {references} but its key allows NULL"
remediation = "Make the key NOT NULL after deleting or re-parenting rows whose key is NULL. The SQL adds a CHECK (… IS NOT NULL) NOT VALID, validates it without blocking writes, then SET NOT NULL uses the validated constraint instead of a full-table scan under ACCESS EXCLUSIVE lock (PostgreSQL 12+), and drops the helper constraint. If the relationship is really optional, use ON DELETE SET NULL or RESTRICT instead of CASCADE."

[labels]
nullable_columns = "Nullable key columns"
references = "Referenced table"
key_columns = "Columns in the key"
estimated_rows = "Estimated rows"
*/
with fks as (
  select con.oid, con.conname, con.conrelid, con.confrelid, con.conkey, con.confkey
  from pg_catalog.pg_constraint con
  join scope_tables c on c.oid = con.conrelid
  where con.contype = 'f'
    and con.confdeltype = 'c'
    and con.conparentid = 0                         -- cloned partition FKs: report the parent's
    and con.conrelid <> con.confrelid               -- trees: the root row has no parent
    and not c.relispartition
), cols as (
  select f.oid, k.ord, a.attname, a.attnotnull
  from fks f
  cross join lateral unnest(f.conkey) with ordinality k(attnum, ord)
  join pg_catalog.pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum
), found as (
  select f.oid, f.conname, f.conrelid, f.confrelid,
         array_agg(c.attname::text order by c.ord) as fk_columns,
         array_agg(c.attname::text order by c.ord) filter (where not c.attnotnull) as nullable
  from fks f join cols c on c.oid = f.oid
  group by f.oid, f.conname, f.conrelid, f.confrelid
  having bool_or(not c.attnotnull)
)
select f.conrelid::regclass::text as object,
       'table' as object_type,
       f.fk_columns as columns,
       quote_ident(f.conname) as constraint,
       f.confrelid::regclass::text as references,
       f.nullable as nullable_columns,
       cardinality(f.fk_columns) as key_columns,
       case when c.reltuples >= 0 then c.reltuples::bigint end as estimated_rows,
       (select string_agg(format(
           'alter table %%1$s add constraint %%2$I check (%%3$I is not null) not valid;
alter table %%1$s validate constraint %%2$I;
alter table %%1$s alter column %%3$I set not null;
alter table %%1$s drop constraint %%2$I;',
           -- a byte-bounded stem (whole characters): PostgreSQL truncates names to 63 bytes
           f.conrelid::regclass,
           (select left(f.conname, max(k)) from generate_series(0, length(f.conname)) k where octet_length(left(f.conname, k)) <= 50) || '_' || n.ord || '_nn',
           n.col), E'\n' order by n.ord)
        from unnest(f.nullable) with ordinality n(col, ord)) as remediation
from found f
join pg_catalog.pg_class c on c.oid = f.conrelid
order by 1, f.conname
