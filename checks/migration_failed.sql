/* pgaudit
id = "migration_failed"
title = "Failed, dirty or unfinished schema migration"
section = "5.2"
format = 2
needs = ["data"]
locks = true
detects = "Migration history tables (in any user schema) whose rows show a migration that did not finish: flyway / sqlx success = false, golang-migrate dirty = true, a liquibase changelog lock held longer than stale_lock_s, a knex migration lock held, prisma migrations neither finished nor rolled back. Alembic with several rows in alembic_version (several heads: branches not merged) is reported as info. One bounded probe reads each history table found."
why = "A half-applied migration leaves the schema between two versions: the next deploy refuses to run (dirty/failed state, held lock) or, worse, runs on top of a schema it does not expect. Until someone repairs it, every release is blocked and the schema version recorded is a lie."
example = "-- golang-migrate: select version, dirty from schema_migrations;  -> 20240101120000 | t"
fix = "Inspect the schema by hand, finish or revert the failed migration's statements, then clear the state with the tool (migrate force V, flyway repair, liquibase releaseLocks, knex migrate:unlock, prisma migrate resolve)."
ignore_when = "A migration is running right now (a lock held for seconds during a deploy)."
references = ["https://github.com/golang-migrate/migrate/blob/master/GETTING_STARTED.md#forcing-your-database-version", "https://documentation.red-gate.com/fd/repair-277578856.html", "https://docs.liquibase.com/commands/utility/release-locks.html", "https://www.prisma.io/docs/orm/prisma-migrate/workflows/patching-and-hotfixing"]
ok = "No failed, dirty or unfinished migration in the history tables"
impact = "Deployments are blocked or run against a half-migrated schema."
message = "{object}: {_summary}"
remediation = "First make the schema match one version by hand (finish or undo the failed migration's statements: DDL in PostgreSQL is transactional, but migrations run with CREATE INDEX CONCURRENTLY or in several transactions can stop half-way). Then clear the tool's state with its own command; the SQL given does the same for tools whose state is one flag, and is safe only after that check."

[severity]
default = "critical"
# several alembic heads: branches not merged, not a failure
info = ["tool = 'alembic'"]

[labels]
tool = "Migration tool"
failed = "Failed (first 5)"
locked = "Lock held"
lockedby = "Locked by"
lockgranted = "Lock granted at"
lock_age_s = "Lock held for"
is_locked = "Lock flag"
unfinished = "Unfinished (first 5)"

[params]
stale_lock_s = 900
*/
with cand as (
  select c.oid, lower(c.relname) as name,
         array_agg(lower(a.attname::text) order by a.attnum) as cols
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where c.relkind in ('r', 'p') and not c.relispartition
    and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
    and lower(c.relname) in ('flyway_schema_history', 'schema_version', '_sqlx_migrations',
                             'schema_migrations', 'databasechangeloglock', 'knex_migrations_lock',
                             '_prisma_migrations', 'alembic_version')
    and c.oid <> all(%(locked)s::oid[])
    and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
                      and d.deptype = 'e'
                      and d.refclassid = 'pg_catalog.pg_extension'::regclass)
  group by c.oid, c.relname
), kinds as (
  select c.oid, c.oid::regclass::text as t,
         case
           when c.name in ('flyway_schema_history', 'schema_version')
                and c.cols @> array['success', 'installed_rank', 'version'] then 'flyway'
           when c.name = '_sqlx_migrations' and c.cols @> array['success', 'version'] then 'sqlx'
           when c.name = 'schema_migrations' and c.cols @> array['dirty', 'version'] then 'golang-migrate'
           when c.name = 'databasechangeloglock' and c.cols @> array['locked', 'lockgranted'] then 'liquibase'
           when c.name = 'knex_migrations_lock' and c.cols @> array['is_locked'] then 'knex'
           when c.name = '_prisma_migrations'
                and c.cols @> array['migration_name', 'finished_at', 'rolled_back_at'] then 'prisma'
           when c.name = 'alembic_version' and c.cols @> array['version_num'] then 'alembic'
         end as tool
  from cand c
)
select k.t as object, 'table' as object_type,
       k.tool,
       null::text as _summary,  -- the probe's sentence replaces it
       case k.tool
         when 'golang-migrate' then format(
'-- only after the schema has been checked to match the recorded version by hand
-- (same as: migrate force <version>):
update %%s set dirty = false where dirty;', k.t)
         when 'liquibase' then format(
'-- only when no liquibase process is running (same as: liquibase releaseLocks):
update %%s set locked = false, lockgranted = null, lockedby = null where locked;', k.t)
         when 'knex' then format(
'-- only when no knex process is running (same as: knex migrate:unlock):
update %%s set is_locked = 0 where is_locked <> 0;', k.t)
       end as remediation,
       case k.tool
         when 'flyway' then format(
$p$select count(*) > 0 as fires,
       jsonb_build_object('failed_migrations', count(*),
         'failed', jsonb_agg(jsonb_build_object('version', version, 'description', description,
                                                'installed_on', installed_on) order by installed_rank),
         '_summary', format('flyway recorded %%%%s failed migration%%%%s, first version %%%%s (%%%%s): run flyway repair once the schema is fixed',
                           count(*), case when count(*) = 1 then '' else 's' end, min(version), min(description))) as evidence
from (select installed_rank, version, description, installed_on from %%s
      where not success order by installed_rank limit 5) f$p$, k.t)
         when 'sqlx' then format(
$p$select count(*) > 0 as fires,
       jsonb_build_object('failed_migrations', count(*),
         'failed', jsonb_agg(jsonb_build_object('version', version, 'description', description) order by version),
         '_summary', format('sqlx recorded %%%%s failed migration%%%%s, first version %%%%s: fix the schema, then delete the failed row and rerun', count(*), case when count(*) = 1 then '' else 's' end, min(version))) as evidence
from (select version, description from %%s where not success order by version limit 5) f$p$, k.t)
         when 'golang-migrate' then format(
$p$select coalesce(bool_or(dirty), false) as fires,
       jsonb_build_object('version', max(version)::text, 'dirty', bool_or(dirty),
         '_summary', format('golang-migrate marks version %%%%s dirty: a migration failed half-way', max(version))) as evidence
from (select version, dirty from %%s limit 10) f$p$, k.t)
         when 'liquibase' then format(
$p$select coalesce(bool_or(locked and (lockgranted is null or lockgranted < now() - make_interval(secs => %%s))), false) as fires,
       jsonb_build_object('locked', bool_or(locked), 'lockedby', max(lockedby), 'lockgranted', max(lockgranted),
         'lock_age_s', extract(epoch from now() - max(lockgranted))::bigint,
         '_summary', format('liquibase changelog lock held by %%%%s since %%%%s: a crashed update left it', coalesce(max(lockedby), 'unknown'), coalesce(max(lockgranted)::text, 'unknown'))) as evidence
from (select locked, lockgranted, lockedby from %%s limit 10) f$p$, %(stale_lock_s)s::int, k.t)
         when 'knex' then format(
$p$select coalesce(bool_or(is_locked::int <> 0), false) as fires,
       jsonb_build_object('is_locked', max(is_locked::int),
         '_summary', 'knex migration lock is held: a crashed or running migrate left it') as evidence
from (select is_locked from %%s limit 10) f$p$, k.t)
         when 'prisma' then format(
$p$select count(*) > 0 as fires,
       jsonb_build_object('unfinished', jsonb_agg(jsonb_build_object('migration_name', migration_name,
           'started_at', started_at, 'logs', left(logs, 200)) order by started_at, migration_name),
         '_summary', format('prisma migration %%%%s started %%%%s never finished nor was rolled back (%%%%s in all): prisma migrate resolve once the schema is fixed',
                           min(migration_name), min(started_at), count(*))) as evidence
from (select migration_name, started_at, logs from %%s
      where finished_at is null and rolled_back_at is null order by started_at, migration_name limit 5) f$p$, k.t)
         when 'alembic' then format(
$p$select count(*) > 1 as fires,
       jsonb_build_object('heads', jsonb_agg(version_num order by version_num),
         '_summary', format('alembic_version holds %%%%s heads: branches not merged (alembic merge heads), intended only with multiple bases', count(*))) as evidence
from (select version_num from %%s order by version_num limit 20) f$p$, k.t)
       end as probe
from kinds k
where k.tool is not null
order by 1
