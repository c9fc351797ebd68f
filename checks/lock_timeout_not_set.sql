/* pgaudit
id = "lock_timeout_not_set"
title = "No lock_timeout for the database or its login roles"
section = "4.2"
severity = "critical"
priority = "immediate"
needs = ["catalog"]
detects = "Databases where lock_timeout is 0 (wait forever) at server, ALTER DATABASE and ALTER ROLE ALL level while some login role that may connect has no value of its own: one finding for the database, listing those roles (they are grouped there rather than reported one by one, since one ALTER DATABASE fixes them all). Separately, each login role whose own ALTER ROLE (or ALTER ROLE ... IN DATABASE) value switches it off (0), overriding whatever the database sets (info for superusers, which are often deliberate). Levels are read from pg_db_role_setting and from the audit role's settings captured before pgaudit's own SETs (pgaudit sets its own lock_timeout), never from current_setting()."
why = "A statement waiting for a lock sits in the lock queue, and every later statement that needs a conflicting lock queues behind it: one ALTER TABLE waiting on a long transaction blocks all reads and writes of the table, and a SELECT ... FOR UPDATE on a hot row (users.credits) can wait indefinitely. With lock_timeout the waiter gives up after a few seconds and the application retries, instead of connections piling up until the pool is exhausted."
example = "-- postgresql.conf: lock_timeout = 0, and no ALTER DATABASE/ROLE ... SET lock_timeout"
fix = "alter database app set lock_timeout = '5s';  -- migrations: set lock_timeout = '3s' per session and retry"
ignore_when = "The application, pooler or migration harness sets lock_timeout on every connection or transaction (SET lock_timeout in the pool's connection hook, TypeORM/Prisma/Rails migration settings, PgBouncer connect_query): the database then looks unset but is not. Document where it is set and waive this check. Superuser or maintenance roles with 0 are often deliberate."
references = ["https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT", "https://www.postgresql.org/docs/current/explicit-locking.html", "https://www.postgresql.org/docs/current/sql-alterdatabase.html", "https://www.postgresql.org/docs/current/sql-alterrole.html"]
ok = "lock_timeout is configured for the database and its login roles"
impact = "One statement waiting for a lock queues every later conflicting statement behind it: blocked tables, piled-up connections, outages from a single migration."
message = "{object}: lock_timeout not set"
remediation = "Set a default every session inherits (ALTER DATABASE ... SET lock_timeout), typically a few seconds, and make the application retry on SQLSTATE 55P03 (lock_not_available). Give roles that legitimately wait longer their own value (ALTER ROLE ... IN DATABASE ... SET). It applies to new sessions only; no table is rewritten or locked."

[params]
setting = "lock_timeout"
recommended = "5s"
*/
with db as (
  select d.oid, d.datname from pg_catalog.pg_database d where d.datname = current_database()
), sess as (
  -- the audit role's own view of the setting, read before pgaudit's SETs
  select s ->> 'setting' as setting, s ->> 'unit' as unit, s ->> 'source' as source
  from (select %(session_settings)s::jsonb -> %(setting)s::text as s) x
), srv as (
  -- the server level (postgresql.conf, command line, default) is only known when no
  -- database- or role-level value masks it for the audit role
  select case when sess.source in ('default', 'configuration file', 'command line',
                                   'environment variable', 'override')
              then sess.setting::numeric * case sess.unit when 's' then 1000 when 'min' then 60000
                                                          else 1 end end as ms,
         sess.source
  from sess
), cfg as (
  select s.setdatabase, s.setrole, substr(e.entry, strpos(e.entry, '=') + 1) as raw
  from pg_catalog.pg_db_role_setting s
  cross join lateral unnest(s.setconfig) e(entry)
  where s.setdatabase in (0, (select oid from db))
    and split_part(e.entry, '=', 1) = %(setting)s::text
), cfg_ms as (
  select c.setdatabase, c.setrole, c.raw,
         case when c.raw ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*(us|ms|s|min|h|d)?\s*$'
              then substring(c.raw from '^\s*(-?[0-9]+(?:\.[0-9]+)?)')::numeric
                   * case coalesce(substring(c.raw from '(us|ms|s|min|h|d)\s*$'), 'ms')
                       when 'us' then 0.001 when 'ms' then 1 when 's' then 1000
                       when 'min' then 60000 when 'h' then 3600000 else 86400000 end
         end as ms
  from cfg c
), levels as (
  select (select ms from cfg_ms where setdatabase = (select oid from db) and setrole = 0) as db_ms,
         (select raw from cfg_ms where setdatabase = (select oid from db) and setrole = 0) as db_raw,
         (select ms from cfg_ms where setdatabase = 0 and setrole = 0) as all_ms,
         (select ms from srv) as server_ms,
         (select source from srv) as server_source
), roles as (
  -- login roles that may connect to this database
  select r.oid, r.rolname, r.rolsuper,
         (select ms from cfg_ms c where c.setdatabase = (select oid from db) and c.setrole = r.oid) as dbrole_ms,
         (select raw from cfg_ms c where c.setdatabase = (select oid from db) and c.setrole = r.oid) as dbrole_raw,
         (select ms from cfg_ms c where c.setdatabase = 0 and c.setrole = r.oid) as role_ms,
         (select raw from cfg_ms c where c.setdatabase = 0 and c.setrole = r.oid) as role_raw
  from pg_catalog.pg_roles r
  where r.rolcanlogin and r.rolname !~ '^pg_'
    and has_database_privilege(r.oid, (select datname from db), 'CONNECT')
), eff as (
  select r.*, coalesce(r.dbrole_ms, r.role_ms) as own_ms,
         case when r.dbrole_ms is not null then 'role in database'
              when r.role_ms is not null then 'role' end as own_level
  from roles r
), base as (
  -- what a role without its own value gets: database, then ALTER ROLE ALL, then the server
  select l.*, coalesce(l.db_ms, l.all_ms, l.server_ms) as base_ms,
         case when l.db_ms is not null then 'database'
              when l.all_ms is not null then 'all roles (ALTER ROLE ALL)'
              when l.server_ms is not null then 'server' end as base_level
  from levels l
), findings as (
  select quote_ident(current_database()) as object, 'database' as object_type,
         null::text as severity,
         format('%%s is not set for database %%s: %%s, and %%s of %%s login role(s) that may connect have no value of their own (%%s)',
                %(setting)s::text, quote_ident(current_database()),
                case when b.db_ms = 0 then 'the database level sets it to 0 (disabled)'
                     when b.server_ms is null then 'no database-level value (the server-level value is masked for the audit role, source ' || b.server_source || ')'
                     else 'neither the server level (source: ' || coalesce(b.server_source, '?') || ') nor ALTER DATABASE sets it' end,
                (select count(*) from eff where own_ms is null),
                (select count(*) from eff),
                coalesce((select string_agg(quote_ident(rolname), ', ' order by rolname)
                          from eff where own_ms is null), 'none')) as detail,
         jsonb_build_object(
           'setting', %(setting)s::text,
           'server_ms', b.server_ms, 'server_source', b.server_source,
           'database_value', b.db_raw, 'all_roles_ms', b.all_ms,
           'roles_without_own_value', coalesce((select jsonb_agg(rolname order by rolname) from eff where own_ms is null), '[]'),
           'roles_with_own_value', coalesce((select jsonb_object_agg(rolname, coalesce(dbrole_raw, role_raw)) from eff where own_ms is not null), '{}'),
           'recommended', %(recommended)s::text) as evidence,
         format('alter database %%I set %%s = %%L;', current_database(), %(setting)s::text,
                %(recommended)s::text) as remediation
  from base b
  where coalesce(b.base_ms, 0) = 0
    and exists (select 1 from eff where own_ms is null)
  union all
  select quote_ident(e.rolname), 'role',
         case when e.rolsuper then 'info' end,
         format('%%s is disabled (%%s) for login role %%s at %%s level, overriding %%s',
                %(setting)s::text, coalesce(e.dbrole_raw, e.role_raw), quote_ident(e.rolname),
                e.own_level,
                case when coalesce(b.base_ms, 0) > 0
                     then format('the %%s-level value (%%s ms)', b.base_level, b.base_ms)
                     else 'nothing (no database-level value either)' end),
         jsonb_build_object('setting', %(setting)s::text, 'role_value', coalesce(e.dbrole_raw, e.role_raw),
                            'level', e.own_level, 'superuser', e.rolsuper,
                            'base_ms', b.base_ms, 'base_level', b.base_level,
                            'recommended', %(recommended)s::text),
         format('alter role %%I in database %%I set %%s = %%L;', e.rolname, current_database(),
                %(setting)s::text, %(recommended)s::text)
  from eff e cross join base b
  where e.own_ms = 0
)
select f.object, f.object_type, f.severity, f.detail, f.evidence, f.remediation
from findings f
union all
-- the 🟢 line with the numbers when nothing is wrong
select quote_ident(current_database()), 'database', 'ok',
       format('%%s configured (%%s%%s)', %(setting)s::text,
              case when b.base_level is null then 'by every login role'
                   else coalesce(b.db_raw, b.base_ms::bigint || 'ms') || ' at ' || b.base_level || ' level' end,
              case when (select count(*) from eff where own_ms > 0) > 0
                   then format('; %%s login role(s) set their own', (select count(*) from eff where own_ms > 0))
                   else '' end),
       jsonb_build_object('setting', %(setting)s::text, 'base_ms', b.base_ms, 'base_level', b.base_level),
       null
from base b
where not exists (select 1 from findings)
order by 1, 2
