/* pgaudit
id = "wal_archiving_disabled"
title = "WAL archiving off, failing or stalled: no point-in-time recovery"
section = "5.2"
format = 2
needs = ["catalog"]
detects = "On a primary: (1) archive_mode = off while no WAL leaves the server another way: no streaming standby or WAL receiver connected (pg_stat_replication) and no physical replication slot with reserved WAL that a backup tool streaming WAL (pg_receivewal, Barman, pgBackRest, WAL-G) would hold; a warning, since base backups taken some other way (snapshots, pg_dump) cannot be seen from SQL; (2) archive_mode on with no archive_command or archive_library: WAL is kept for an archiver that never runs; (3) the archiver failing: pg_stat_archiver's last failure is more recent than its last success; (4) the archiver stalled: its last success older than max_archive_age_s while WAL segments wait. (2) to (4) are critical: pg_wal keeps every segment not yet archived, so the disk fills and the server stops, and the archive (so the recovery point) falls behind. The number of segments waiting is computed from the current WAL file and the last archived one. On a standby only archive_mode = always is judged (a standby does not archive otherwise)."
why = "Without a continuous WAL archive the only way back after a lost disk, a dropped table or a bad migration is the last full backup: everything written since is gone, and there is no point-in-time recovery to the minute before the mistake. A streaming replica protects against the loss of a server, not against an error, which it replays at once. A failing or stalled archiver is worse than none: the backups look configured while the archive stops, and pg_wal grows until the server stops."
example = "show archive_mode;  -- off"
fix = "alter system set archive_mode = on;   -- needs a restart\nalter system set archive_library = 'pgbackrest';  -- or archive_command, per your backup tool\n-- then restart, and check pg_stat_archiver"
ignore_when = "The database holds only data rebuilt from elsewhere (a cache, a read model, a test environment), or a managed service archives WAL below PostgreSQL (most do, and show archive_mode on), or backups are storage snapshots taken often enough for the data's recovery point objective, and that is documented."
references = ["https://www.postgresql.org/docs/current/continuous-archiving.html", "https://www.postgresql.org/docs/current/runtime-config-wal.html#RUNTIME-CONFIG-WAL-ARCHIVING", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ARCHIVER-VIEW", "https://www.postgresql.org/docs/current/app-pgreceivewal.html"]
ok = "WAL is archived (or streamed off the server) and the archiver keeps up"
impact = "After a lost disk or a bad change, everything since the last full backup is lost; a failing archiver fills pg_wal and stops the server."
message = "{object}: {_problem}"
remediation = "Set up continuous archiving with a backup tool (pgBackRest, Barman, WAL-G): archive_mode = on (a restart) and its archive_command or archive_library, plus regular base backups, and test a point-in-time restore. Where the archiver fails, read the server log for the command's error (permissions, a full or unreachable target), fix it and watch pg_stat_archiver.failed_count stop growing and last_archived_time move. Alert on both."
replica_note = "A standby archives only with archive_mode = always; its pg_stat_archiver is its own."

[severity]
default = "warning"
# WAL waits in pg_wal for an archiver that fails or never runs: the disk fills
critical = ["_kind = 'failing'", "_kind = 'not_configured'", "_kind = 'stalled'"]

[labels]
archive_mode = "archive_mode"
wal_level = "wal_level"
streaming_replicas = "Streaming replicas and WAL receivers connected"
physical_slots = "Physical replication slots with reserved WAL"
archived_count = "Segments archived since the statistics reset"
failed_count = "Archive failures since the statistics reset"
last_archived_wal = "Last archived segment"
last_archived_time = "Last archived"
last_failed_wal = "Last failed segment"
last_failed_time = "Last failure"
segments_waiting = "WAL segments waiting to be archived"
waiting_bytes = "WAL waiting to be archived"

[params]
max_archive_age_s = 86400
*/
with cfg as (
  select pg_catalog.pg_is_in_recovery() as in_recovery,
         (select x.setting from pg_catalog.pg_settings x where x.name = 'archive_mode') as archive_mode,
         (select x.setting from pg_catalog.pg_settings x where x.name = 'archive_command') as archive_command,
         (select x.setting from pg_catalog.pg_settings x where x.name = 'archive_library') as archive_library,
         (select x.setting from pg_catalog.pg_settings x where x.name = 'wal_level') as wal_level,
         (select x.setting::bigint * case x.unit when 'MB' then 1048576 when 'kB' then 1024 else 1 end
          from pg_catalog.pg_settings x where x.name = 'wal_segment_size') as seg_bytes,
         (select count(*) from pg_catalog.pg_stat_replication r where r.state in ('streaming', 'catchup')) as streaming,
         (select count(*) from pg_catalog.pg_replication_slots s
          where s.slot_type = 'physical' and not s.temporary and s.restart_lsn is not null) as slots
), arch as (
  select a.*,
         -- current WAL file, on a primary only (pg_walfile_name fails during recovery; Aurora has none)
         case when not c.in_recovery and to_regproc('pg_catalog.aurora_version') is null
              then pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()) end as current_wal,
         c.*
  from pg_catalog.pg_stat_archiver a cross join cfg c
), waiting as (
  select a.*,
         -- segment numbers from file names (timeline, log, segment in hex): log * segments per log + segment
         case when a.current_wal ~ '^[0-9A-F]{24}$' and a.last_archived_wal ~ '^[0-9A-F]{24}'
              then greatest((('x' || lpad(substr(a.current_wal, 9, 8), 16, '0'))::bit(64)::bigint * (4294967296 / a.seg_bytes)
                             + ('x' || lpad(substr(a.current_wal, 17, 8), 16, '0'))::bit(64)::bigint)
                            - (('x' || lpad(substr(a.last_archived_wal, 9, 8), 16, '0'))::bit(64)::bigint * (4294967296 / a.seg_bytes)
                               + ('x' || lpad(substr(a.last_archived_wal, 17, 8), 16, '0'))::bit(64)::bigint)
                            - 1, 0) end as segments_waiting
  from arch a
), judged as (
  select w.*,
         case when w.in_recovery and w.archive_mode <> 'always' then null
              when w.archive_mode = 'off'
                   then case when w.streaming = 0 and w.slots = 0 then 'off' end
              when coalesce(w.archive_library, '') = ''
                   and coalesce(w.archive_command, '') in ('', '(disabled)') then 'not_configured'
              when w.last_failed_time is not null
                   and w.last_failed_time > coalesce(w.last_archived_time, '-infinity') then 'failing'
              when w.last_archived_time < now() - make_interval(secs => %(max_archive_age_s)s::float8)
                   and coalesce(w.segments_waiting, 0) > 0 then 'stalled'
         end as kind
  from waiting w
)
select 'archive_mode' as object,
       'setting' as object_type,
       j.kind as _kind,
       case j.kind
         when 'off' then 'off, and no standby, WAL receiver or backup tool''s replication slot takes the WAL: no point-in-time recovery, and a lost disk loses everything since the last full backup'
         when 'not_configured' then format('%%s, but neither archive_command nor archive_library is set: WAL segments are kept for an archiver that never runs, and pg_wal grows until the disk is full', j.archive_mode)
         when 'failing' then 'on, and the archiver is failing: its last attempt failed after its last success, so pg_wal keeps every segment since and the archive falls behind'
         else format('on, and the archiver has archived nothing for over %%s h while segments wait: pg_wal grows and the recovery point falls behind',
                     round(%(max_archive_age_s)s::numeric / 3600, 1))
       end as _problem,
       j.archive_mode, j.wal_level, j.streaming as streaming_replicas, j.slots as physical_slots,
       j.archived_count, j.failed_count, j.last_archived_wal, j.last_archived_time,
       j.last_failed_wal, j.last_failed_time, j.segments_waiting,
       j.segments_waiting * j.seg_bytes as waiting_bytes,
       null::text as remediation
from judged j
where j.kind is not null
