-- Shared by lock_timeout_not_set, statement_timeout_not_set and
-- idle_in_transaction_timeout_not_set: %(setting)s names the setting, %(recommended)s the value.
-- Facts only: each check's header words them and rates them (superuser roles: info; the
-- configured row: ok).
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
              then sess.setting::float8 * case sess.unit when 's' then 1000 when 'min' then 60000
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
              then substring(c.raw from '^\s*(-?[0-9]+(?:\.[0-9]+)?)')::float8
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
         case when r.dbrole_ms is not null then 'ALTER ROLE ... IN DATABASE'
              when r.role_ms is not null then 'ALTER ROLE' end as own_level
  from roles r
), base as (
  -- what a role without its own value gets: database, then ALTER ROLE ALL, then the server
  select l.*, coalesce(l.db_ms, l.all_ms, l.server_ms) as base_ms,
         case when l.db_ms is not null then 'ALTER DATABASE'
              when l.all_ms is not null then 'ALTER ROLE ALL'
              when l.server_ms is not null then 'the server (' || l.server_source || ')' end as base_level,
         (select array_agg(rolname::text order by rolname) from eff where own_ms is null) as inheriting,
         coalesce((select jsonb_object_agg(rolname, coalesce(dbrole_raw, role_raw) order by rolname)
                   from eff where own_ms is not null), '{}') as own_values,
         (select count(*) from eff) as login_roles,
         (select count(*) from eff where own_ms > 0) as own_nonzero
  from levels l
), findings as (
  -- the database: every login role without a value of its own inherits 0
  select quote_ident(current_database()) as object, 'database' as object_type,
         case when b.db_ms = 0 then 'ALTER DATABASE'
              when b.db_ms is null and b.all_ms = 0 then 'ALTER ROLE ALL'
              when b.server_ms is not null then 'the server (' || b.server_source || ')'
              -- a role-level value of the audit role hides the server's
              else 'any level visible (the server''s is masked for the audit role, source '
                   || b.server_source || ')' end as set_by,
         -- the value beside "Server level: 0 ms" says what 0 means
         coalesce('off (' || coalesce(b.db_raw, b.base_ms::text) || ')', 'no value') as value,
         cardinality(b.inheriting) as roles_affected,
         b.inheriting as roles_without_own_value, b.own_values as roles_with_own_value,
         b.own_nonzero as roles_setting_own, b.login_roles, b.server_ms, b.server_source, b.all_ms as all_roles_ms,
         null::boolean as superuser, null::float8 as default_ms, null::text as default_from,
         format('alter database %%I set %%s = %%L;', current_database(), %(setting)s::text,
                %(recommended)s::text) as remediation
  from base b
  where coalesce(b.base_ms, 0) = 0 and b.inheriting is not null
  union all
  -- a login role whose own value switches it off, whatever the database sets
  select quote_ident(e.rolname), 'role', e.own_level, 'off (' || coalesce(e.dbrole_raw, e.role_raw) || ')', 1,
         null, null, null, b.login_roles, null, null, null, e.rolsuper, b.base_ms, b.base_level,
         format('alter role %%I in database %%I set %%s = %%L;', e.rolname, current_database(),
                %(setting)s::text, %(recommended)s::text)
  from eff e cross join base b
  where e.own_ms = 0
)
select f.*, %(recommended)s::text as recommended, false as _configured,
       %(setting)s::text as _setting,  -- names the setting in the shared message
       -- who is affected and by which level, as a sentence (never "4 of 4 login role(s)")
       case when f.roles_affected < f.login_roles
              then format('%%s of %%s login roles', f.roles_affected, f.login_roles)
            when f.login_roles = 1 then 'the only login role'
            else format('all %%s login roles', f.login_roles) end as _roles_off,
       case when f.object_type = 'role' then format('its own %%s value is %%s', f.set_by, f.value)
            when f.set_by = 'the server (default)' then 'the server default is off'
            when f.set_by like 'the server (%%' then format('the server sets it %%s (%%s)', f.value, f.server_source)
            when f.set_by in ('ALTER DATABASE', 'ALTER ROLE ALL') then format('%%s sets it %%s', f.set_by, f.value)
            else format('%%s from %%s', f.value, f.set_by) end as _off_by
from findings f
union all
-- the 🟢 row with its numbers when nothing is wrong
select quote_ident(current_database()), 'database', coalesce(b.base_level, 'each login role'),
       coalesce(b.db_raw, b.base_ms::bigint || 'ms', 'its own'), 0, b.inheriting,
       b.own_values, b.own_nonzero, b.login_roles, b.server_ms, b.server_source, b.all_ms, null, null, null, null,
       %(recommended)s::text, true, %(setting)s::text, null, null
from base b
where not exists (select 1 from findings)
order by 1, 2
