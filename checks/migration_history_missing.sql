/* pgaudit
id = "migration_history_missing"
title = "No migration history table"
section = "5.1"
format = 2
needs = ["catalog"]
detects = "Databases with no schema-migration history table in any user schema (alembic_version, flyway_schema_history, databasechangelog, schema_migrations, django_migrations, knex_migrations, _prisma_migrations, typeorm/laravel migrations, SequelizeMeta, goose_db_version, __EFMigrationsHistory, _sqlx_migrations, __diesel_schema_migrations, sqitch, and engine-managed version tables). Every schema of the database is searched, not only the audited ones: a tool may keep its table elsewhere. When one is found, a 🟢 line names the tool."
why = "Without a recorded history nobody can say which schema version is deployed, changes are applied by hand and drift between environments, and there is no tested way back after a bad release."
example = "-- tables created by hand in psql or by an ORM's synchronize/auto-migrate on start-up; no history table"
fix = "Adopt a migration tool (alembic, flyway, sqitch, golang-migrate, the ORM's migrations), baseline the current schema as version 1, and deploy every change through it."
ignore_when = "The schema is managed by a tool that keeps its history outside the database (e.g. a declarative schema tool such as Atlas or pgroll's state in another database) or by an engine that upgrades itself; add its table to the tools param."
references = ["https://www.postgresql.org/docs/current/ddl.html", "https://documentation.red-gate.com/fd/flyway-schema-history-table-273973417.html", "https://alembic.sqlalchemy.org/en/latest/tutorial.html"]
ok = "A migration history table records the schema versions"
impact = "No record of which schema version is deployed and no rollback path; manual changes drift between environments."
message = "database {object} has no migration history table in any schema (looked for {_tools_count} known tools)"
ok_message = "Migration history kept by {_tools} ({_tables_text})"
remediation = "Adopt a migration tool and baseline the current schema. The SQL creates the minimal version table of the review (5.3.1); a real tool creates its own table instead, so prefer running its baseline command."

[severity]
default = "critical"
ok = ["_found"]

[params]
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
), rels as materialized (
  select c.oid, n.nspname, lower(c.relname) as lname, c.reltuples
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p') and not c.relispartition
    and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
), matched as (
  select r.*, tl.tool, tl.ord, tl.column_re
  from rels r join tools tl on tl.table_name = r.lname
  union all
  select r.*, tl.tool, tl.ord, tl.column_re
  from rels r join tools tl on tl.table_name is null and r.lname ~ tl.table_re
), found as (
  select distinct on (m.oid) m.oid, m.nspname, m.tool, m.ord,
         greatest(m.reltuples, -1)::bigint as est_rows
  from matched m
  where (m.column_re = '' or exists (
          select 1 from pg_catalog.pg_attribute a
          where a.attrelid = m.oid and a.attnum > 0 and not a.attisdropped
            and lower(a.attname) ~ m.column_re))
    and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = m.oid
                      and d.deptype = 'e'
                      and d.refclassid = 'pg_catalog.pg_extension'::regclass)
  order by m.oid, m.ord
), target as (
  -- where the minimal version table would go: public if audited, else the first audited schema
  select coalesce((select s from unnest(%(schemas)s::text[]) s where s = 'public'),
                  (select min(s) from unnest(%(schemas)s::text[]) s), 'public') as nspname
)
select quote_ident(current_database()) as object, 'database' as object_type,
       false as _found, null::text[] as _tools,
       (select array_agg(distinct tool order by tool) from tools) as tools_checked,
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
