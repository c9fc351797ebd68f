/* pgaudit
id = "foreign_key_not_validated"
title = "Constraints added NOT VALID and never validated"
section = "2.2"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Foreign key, CHECK and (PostgreSQL 18+) NOT NULL constraints whose pg_constraint.convalidated is false: they were added NOT VALID and VALIDATE CONSTRAINT was never run. Each constraint is reported once, on the table where it is defined (partition clones and inherited copies are skipped)."
why = "A NOT VALID constraint is enforced for new and updated rows only; the rows that existed when it was added were never checked. The catalog shows a constraint, so readers (and the planner, which ignores unvalidated CHECKs for constraint exclusion) assume a guarantee that the data may not honour: orphaned children or rows breaking the CHECK can still be there."
example = "alter table orders add constraint orders_customer_id_fkey foreign key (customer_id) references customers (id) not valid;  -- and never validated"
fix = "alter table orders validate constraint orders_customer_id_fkey;"
ignore_when = "The validation is deliberately scheduled for a quiet window in a migration that is still in progress."
references = [
  "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT",
  "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES",
]
ok = "Every foreign key and CHECK constraint is validated"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid
        where c.contype in ('f', 'c'))'''
not_applicable = "no foreign key or CHECK constraint in scope"
impact = "Existing rows were never checked: the constraint promises an integrity the data may not have."
message = "{object}: {constraint_type} constraint {constraint} ({definition}) was added NOT VALID and never validated; rows that existed before it were never checked"
remediation = "Run ALTER TABLE … VALIDATE CONSTRAINT. It scans the table under a SHARE UPDATE EXCLUSIVE lock (reads and writes go on; a foreign key also takes ROW SHARE on the referenced table), so it is safe in production. If it fails, the error names a violating row: clean the data first (see \"Child rows whose parent row is missing\", section 2.3, for foreign keys)."

[labels]
constraint_type = "Constraint type"
referenced_table = "Referenced table"
estimated_rows = "Estimated rows"
*/
select c.conrelid::regclass::text as object,
       'table' as object_type,
       array(select a.attname::text
             from unnest(c.conkey) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
             order by k.ord) as columns,
       quote_ident(c.conname) as constraint,
       case c.contype when 'f' then 'foreign key' when 'c' then 'CHECK' else 'NOT NULL' end as constraint_type,
       pg_catalog.pg_get_constraintdef(c.oid) as definition,
       case when c.contype = 'f' then c.confrelid::regclass::text end as referenced_table,
       case when t.reltuples >= 0 then t.reltuples::bigint end as estimated_rows,
       t.relkind = 'p' as partitioned,
       format('alter table %%s validate constraint %%I;', c.conrelid::regclass, c.conname) as remediation
from pg_catalog.pg_constraint c
join scope_tables t on t.oid = c.conrelid
where not c.convalidated
  and c.contype in ('f', 'c', 'n')
  and c.conparentid = 0                  -- FK clones on partitions point at the parent's constraint
  and c.conislocal                       -- inherited CHECK copies are validated with their parent
order by 1, c.conname
