/* pgaudit
id = "memory_settings_default"
title = "Memory and WAL settings left at their built-in defaults on a database they do not suit"
section = "3.3"
format = 2
needs = ["catalog"]
detects = "The settings named in settings (shared_buffers, work_mem, maintenance_work_mem, effective_cache_size, max_wal_size) whose value, as the audit's session sees it (server, database and role levels applied), equals the built-in default (pg_settings.boot_val, whether left unset or written back by initdb into postgresql.conf), on a database of at least min_database_bytes: the defaults are sized for a small machine (128 MB of shared buffers, 4 MB per sort, a 4 GB cache assumed). And, for max_wal_size whatever its value, requested checkpoints outnumbering timed ones (pg_stat_bgwriter, pg_stat_checkpointer from PostgreSQL 17) over a checkpoint statistics window of at least min_checkpoint_window_s with at least min_checkpoints checkpoints: WAL volume, not checkpoint_timeout, drives the checkpoints. Requested checkpoints also count manual CHECKPOINT, CREATE and DROP DATABASE and base backups, so read the evidence on servers that run those often. A warning; never critical: a performance matter, with no loss of data."
why = "PostgreSQL ships conservative defaults so that it starts on any machine. Left as they are on a real server, shared_buffers of 128 MB caches almost nothing of a multi-gigabyte database (everything goes through the kernel's cache and its copies), work_mem of 4 MB sends every sizeable sort and hash to temporary files, maintenance_work_mem of 64 MB makes index builds and vacuums of large tables slow (several passes over every index), effective_cache_size of 4 GB makes the planner shy of index scans on a machine with more memory, and max_wal_size of 1 GB makes busy servers checkpoint every few minutes: each checkpoint writes every dirty page and is followed by full-page images in the WAL, so writes and WAL volume multiply."
example = "show shared_buffers;  -- 128MB, on a 200 GB database on a 64 GB machine"
fix = "alter system set shared_buffers = '16GB';      -- about 25% of RAM; needs a restart\nalter system set effective_cache_size = '48GB'; -- about 75% of RAM\nalter system set max_wal_size = '16GB';\nalter database app set work_mem = '32MB';"
ignore_when = "A small or mostly idle database, or a machine with little memory where the defaults fit; a managed service whose parameter groups size memory by instance class (they usually are not the built-in defaults)."
references = ["https://www.postgresql.org/docs/current/runtime-config-resource.html", "https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-EFFECTIVE-CACHE-SIZE", "https://www.postgresql.org/docs/current/wal-configuration.html", "https://wiki.postgresql.org/wiki/Tuning_Your_PostgreSQL_Server"]
ok = "Memory and WAL settings are sized for this database, and checkpoints are mostly timed"
impact = "The server caches, sorts and checkpoints as if it were a small machine: more disk I/O, temporary files and WAL, slower queries and maintenance."
message = "{object} = {value}: {_problem}"
ok_message = "No setting is left at a default too small for this database of {database_bytes:size} (judged from {_min_bytes:size}); checkpoints: {_checkpoints}{checkpoint_stats_age_s:window:_checkpoint_window_s}"
remediation = "Size the settings to the machine: shared_buffers about 25% of RAM (a restart), effective_cache_size 50 to 75% of RAM, work_mem so that max_connections x a few sorts still fit in memory (raise it per role or per database for reporting workloads), maintenance_work_mem 256 MB to 1 GB, max_wal_size large enough that checkpoints are timed (watch pg_stat_checkpointer). The SQL given sets the per-database ones with moderate values (work_mem, maintenance_work_mem) and raises max_wal_size; the others depend on the machine's memory, which SQL cannot see."

[severity]
default = "warning"
ok = ["_kind = 'summary'"]

[labels]
value = "Value"
default_value = "Built-in default"
source = "Set at"
database_bytes = "Database size"
checkpoints_timed = "Timed checkpoints"
checkpoints_requested = "Requested checkpoints"
checkpoint_stats_age_s = "Checkpoint statistics window"

[params]
settings = ["shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "max_wal_size"]
min_database_bytes = 2147483648
min_checkpoints = 20
min_checkpoint_window_s = 86400
# values the SQL sets per database (moderate: size them to RAM and connections)
suggested_work_mem = "16MB"
suggested_maintenance_work_mem = "256MB"
*/
with db as (
  select pg_catalog.pg_database_size(current_database()) as bytes
), ckpt_words as (
  -- checkpoint counters moved from pg_stat_bgwriter to pg_stat_checkpointer in PostgreSQL 17:
  -- read the one this server has through a query string (a static reference to the other
  -- would not parse), as words name=value
  select w.word
  from pg_catalog.ts_stat(
    case when pg_catalog.to_regclass('pg_catalog.pg_stat_checkpointer') is not null
         then 'select pg_catalog.array_to_tsvector(array[''timed='' || num_timed, ''requested='' || num_requested,'
              ' ''age='' || extract(epoch from now() - coalesce(stats_reset, pg_catalog.pg_postmaster_start_time()))::bigint]) from pg_catalog.pg_stat_checkpointer'
         else 'select pg_catalog.array_to_tsvector(array[''timed='' || checkpoints_timed, ''requested='' || checkpoints_req,'
              ' ''age='' || extract(epoch from now() - coalesce(stats_reset, pg_catalog.pg_postmaster_start_time()))::bigint]) from pg_catalog.pg_stat_bgwriter'
    end) w
), ckpt as (
  select max(case when split_part(word, '=', 1) = 'timed' then split_part(word, '=', 2)::bigint end) as timed,
         max(case when split_part(word, '=', 1) = 'requested' then split_part(word, '=', 2)::bigint end) as requested,
         max(case when split_part(word, '=', 1) = 'age' then split_part(word, '=', 2)::bigint end) as age_s
  from ckpt_words
), s as (
  select x.name, x.setting, x.unit, x.boot_val, x.source,
         x.setting::numeric * case x.unit when '8kB' then 8192 when 'kB' then 1024 when 'MB' then 1048576
                                          when 'GB' then 1073741824 else 1 end as bytes,
         x.setting = x.boot_val as at_default
  from pg_catalog.pg_settings x
  where x.name = any(%(settings)s::text[])
), judged as (
  select s.*, db.bytes as db_bytes, c.timed, c.requested, c.age_s,
         s.at_default and db.bytes >= %(min_database_bytes)s::bigint as default_too_small,
         s.name = 'max_wal_size'
           and c.requested > c.timed
           and c.timed + c.requested >= %(min_checkpoints)s::bigint
           and c.age_s >= %(min_checkpoint_window_s)s::float8 as checkpoints_requested
  from s cross join db cross join ckpt c
)
select j.name as object,
       'setting' as object_type,
       'setting' as _kind,
       pg_catalog.pg_size_pretty(j.bytes) as value,
       pg_catalog.pg_size_pretty(j.boot_val::numeric * (j.bytes / greatest(j.setting::numeric, 1))) as default_value,
       j.source,
       concat_ws('; ',
         case when j.default_too_small
              then format('the built-in default, on a database over %%s: %%s',
                          pg_catalog.pg_size_pretty(%(min_database_bytes)s::bigint),
                          case j.name
                            when 'shared_buffers' then 'sized for a small machine, it caches a fraction of the data'
                            when 'work_mem' then 'sorts and hashes of more than 4 MB spill to temporary files'
                            when 'maintenance_work_mem' then 'index builds and vacuums of large tables take several passes'
                            when 'effective_cache_size' then 'the planner assumes a 4 GB cache and shies away from index scans'
                            when 'max_wal_size' then 'busy periods trigger checkpoints long before checkpoint_timeout'
                            else 'sized for a small machine' end) end,
         case when j.checkpoints_requested
              then 'more checkpoints are requested (WAL volume reaching max_wal_size) than timed: each writes every dirty page and multiplies full-page images in the WAL' end)
         as _problem,
       j.db_bytes as database_bytes,
       case when j.name = 'max_wal_size' then j.timed end as checkpoints_timed,
       case when j.name = 'max_wal_size' then j.requested end as checkpoints_requested,
       case when j.name = 'max_wal_size' then j.age_s end as checkpoint_stats_age_s,
       null::float8 as _checkpoint_window_s, null::bigint as _min_bytes, null::text as _checkpoints,
       case j.name
         when 'work_mem' then format(E'-- size it to RAM: max_connections x a few sorts x work_mem must fit\nalter database %%I set work_mem = %%L;',
                                     current_database(), %(suggested_work_mem)s::text)
         when 'maintenance_work_mem' then format('alter database %%I set maintenance_work_mem = %%L;',
                                                 current_database(), %(suggested_maintenance_work_mem)s::text)
         when 'max_wal_size' then format(E'-- pg_wal needs room for it; no restart\nalter system set max_wal_size = %%L;\nselect pg_catalog.pg_reload_conf();',
                                         pg_catalog.pg_size_pretty(j.bytes * 4))
       end as remediation
from judged j
where j.default_too_small or j.checkpoints_requested
union all
-- the 🟢 row: what was judged, and the checkpoint counters where their window was too short
select quote_ident(current_database()), 'database', 'summary', null, null, null, null,
       db.bytes, c.timed, c.requested, c.age_s,
       %(min_checkpoint_window_s)s::float8, %(min_database_bytes)s::bigint,
       -- a window too short: the engine's wording follows ({checkpoint_stats_age_s:window:...})
       case when c.age_s < %(min_checkpoint_window_s)s::float8
            then format('%%s timed and %%s requested', c.timed, c.requested)
            when c.timed + c.requested < %(min_checkpoints)s::bigint
            then format('%%s timed and %%s requested, too few to judge', c.timed, c.requested)
            else format('%%s timed, %%s requested', c.timed, c.requested) end,
       null
from db cross join ckpt c
where not exists (select 1 from judged j where j.default_too_small or j.checkpoints_requested)
order by 3 desc, 1
