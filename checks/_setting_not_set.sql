-- Shared by lock_timeout_not_set, statement_timeout_not_set and
-- idle_in_transaction_timeout_not_set: %(setting)s names the setting, %(recommended)s the value.
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
