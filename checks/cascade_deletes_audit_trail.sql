/* pgaudit
id = "cascade_deletes_audit_trail"
title = "ON DELETE CASCADE into audit, ledger or payment tables"
section = "2.2"
format = 2
uses = ["scope_tables"]
severity = "critical"
needs = ["catalog"]
detects = "Foreign keys with ON DELETE CASCADE whose referencing table is, by its name (audit, ledger, log, history, journal, payment, transaction, invoice, receipt, refund, credit note: `table_pattern`) or its columns (balance_before/balance_after, running_balance: `column_pattern`), a record of what happened. A cascade between two tables of the same family (payments → payment_logs) is composition and not reported. Each key is reported once, at the partitioned parent."
why = "A history table exists to outlive the rows it describes. With ON DELETE CASCADE, one DELETE of a user, account or organization silently erases their payments, ledger entries or audit log: the trail needed for accounting, disputes and compliance (the review's \"CreditTransaction: Keep (audit trail)\"). Nothing warns: the delete succeeds."
example = "create table credit_transactions (id bigint primary key, user_id bigint not null references users (id) on delete cascade, amount numeric not null, balance_after numeric not null);"
fix = "alter table credit_transactions drop constraint credit_transactions_user_id_fkey,\n  add constraint credit_transactions_user_id_fkey foreign key (user_id) references users (id) on delete restrict not valid;\nalter table credit_transactions validate constraint credit_transactions_user_id_fkey;"
ignore_when = "The table is a disposable cache or debug log with no retention duty, or personal-data erasure (GDPR) deliberately removes the history with the person and that is documented."
references = [
  "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
  "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT",
]
ok = "No foreign key cascades deletes into an audit, ledger or payment table"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid
        where c.contype = 'f' and c.confdeltype = 'c')'''
not_applicable = "no ON DELETE CASCADE foreign key in scope"
impact = "Deleting a parent row silently erases financial or audit history."
message = "{object}: foreign key {constraint} ({definition}) cascades every DELETE on {referenced} into this table, a history table by its {recognised_by}: deleting the parent erases that history"
remediation = "Replace the action with ON DELETE RESTRICT (or NO ACTION) so that deleting the parent fails while history exists; soft-delete or anonymise the parent instead. The key is re-added NOT VALID (no scan, brief lock) and then validated without blocking writes; on a partitioned table before PostgreSQL 18 it is added valid, which scans the table. Code that relied on the cascade must now archive or delete the history explicitly."

[labels]
definition = "Definition"
referenced = "Referenced table"
recognised_by = "Recognised as history by"
matched_table_pattern = "Name matched"
matched_columns = "Running-balance columns"
estimated_rows = "Estimated rows"

[params]
# a referencing table whose name matches is a history table (case-insensitive regex on the table name)
table_pattern = "(^|_)(audits?|audit_?logs?|audit_?trails?|ledgers?|ledger_entries|logs?|changelogs?|event_?logs?|activity_?logs?|history|histories|journals?|journal_entries|payments?|transactions?|invoices?|receipts?|refunds?|credit_notes?)(_|$)"
# ... or one of its columns matches (running balances are ledgers whatever the table is called)
column_pattern = "^(balance_(before|after)|(previous|old|new|running)_balance|balance_(before|after)_cents)$"
*/
with fk as (
  select c.oid, c.conname, c.conrelid, c.confrelid, t.relname, t.relkind, p.relname as parent_name,
         t.relname ~* %(table_pattern)s as child_by_name,
         (select array_agg(a.attname::text order by a.attnum) from pg_catalog.pg_attribute a
          where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
            and a.attname ~* %(column_pattern)s) as ledger_columns,
         p.relname ~* %(table_pattern)s as parent_by_name,
         exists (select 1 from pg_catalog.pg_attribute a
                 where a.attrelid = p.oid and a.attnum > 0 and not a.attisdropped
                   and a.attname ~* %(column_pattern)s) as parent_by_columns
  from pg_catalog.pg_constraint c
  join scope_tables t on t.oid = c.conrelid
  join pg_catalog.pg_class p on p.oid = c.confrelid
  where c.contype = 'f' and c.confdeltype = 'c' and c.conparentid = 0
), hit as (
  select fk.*,
         pg_catalog.pg_get_constraintdef(fk.oid) as def,
         -- NOT VALID foreign keys on partitioned tables arrive in PostgreSQL 18
         (fk.relkind <> 'p' or %(server_version_num)s >= 180000) as can_not_valid
  from fk
  where (fk.child_by_name or fk.ledger_columns is not null)
    and not (fk.parent_by_name or fk.parent_by_columns)    -- invoices -> invoice_lines: composition
    and fk.conrelid <> fk.confrelid
)
select h.conrelid::regclass::text as object,
       'table' as object_type,
       array(select a.attname::text
             from pg_catalog.pg_constraint c
             cross join lateral unnest(c.conkey) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
             where c.oid = h.oid order by k.ord) as columns,
       quote_ident(h.conname) as constraint,
       h.def as definition,
       h.confrelid::regclass::text as referenced,
       case when h.child_by_name then 'name' else 'running-balance columns' end as recognised_by,
       case when h.child_by_name then (regexp_match(h.relname, %(table_pattern)s, 'i'))[2] end as matched_table_pattern,
       h.ledger_columns as matched_columns,
       case when t.reltuples >= 0 then t.reltuples::bigint end as estimated_rows,
       format('alter table %%s drop constraint %%I, add constraint %%I %%s%%s;%%s',
              h.conrelid::regclass, h.conname, h.conname,
              replace(replace(h.def, ' ON DELETE CASCADE', ' ON DELETE RESTRICT'), ' NOT VALID', ''),
              case when h.can_not_valid then ' not valid' else '' end,
              case when h.can_not_valid
                   then format(E'\nalter table %%s validate constraint %%I;', h.conrelid::regclass, h.conname)
                   else '' end) as remediation
from hit h
join pg_catalog.pg_class t on t.oid = h.conrelid
order by 1, h.conname
