/* pgaudit
id = "pg_stat_statements_missing"
title = "Query statistics (pg_stat_statements) unavailable"
section = "3.2"
format = 2
needs = ["catalog"]
detects = "pg_stat_statements is not usable from this database: the library is not in shared_preload_libraries, the extension is not created in this database, its view is not readable by the audit role, or pg_stat_statements.track = none. Also notes (info) when the role cannot read other roles' query texts (no pg_read_all_stats)."
why = "Without per-statement statistics nobody can say which queries consume the time, so index and query-pattern decisions are guesswork and slow_queries cannot run. The module costs little and is available on every managed service."
example = "shared_preload_libraries = ''  -- and no CREATE EXTENSION pg_stat_statements"
fix = "shared_preload_libraries = 'pg_stat_statements'  -- restart, then: create extension pg_stat_statements;"
ignore_when = "Query statistics are collected by another tool (pg_stat_monitor, an APM agent reading the server's logs) and reviewed there."
references = ["https://www.postgresql.org/docs/current/pgstatstatements.html", "https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-SHARED-PRELOAD-LIBRARIES", "https://www.postgresql.org/docs/current/predefined-roles.html"]
ok = "pg_stat_statements is preloaded, installed and readable"
impact = "No evidence of which statements are slow or frequent: query-pattern checks cannot run."
message = "pg_stat_statements is not fully usable in {object}: {_problem}"
remediation = "Add pg_stat_statements to shared_preload_libraries (a server restart; on managed services, the parameter group or flags), run CREATE EXTENSION pg_stat_statements in the database, and grant the audit role pg_read_all_stats (or pg_monitor) so it sees every role's statements."

[severity]
default = "warning"
# the statistics are collected and readable; only other roles' query texts are hidden
info = ["_missing = 'read_all_stats'"]

[labels]
preloaded = "Library preloaded"
track = "pg_stat_statements.track"
role_reads_all_stats = "Audit role has pg_read_all_stats"
*/
with facts as (
  select
    (select e.extversion from pg_catalog.pg_extension e where e.extname = 'pg_stat_statements') as ext_version,
    (select n.nspname from pg_catalog.pg_extension e
       join pg_catalog.pg_namespace n on n.oid = e.extnamespace
      where e.extname = 'pg_stat_statements') as ext_schema,
    -- NULL when shared_preload_libraries is hidden from this role (pg_read_all_settings)
    (select s.setting from pg_catalog.pg_settings s where s.name = 'shared_preload_libraries') as spl,
    (select s.setting from pg_catalog.pg_settings s where s.name = 'pg_stat_statements.track') as track,
    pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') as read_all_stats
), shaped as (
  select f.*,
         case when f.spl is not null
              then f.spl ~ '(^|[\s,])"?pg_stat_statements"?($|[\s,])'
              else f.track is not null end as preloaded,
         f.ext_schema is not null
           and has_table_privilege(format('%%I.pg_stat_statements', f.ext_schema), 'SELECT') as readable
  from facts f
), judged as (
  select s.*,
         case when not s.preloaded then 'library'
              when s.ext_schema is null then 'extension'
              when not s.readable then 'view_access'
              when s.track = 'none' then 'track'
              else 'read_all_stats' end as missing
  from shaped s
  where not s.preloaded or s.ext_schema is null or not s.readable
     or s.track = 'none' or not s.read_all_stats
)
select quote_ident(current_database()) as object,
       'database' as object_type,
       j.missing as _missing,
       case j.missing
         when 'library' then 'the library is not in shared_preload_libraries (add it, restart the server, then CREATE EXTENSION pg_stat_statements)'
         when 'extension' then 'the library is preloaded but the extension is not created in this database'
         when 'view_access' then 'the audit role cannot SELECT from the pg_stat_statements view (grant pg_read_all_stats or pg_monitor)'
         when 'track' then 'pg_stat_statements.track is none: nothing is recorded (set it to top and reload)'
         else 'the audit role lacks pg_read_all_stats: other roles'' query texts show as <insufficient privilege>'
       end as _problem,
       coalesce(j.spl, '(hidden from this role)') as shared_preload_libraries,
       j.preloaded,
       j.ext_version as extension_version,
       j.ext_schema as extension_schema,
       j.track,
       j.read_all_stats as role_reads_all_stats,
       case when j.preloaded and j.ext_schema is null
            then 'create extension if not exists pg_stat_statements;' end as remediation
from judged j
