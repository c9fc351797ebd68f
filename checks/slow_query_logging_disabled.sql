/* pgaudit
id = "slow_query_logging_disabled"
title = "Slow query logging disabled (log_min_duration_statement = -1)"
section = "7.3"
format = 2
needs = ["catalog", "settings"]  # shared_preload_libraries, session_preload_libraries
detects = "log_min_duration_statement = -1 as the audit role sees it (server, ALTER DATABASE or ALTER ROLE level, read before pgaudit's own SETs), and login roles whose own ALTER ROLE ... SET switches it off while the database logs slow statements. A value of 0 (every statement logged) is reported as info for its log volume. The evidence says whether auto_explain and pg_stat_statements are loaded and whether sampled logging (log_min_duration_sample) is on."
why = "Without a slow-query log nobody sees which statements degrade as tables grow until users complain, and the time spent, the plans and the parameters of the slow calls are lost. A 1 s threshold costs almost nothing in log volume and gives the raw material for pgBadger or a log-based alert. On cloud databases, slow queries are the main driver of instance size, IOPS and cost."
example = "show log_min_duration_statement;  -- -1"
fix = "alter database app set log_min_duration_statement = '1s';  -- or server-wide: alter system set log_min_duration_statement = '1s'; select pg_reload_conf();"
ignore_when = "Slow statements are captured another way that keeps the statement text and timings (pg_stat_statements with regular snapshots, auto_explain with log_min_duration, a managed 'Query Insights' service) and that is documented."
references = ["https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-MIN-DURATION-STATEMENT", "https://www.postgresql.org/docs/current/auto-explain.html", "https://www.postgresql.org/docs/current/sql-alterdatabase.html"]
ok = "Slow statements are logged (log_min_duration_statement is set)"
impact = "Slow queries go unnoticed until they cause an incident; there is no record to tune from."
message = "{object}: {_problem}; set at {_set_at} level"
remediation = "Set a threshold for the database (applies to new sessions; needs superuser or, on PostgreSQL 15+, GRANT SET ON PARAMETER): ALTER DATABASE ... SET log_min_duration_statement = '1s'. For the whole server use ALTER SYSTEM SET log_min_duration_statement = '1s' followed by SELECT pg_reload_conf() (or the provider's parameter group). Add auto_explain (shared_preload_libraries, auto_explain.log_min_duration) to also log the plans of slow statements."

[severity]
default = "warning"
# 0 logs every statement: slow ones are not lost, the cost is log volume
info = ["_kind = 'all'"]

[labels]
setting = "log_min_duration_statement"
level = "Set at"
log_min_duration_sample = "log_min_duration_sample"
log_statement_sample_rate = "log_statement_sample_rate"

[params]
recommended = "1s"
*/
with sess as (
  select s ->> 'setting' as setting, s ->> 'unit' as unit, s ->> 'source' as source
  from (select %(session_settings)s::jsonb -> 'log_min_duration_statement' as s) x
), libs as (
  select coalesce(%(session_settings)s::jsonb -> 'shared_preload_libraries' ->> 'setting',
                  current_setting('shared_preload_libraries')) as spl,
         coalesce(current_setting('session_preload_libraries', true), '') as sessl,
         current_setting('log_min_duration_sample', true) as sample,
         current_setting('log_statement_sample_rate', true) as sample_rate
), facts as (
  select sess.*, libs.*,
         (libs.spl || ',' || libs.sessl) ~ '(^|[\s,])(\$libdir/)?auto_explain([\s,]|$)' as auto_explain,
         libs.spl ~ '(^|[\s,])(\$libdir/)?pg_stat_statements([\s,]|$)' as pg_stat_statements,
         case sess.source when 'database' then 'database (ALTER DATABASE)'
                          when 'user' then 'role (ALTER ROLE)'
                          when 'database user' then 'role in database (ALTER ROLE ... IN DATABASE)'
                          else 'server (' || coalesce(sess.source, 'unknown') || ')' end as level
  from sess cross join libs
), role_off as (
  -- login roles switching it off for themselves while the database level logs
  select r.rolname, s.setdatabase, e.entry,
         case when s.setdatabase = 0 then 'role (ALTER ROLE)'
              else 'role in database (ALTER ROLE ... IN DATABASE)' end as role_level
  from pg_catalog.pg_db_role_setting s
  cross join lateral unnest(s.setconfig) e(entry)
  join pg_catalog.pg_roles r on r.oid = s.setrole
  where s.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))
    and r.rolcanlogin
    and split_part(e.entry, '=', 1) = 'log_min_duration_statement'
    and substr(e.entry, strpos(e.entry, '=') + 1) ~ '^\s*-1\s*$'
), found as (
  select 'log_min_duration_statement' as object, 'setting' as object_type,
         case f.setting when '-1' then 'off' else 'all' end as kind,
         null::text as rolname, null::text as entry, null::text as role_level, null::oid as setdatabase
  from facts f
  where f.setting in ('-1', '0')
  union all
  select quote_ident(r.rolname), 'role', 'role', r.rolname, r.entry, r.role_level, r.setdatabase
  from role_off r
)
select d.object, d.object_type,
       d.kind as _kind,
       case d.kind
         when 'off' then '-1, so no statement is logged for its duration'
         when 'all' then '0, so every statement is logged with its duration: on a busy server this multiplies log volume and storage cost'
         else 'a login role that switches slow query logging off for its own sessions (log_min_duration_statement = -1), whatever the database or server sets'
       end as _problem,
       coalesce(d.role_level, f.level) as _set_at,
       f.setting, f.unit, f.source, f.level,
       f.auto_explain as auto_explain_loaded,
       f.pg_stat_statements as pg_stat_statements_loaded,
       f.sample as log_min_duration_sample,
       f.sample_rate as log_statement_sample_rate,
       d.entry as role_setting,
       case when d.kind = 'role' then split_part(d.role_level, ' (', 1) end as role_level,
       case when d.kind <> 'role'
              then format('alter database %%I set log_min_duration_statement = %%L;', current_database(), %(recommended)s::text)
            when d.setdatabase = 0
              then format('alter role %%I reset log_min_duration_statement;', d.rolname)
            else format('alter role %%I in database %%I reset log_min_duration_statement;', d.rolname, current_database())
       end as remediation
from found d cross join facts f
order by 2, 1
