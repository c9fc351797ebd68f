/* pgaudit
id = "audit_columns_missing"
title = "Tables without audit columns"
section = "6.3"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Tables (partitioned tables at the parent) with no creation timestamp (created_at, inserted_at, created_on, create_time, createdAt, …) or no modification timestamp (updated_at, modified_at, last_update, updatedAt, …; not required on append-only tables named like logs, events, history, versions), and critical tables (money, ledger, order, user and permission tables, by name) with no created_by/updated_by actor column. Pure link tables (every column in a key or foreign key), static lookup tables named like *_type, *_status, categories, countries (lookup_table_pattern) and migration-tool tables are skipped. Name patterns are parameters."
why = "Without timestamps, \"when did this row appear or last change?\" has no answer: debugging, incremental exports, retention jobs and support questions all need them. On money and permission tables, \"who changed this?\" is an audit requirement; without an actor column the answer is lost unless a separate change log exists."
example = "create table payments (id bigint primary key, amount numeric not null);"
fix = "alter table payments add column created_at timestamptz not null default now(), add column updated_at timestamptz not null default now(), add column created_by bigint, add column updated_by bigint;"
ignore_when = "Static reference/lookup tables loaded once; tables whose history is fully captured by a change log (audit table fed by triggers, temporal/system-versioned tables) — then the actor columns are redundant."
references = ["https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES", "https://www.postgresql.org/docs/current/functions-datetime.html#FUNCTIONS-DATETIME-CURRENT", "https://www.postgresql.org/docs/current/plpgsql-trigger.html"]
ok = "Every table has creation and modification timestamps"
impact = "Audit compliance and debugging: when a row appeared or changed, and who changed it, cannot be answered."
message = "{object} has no {_missing}"
ok_message = "Timestamps: created_at/updated_at (or equivalents) on all {_tables} tables"
remediation = "Add the missing columns. ADD COLUMN … DEFAULT now() does not rewrite the table on PostgreSQL 11+ (now() is stable: it is evaluated once, at the ALTER, and stored as the column's missing value), so it is a brief ACCESS EXCLUSIVE lock only; but every existing row then carries the time of the ALTER, not its real creation time, so backfill from another source if you have one. updated_at must be maintained by the application or a BEFORE UPDATE trigger; created_by/updated_by by the application (e.g. from current_setting('app.current_user_id'))."

[severity]
default = "info"
ok = ["_all_timestamped"]
[params]
created_pattern = '^(date_|time_)?(created|inserted|creation|create|added|insert)(_(at|on|time|date|ts|timestamp|datetime|utc|at_utc|ms|time_utc))?$'  # normalized column names (camelCase -> snake_case, trailing underscores dropped)
updated_pattern = '^(date_|time_)?(last_)?(updated|modified|changed|update|modify|modification|change|edited)(_(at|on|time|date|ts|timestamp|datetime|utc|at_utc|ms))?$'
created_by_pattern = '^(created_by|creator|author|inserted_by|added_by)(_(id|user|user_id|uuid|name))?$'
updated_by_pattern = '^(updated_by|modified_by|changed_by|last_modified_by|last_updated_by|edited_by|editor|last_editor)(_(id|user|user_id|uuid|name))?$'
critical_table_pattern = '(^|_)(payments?|invoices?|ledgers?|ledger_entries|transactions?|transfers?|balances?|credits?|credit_notes?|wallets?|orders?|refunds?|charges?|subscriptions?|payouts?|accounts?|users?|roles?|permissions?|grants?|prices?|fees?)$'  # normalized table names that need created_by/updated_by
append_only_pattern = '(^|_)(logs?|events?|history|histories|audits?|audit_logs?|versions|changes|changelog|journal|outbox|inbox|ledger_entries)$'  # append-only tables: a creation timestamp is enough
lookup_table_pattern = '(^|_)(types?|kinds?|status|statuses|categories|category|countries|country|currencies|currency|languages|language|locales|genders|units|enums?|lookups?)$'  # static lookup tables (loaded once): skipped
exclude_table_pattern = '^(schema_migrations|ar_internal_metadata|flyway_schema_history|schema_version|databasechangelog|databasechangeloglock|knex_migrations|knex_migrations_lock|alembic_version|_prisma_migrations|goose_db_version|django_migrations|spatial_ref_sys|__diesel_schema_migrations|typeorm_metadata|migrations)$'  # migration-tool and extension bookkeeping tables
*/
with tables as (
  select c.oid, c.relname, c.relnamespace as nspoid, n.tnorm
  from scope_tables c cross join lateral (select lower(regexp_replace(c.relname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) as tnorm) n
  where not c.relispartition and c.relname !~ %(exclude_table_pattern)s and n.tnorm !~ %(lookup_table_pattern)s
), keycount as (
  -- distinct primary and foreign key columns of the tables with a foreign key: a link table has all its columns among them
  select k.conrelid as oid, count(distinct u.attnum) as nkey
  from pg_catalog.pg_constraint k cross join lateral unnest(k.conkey) u(attnum)
  where k.contype in ('p', 'f') and k.conrelid in (select oid from tables)
    and k.conrelid in (select f.conrelid from pg_catalog.pg_constraint f where f.contype = 'f')
  group by k.conrelid
), cols as (
  select t.oid, a.attnum, a.attname from tables t join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
), names as materialized (  -- name patterns once per distinct column name, not once per column
  select d.attname, d.norm ~ %(created_pattern)s as is_created, d.norm ~ %(updated_pattern)s as is_updated,
         d.norm ~ %(created_by_pattern)s as is_created_by, d.norm ~ %(updated_by_pattern)s as is_updated_by,
         d.attname ~ '^[a-z]+[A-Z]' as inner_capital, d.attname ~ '_' as underscore
  from (select n.attname, lower(regexp_replace(regexp_replace(n.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'), '_+$', '')) as norm
        from (select distinct c.attname from cols c) n) d
), shape as (
  select t.*, count(c.attnum) as ncols, count(c.attnum) > 0 and count(c.attnum) = min(kc.nkey) as link_only,
         bool_or(nm.is_created) as has_created, bool_or(nm.is_updated) as has_updated,
         bool_or(nm.is_created_by) as has_created_by, bool_or(nm.is_updated_by) as has_updated_by,
         -- follow the table's naming style: camelCase when a column has an inner capital
         bool_or(nm.inner_capital) and not bool_or(nm.underscore) as camel,
         t.tnorm ~ %(critical_table_pattern)s as critical, t.tnorm ~ %(append_only_pattern)s as append_only
  from tables t left join cols c on c.oid = t.oid left join names nm on nm.attname = c.attname left join keycount kc on kc.oid = t.oid
  group by t.oid, t.relname, t.nspoid, t.tnorm
), actors as (
  select distinct on (u.relnamespace) u.relnamespace, pg_catalog.format_type(a.atttypid, a.atttypmod) as actor_type
  from (select u.oid, u.relnamespace, u.relname from pg_catalog.pg_class u
        where lower(u.relname) in ('users', 'user', 'accounts', 'account') and u.relkind in ('r', 'p')
        offset 0) u  -- the few users tables first, then their keys
  join pg_catalog.pg_constraint k on k.conrelid = u.oid and k.contype = 'p' and array_length(k.conkey, 1) = 1
  join pg_catalog.pg_attribute a on a.attrelid = u.oid and a.attnum = k.conkey[1]
  order by u.relnamespace, lower(u.relname) = 'users' desc, u.relname
), judged as (
  select s.*, s.oid::regclass::text as name,
         array_remove(array[case when not s.has_created then 'created' end,
                            case when not s.has_updated and not s.append_only then 'updated' end,
                            case when s.critical and not s.has_created_by then 'created_by' end,
                            case when s.critical and not s.has_updated_by and not s.append_only then 'updated_by' end], null) as missing,
         coalesce(act.actor_type, 'text') as actor_type  -- the key type of a users table in the same schema, else text
  from shape s left join actors act on act.relnamespace = s.nspoid
  where not coalesce(s.link_only, false) or s.ncols = 0
), added (m, words, snake, camel, type) as (  -- each missing column: its words, its names, its type (null: the actor's)
  values ('created', 'creation timestamp (created_at)', 'created_at', 'createdAt', 'timestamptz not null default now()'),
         ('updated', 'modification timestamp (updated_at)', 'updated_at', 'updatedAt', 'timestamptz not null default now()'),
         ('created_by', 'created_by', 'created_by', 'createdBy', null), ('updated_by', 'updated_by', 'updated_by', 'updatedBy', null)
)
select j.name as object, 'table' as object_type, j.missing, j.critical as critical_table, j.append_only, j.ncols as column_count,
       false as _all_timestamped, null::bigint as _tables,
       array_to_string(array(select w.words from unnest(j.missing) with ordinality u(m, i) join added w on w.m = u.m order by u.i), ' or ')
         || case when j.missing && array['created_by', 'updated_by']
                 then ' (a critical table by its name: who changed it is an audit question)' else '' end as _missing,
       format('alter table %%s %%s;%%s', j.name,
              (select string_agg(format('add column %%I %%s', case when j.camel then w.camel else w.snake end, coalesce(w.type, j.actor_type)), ', ' order by u.i)
               from unnest(j.missing) with ordinality u(m, i) join added w on w.m = u.m),
              case when 'updated' = any(j.missing)
                   then E'\n-- no table rewrite (PostgreSQL 11+: now() is evaluated once); existing rows get the time of this ALTER.\n-- keep the modification timestamp current in the application or with a BEFORE UPDATE trigger.'
                   else E'\n-- no table rewrite (PostgreSQL 11+).' end) as remediation
from judged j
where cardinality(j.missing) > 0
union all
select quote_ident(current_database()), 'database', null, null, null, null, true, count(*), null, null
from judged j
having count(*) > 0 and bool_and(j.has_created and (j.has_updated or j.append_only))
order by 1
