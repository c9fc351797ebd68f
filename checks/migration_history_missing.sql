/* pgaudit
id = "migration_history_missing"
title = "No migration history table"
section = "5.1"
format = 2
uses = ["scope_schemas"]
needs = ["catalog"]
detects = "Databases with no schema-migration history table in any user schema. A history table is recognised by its shape, not only by a list of tools: a table named like a history (its name ends in words such as migration(s), migration_logs, migration_history, schema_version(s), schema_migrations, schema_history, changelog, revisions, db_version, flyway_*, liquibase_*) with a version-like column (version, revision, migration, script, name, filename, change_id, a text id, or a name ending in _version) and a different, time-like column (a timestamp or date type, or named applied_at, installed_on, executed_at, run_on, created_at, inserted_at, timestamp, dateexecuted). Known tools whose tables lack that shape are matched by their own signature (alembic_version, flyway_schema_history, databasechangelog, Rails/golang-migrate/Ecto schema_migrations, django_migrations, knex_migrations, _prisma_migrations, typeorm/laravel migrations, SequelizeMeta, goose_db_version, __EFMigrationsHistory, _sqlx_migrations, __diesel_schema_migrations, sqitch, and engine-managed version tables). Every schema of the database is searched, not only the audited ones: a tool may keep its table elsewhere. When one is found, a 🟢 line names the tool or the table. The verdict is about names and shapes, so its severity follows what is at stake: critical when the audited schemas hold at least critical_min_tables tables (an application whose changes need a record), warning below that (a small or sample schema: verify how its changes are deployed)."
why = "Without a recorded history nobody can say which schema version is deployed, changes are applied by hand and drift between environments, and there is no tested way back after a bad release."
example = "-- tables created by hand in psql or by an ORM's synchronize/auto-migrate on start-up; no history table"
fix = "Adopt a migration tool (alembic, flyway, sqitch, golang-migrate, the ORM's migrations), baseline the current schema as version 1, and deploy every change through it."
ignore_when = "The schema is managed by a tool that keeps its history outside the database (e.g. a declarative schema tool such as Atlas or pgroll's state in another database) or by an engine that upgrades itself; add its table to the tools param."
references = ["https://www.postgresql.org/docs/current/ddl.html", "https://documentation.red-gate.com/fd/flyway-schema-history-table-273973417.html", "https://alembic.sqlalchemy.org/en/latest/tutorial.html"]
ok = "A migration history table records the schema versions"
impact = "No record of which schema version is deployed and no rollback path; manual changes drift between environments."
message = "database {object} has no migration history table in any schema ({tables_in_scope} tables audited): no table named like a history with a version and a time column, and none of {_tools_count} known tools' tables; verify how schema changes reach production"
ok_message = "Migration history kept by {_tools}: {_tables_text}"
remediation = "Adopt a migration tool and baseline the current schema. The SQL creates the minimal version table of the review (5.3.1); a real tool creates its own table instead, so prefer running its baseline command."

[severity]
default = "warning"
# judged from names and shapes: critical only where the schema is an application's
critical = ["tables_in_scope >= critical_min_tables"]
ok = ["_found"]

[labels]
tables_in_scope = "Tables audited"
schemas_searched = "Schemas searched"

[params]
# at least this many tables in the audited schemas (partitions not counted): critical
critical_min_tables = 15
# a history table by its shape: the normalized table name (camelCase -> snake_case, leading
# underscores dropped) ends in one of these words ...
history_name_pattern = '(^|_)(migrations?|migration_(logs?|history|histories|versions?|records?|entries|log_entries|state)|changelogs?|change_log|schema_(versions?|migrations?|history|changes|changelog|revisions?)|(db|database)_(versions?|revisions?|migrations?|changelog)|databasechangelog|flyway(_[a-z0-9_]+)?|liquibase(_[a-z0-9_]+)?)$|^revisions?$'
# ... with a version-like column (any type; an "id" only when it is text) ...
version_column_pattern = '(^|_)(version|revision|migration|script)(_?(num|number|id|name|no))?$|^(rev|name|file_?name|change_?id|changeset|installed_rank)$'
# ... and another, time-like column: a timestamp or date type, or one of these names (any type)
time_column_pattern = '^((applied|installed|executed|run|ran|migrated|upgraded|deployed|created|inserted)_?(at|on|time|date|timestamp)|timestamp|time_?stamp|date_?executed|date_?applied|applied|executed|creation_time|update_time)$'
# "tool;table name regex;a column that must exist (regex, empty: any)"; the first match wins
tools = [
  "alembic;^alembic_version$;^version_num$",
  "flyway;^flyway_schema_history$;",
  "flyway (before 5);^schema_version$;^installed_rank$",
  "synapse;^schema_version$;^upgraded$",
  "liquibase;^databasechangelog$;",
  "golang-migrate;^schema_migrations$;^dirty$",
  "ecto;^schema_migrations$;^inserted_at$",
  "rails or dbmate;^schema_migrations$;^version$",
  "django;^django_migrations$;",
  "knex;^knex_migrations$;",
  "prisma;^_prisma_migrations$;",
  "typeorm;^migrations$;^timestamp$",
  "laravel;^migrations$;^batch$",
  "mikro-orm;^mikro_orm_migrations$;",
  "sequelize;^sequelizemeta$;",
  "goose;^goose_db_version$;",
  "entity framework;^__efmigrationshistory$;",
  "sqlx;^_sqlx_migrations$;",
  "diesel;^__diesel_schema_migrations$;",
  "sqitch;^changes$;^change_id$",
  "flowable/activiti engine;^act_ge_property$;",
  "musicbrainz schema sequence;^replication_control$;^current_schema_sequence$",
  "in-house version table;^(db|database|schema)_?versions?$;",
]
*/
with tools as (
  select t.ord, split_part(t.spec, ';', 1) as tool, split_part(t.spec, ';', 2) as table_re,
         split_part(t.spec, ';', 3) as column_re,
         -- '^name$' with only letters, digits and underscores: an equality, joined by hash
         case when split_part(t.spec, ';', 2) ~ '^\^[a-z0-9_]+\$$'
              then substr(split_part(t.spec, ';', 2), 2, length(split_part(t.spec, ';', 2)) - 2) end as table_name
  from unnest(%(tools)s::text[]) with ordinality t(spec, ord)
), rels as materialized (  -- every user schema: a tool may keep its history outside the audited ones
  select c.oid, n.nspname, lower(c.relname) as lname, c.reltuples,
         -- in an audited schema: counted for tables_in_scope from this one pg_class scan
         n.oid in (select s.oid from scope_schemas s) as in_scope_schema,
         -- camelCase to snake_case, leading underscores out; the regex only for names with
         -- capitals (a name equal to its lower case has none: most of them, and it is cheap)
         lower(ltrim(case when c.relname = lower(c.relname) then c.relname::text
                          else regexp_replace(c.relname, '([a-z0-9])([A-Z])', '\1_\2', 'g') end,
                     '_')) as norm
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p') and not c.relispartition
    and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
), matched as (  -- known tools by their own signature
  select r.oid, r.reltuples, tl.tool, tl.ord, tl.column_re
  from rels r join tools tl on tl.table_name = r.lname
  union all
  select r.oid, r.reltuples, tl.tool, tl.ord, tl.column_re
  from rels r join tools tl on tl.table_name is null and r.lname ~ tl.table_re
), attrs as (  -- the columns of the tables named like a history, names normalized
  select a.attrelid, a.attnum,
         lower(regexp_replace(a.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) as norm,
         bt.typname, bt.typcategory
  from rels r
  join pg_catalog.pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
  join pg_catalog.pg_type t on t.oid = a.atttypid
  join pg_catalog.pg_type bt on bt.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
  where r.norm ~ %(history_name_pattern)s
), shaped as (  -- any tool's history by its shape: a version-like column and another, time-like one
  select r.oid, r.reltuples, 'an unlisted tool, recognised by its table''s shape' as tool,
         (select count(*) from tools) + 1 as ord, '' as column_re
  from rels r
  where r.norm ~ %(history_name_pattern)s
    and exists (select 1
                from attrs v
                join attrs tm on tm.attrelid = v.attrelid and tm.attnum <> v.attnum
                where v.attrelid = r.oid
                  and (v.norm ~ %(version_column_pattern)s or (v.norm = 'id' and v.typcategory = 'S'))
                  and (tm.typname in ('timestamp', 'timestamptz', 'date')
                       or tm.norm ~ %(time_column_pattern)s))
), ext as (  -- tables an extension owns: neither a history nor the application's
  select d.objid from pg_catalog.pg_depend d
  where d.classid = 'pg_catalog.pg_class'::regclass and d.deptype = 'e'
    and d.refclassid = 'pg_catalog.pg_extension'::regclass
), found as (
  select distinct on (m.oid) m.oid, m.tool, m.ord,
         greatest(m.reltuples, -1)::bigint as est_rows
  from (select * from matched union all select * from shaped) m
  where (m.column_re = '' or exists (
          select 1 from pg_catalog.pg_attribute a
          where a.attrelid = m.oid and a.attnum > 0 and not a.attisdropped
            and lower(a.attname) ~ m.column_re))
    and m.oid not in (select e.objid from ext e)
  order by m.oid, m.ord
), target as (
  -- where the minimal version table would go: public if audited, else the first audited schema
  select coalesce((select s from unnest(%(schemas)s::text[]) s where s = 'public'),
                  (select min(s) from unnest(%(schemas)s::text[]) s), 'public') as nspname
)
select quote_ident(current_database()) as object, 'database' as object_type,
       false as _found, null::text[] as _tools,
       (select count(*) from rels r where r.in_scope_schema and r.oid not in (select e.objid from ext e))
         as tables_in_scope,
       (select count(*) from pg_catalog.pg_namespace
        where nspname !~ '^pg_' and nspname <> 'information_schema') as schemas_searched,
       (select count(distinct tool) from tools) as _tools_count,
       null::text as _tables_text,
       format('create table %%I.schema_migrations (
  version varchar(255) primary key,
  applied_at timestamptz not null default now()
);', (select nspname from target)) as remediation
where not exists (select 1 from found)
union all
select quote_ident(current_database()), 'database', true,
       array_agg(distinct f.tool order by f.tool),
       null, null, null,
       string_agg(f.oid::regclass::text
                  || case when f.est_rows >= 0 then format(', ~%%s rows', f.est_rows) else '' end,
                  '; ' order by f.oid::regclass::text),
       null
from found f
having count(*) > 0
order by 1
