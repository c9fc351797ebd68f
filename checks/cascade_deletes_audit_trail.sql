/* pgaudit
id = "cascade_deletes_audit_trail"
title = "ON DELETE CASCADE into audit, ledger or payment tables"
section = "2.2"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Foreign keys with ON DELETE CASCADE whose referencing table is a record of what happened: an audit trail, a history, a journal or a ledger (payments, transactions, invoices). The role comes from the table's name read as a noun phrase, never from a substring: the name (camelCase and spaces read as snake_case) must END with one of `history_names` (audit, audit_log, audit_trail, audit_events, history, journal, changelog, event_log, activity_log, singular or plural) or `ledger_names` (ledger, ledger_entries, transactions, payments, invoices, receipts, refunds, credit_notes), so audit_events_streaming_headers (head noun 'headers', the configuration of an audit feature) and catalog_items are no history; a name ending in a generic record noun (`record_nouns`: log, logs, events, entries, records, versions, revisions) counts only with the shape of an insert-only trail: a timestamp column and an actor, action, operation or old/new-values column (`actor_columns`). Running-balance columns (balance_before/balance_after, running_balance: `column_pattern`) make a ledger whatever the name. Not history: link tables (two or more foreign keys and no other column but a surrogate key and timestamps), logs purged by retention (an expires/retention/ttl column, `retention_columns`; ledgers excepted), and a cascade between two tables of the same family (payments -> payment_logs: composition). Critical when the table's shape corroborates its role: the insert-only shape above, running-balance columns, or an amount column in a ledger; a warning when only the name speaks, saying what to verify. Each key is reported once, at the partitioned parent."
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
message = "{object}: foreign key {constraint} ({definition}) cascades every DELETE on {referenced} into this table, {_role}: deleting the parent erases that history{_verify}"
remediation = "Replace the action with ON DELETE RESTRICT (or NO ACTION) so that deleting the parent fails while history exists; soft-delete or anonymise the parent instead. The key is re-added NOT VALID (no scan, brief lock) and then validated without blocking writes; on a partitioned table before PostgreSQL 18 it is added valid, which scans the table. Code that relied on the cascade must now archive or delete the history explicitly."

[severity]
default = "warning"
# the table's shape corroborates the role its name gives it
critical = ["_corroborated"]

[labels]
definition = "Definition"
referenced = "Referenced table"
role = "Role"
recognised_by = "Recognised by"
head_noun = "Name ends in"
matched_columns = "Running-balance columns"
shape_columns = "History-shaped columns"
estimated_rows = "Estimated rows"

[params]
# a table whose name ends in one of these (whole snake_case words) is an audit trail or history
history_names = ["audit", "audits", "audit_log", "audit_logs", "auditlog", "auditlogs", "audit_trail", "audit_trails", "audit_event", "audit_events", "audit_entry", "audit_entries", "audit_record", "audit_records", "history", "histories", "journal", "journals", "changelog", "changelogs", "change_log", "change_logs", "event_log", "event_logs", "activity_log", "activity_logs", "activity_history"]
# ... or a ledger / financial record
ledger_names = ["ledger", "ledgers", "ledger_entry", "ledger_entries", "journal_entry", "journal_entries", "transaction", "transactions", "transaction_log", "transaction_logs", "payment", "payments", "payment_event", "payment_events", "payment_log", "payment_logs", "invoice", "invoices", "receipt", "receipts", "refund", "refunds", "credit_note", "credit_notes"]
# generic record nouns: history only with the insert-only shape (a timestamp and an actor/action column)
record_nouns = ["log", "logs", "event", "events", "entry", "entries", "record", "records", "version", "versions", "revision", "revisions", "trail", "trails"]
# columns of an insert-only trail: who did what, or the row before and after (case-insensitive regex)
actor_columns = "^(action|action_type|action_name|operation|op|verb|event|event_type|event_name|activity|actor|actor_id|actor_type|performed_by|performed_by_id|changed_by|changed_by_id|modified_by|modified_by_id|updater_id|author_id|old_values?|new_values?|old_data|new_data|old_row|new_row|old_record|new_record|changes|changeset|changed_fields|diff|previous_values?|before|after)$"
# running balances are ledgers whatever the table is called
column_pattern = "^(balance_(before|after)|(previous|old|new|running)_balance|balance_(before|after)_cents)$"
# amounts: a ledger-named table with one is a ledger by its shape too
amount_columns = "^(amount|amount_cents|total|total_cents|[a-z_]*_amount|amount_[a-z_]+|[a-z_]*_amount_cents|delta|credits?|debit|value_cents)$"
# purged by retention: a log with one of these is not kept history (ledgers excepted)
retention_columns = "^(expires?_at|expire_at|expires_on|expiry|expiry_date|expiration|expiration_date|expiration_at|ttl|ttl_[a-z_]*|[a-z_]*_ttl|retention[a-z_]*|retain_until|purge_at|purge_after|delete_after|delete_at)$"
*/
with fk as (
  select c.oid, c.conname, c.conrelid, c.confrelid, t.relkind
  from pg_catalog.pg_constraint c
  join scope_tables t on t.oid = c.conrelid
  where c.contype = 'f' and c.confdeltype = 'c' and c.conparentid = 0 and c.conrelid <> c.confrelid
), rels as (
  -- the tables on either end of such a key, each read once
  select distinct x.oid from fk cross join lateral (values (fk.conrelid), (fk.confrelid)) x(oid)
), named as (
  -- the name as snake_case words (camelCase and spaces too); its last word(s) name what it holds
  select r.oid as rel, n.norm,
         (select p from unnest(%(history_names)s::text[]) p
          where n.norm = p or right(n.norm, length(p) + 1) = '_' || p order by length(p) desc, p limit 1) as history_noun,
         (select p from unnest(%(ledger_names)s::text[]) p
          where n.norm = p or right(n.norm, length(p) + 1) = '_' || p order by length(p) desc, p limit 1) as ledger_noun,
         (select p from unnest(%(record_nouns)s::text[]) p
          where n.norm = p or right(n.norm, length(p) + 1) = '_' || p order by length(p) desc, p limit 1) as record_noun
  from rels r
  cross join lateral (select c.relname from pg_catalog.pg_class c where c.oid = r.oid offset 0) c
  cross join lateral (
    select trim(both '_' from regexp_replace(lower(regexp_replace(c.relname, '([a-z0-9])([A-Z])', '\1_\2', 'g')),
                                             '[^a-z0-9]+', '_', 'g')) as norm) n
), shaped as (
  select n.*, col.*, fkc.fks,
         col.time_columns is not null and col.actor_cols is not null as insert_only
  from named n
  cross join lateral (
    select array_agg(a.attname::text order by a.attnum) filter (where a.attname ~* %(column_pattern)s) as balance_columns,
           array_agg(a.attname::text order by a.attnum) filter (where a.attname ~* %(actor_columns)s) as actor_cols,
           array_agg(a.attname::text order by a.attnum)
             filter (where a.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                                          'pg_catalog.date'::regtype)) as time_columns,
           array_agg(a.attname::text order by a.attnum) filter (where a.attname ~* %(amount_columns)s) as amount_cols,
           array_agg(a.attname::text order by a.attnum) filter (where a.attname ~* %(retention_columns)s) as retention_cols,
           -- columns that are neither a foreign key's, the primary key's, nor a timestamp
           count(*) filter (where not exists (select 1 from pg_catalog.pg_constraint k
                                              where k.conrelid = n.rel and k.contype in ('f', 'p')
                                                and a.attnum = any(k.conkey))
                              and a.atttypid not in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype)) as free_columns
    from pg_catalog.pg_attribute a
    where a.attrelid = n.rel and a.attnum > 0 and not a.attisdropped
  ) col
  cross join lateral (select count(*) as fks from pg_catalog.pg_constraint k
                      where k.conrelid = n.rel and k.contype = 'f') fkc
), role as (
  select s.*,
         case when s.ledger_noun is not null or s.balance_columns is not null then 'ledger'
              when s.history_noun is not null then 'audit trail or history'
              when s.record_noun is not null and s.insert_only then 'history log' end as role
  from shaped s
), hit as (
  select fk.*, c.*, pg_catalog.pg_get_constraintdef(fk.oid) as def,
         -- NOT VALID foreign keys on partitioned tables arrive in PostgreSQL 18
         (fk.relkind <> 'p' or %(server_version_num)s >= 180000) as can_not_valid,
         c.insert_only or c.balance_columns is not null
           or (c.role = 'ledger' and c.amount_cols is not null) as corroborated
  from fk
  join role c on c.rel = fk.conrelid
  join role p on p.rel = fk.confrelid
  where c.role is not null
    and p.role is null                                   -- invoices -> invoice_payments: composition
    and not (c.fks >= 2 and c.free_columns = 0)          -- a link table
    and not (c.retention_cols is not null and c.role <> 'ledger')   -- purged by retention
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
       h.role,
       concat_ws(' and ',
                 case when coalesce(h.ledger_noun, h.history_noun) is not null then 'its name'
                      when h.record_noun is not null and h.insert_only then 'its name and insert-only shape' end,
                 case when h.balance_columns is not null then 'its running-balance columns' end,
                 case when h.insert_only and coalesce(h.ledger_noun, h.history_noun) is not null then 'its insert-only shape' end,
                 case when not h.insert_only and h.balance_columns is null and h.corroborated then 'its amount columns' end) as recognised_by,
       coalesce(h.ledger_noun, h.history_noun, case when h.insert_only then h.record_noun end) as head_noun,
       h.balance_columns as matched_columns,
       case when h.insert_only then h.time_columns[1:1] || h.actor_cols
            when h.corroborated and h.balance_columns is null then h.amount_cols end as shape_columns,
       h.corroborated as _corroborated,
       case when h.role = 'ledger' then 'a ledger (financial record)'
            when h.role = 'history log' then 'a history log'
            else 'an audit trail or history table' end
         || ' by ' || concat_ws(' and ',
                 case when coalesce(h.ledger_noun, h.history_noun) is not null
                      then format('its name (ending in "%%s")', coalesce(h.ledger_noun, h.history_noun))
                      when h.record_noun is not null and h.insert_only
                      then format('its name (ending in "%%s") and insert-only shape', h.record_noun) end,
                 case when h.balance_columns is not null then 'its running-balance columns' end,
                 case when h.insert_only and coalesce(h.ledger_noun, h.history_noun) is not null then 'its insert-only shape' end,
                 case when not h.insert_only and h.balance_columns is null and h.corroborated then 'its amount columns' end) as _role,
       case when not h.corroborated
            then '; only the name says so (no timestamp with an actor, action or old/new-values column, no amount or running balance): verify that the table keeps history before changing the rule'
            else '' end as _verify,
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
