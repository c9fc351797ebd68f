/* pgaudit
id = "data_checksums_disabled"
title = "Data checksums disabled, or checksum failures recorded"
section = "7.3"
format = 2
needs = ["catalog"]
detects = "The read-only setting data_checksums = off: the cluster was initialized without page checksums (initdb without --data-checksums, the default before PostgreSQL 18) and never converted with pg_checksums. A warning: it is a missing safety net, not damage. Critical when checksums are on and pg_stat_database counts checksum failures (in any database, or in shared catalogs): pages on disk were found corrupted, which is evidence of hardware, storage or filesystem damage."
why = "A checksum on every data page lets PostgreSQL notice when what it reads back is not what it wrote: a failing disk, a buggy controller or firmware, a storage layer that loses writes. Without checksums such corruption is read as data, spreads through queries, replication and backups, and surfaces weeks later as wrong results, crashes or errors deep in an index, by which time every backup holds it too. With checksums the first read of a damaged page fails loudly (and pg_basebackup and pg_checksums verify them), while the backups are still good."
example = "show data_checksums;  -- off"
fix = "-- offline, on a cleanly stopped server (on a replica first, then fail over):\n-- pg_checksums --enable -D /var/lib/postgresql/data\n-- or dump and restore into a cluster made with initdb --data-checksums (the default from PostgreSQL 18)"
ignore_when = "The data directory sits on a filesystem that checksums every block itself and is scrubbed (ZFS, btrfs), or on a managed service whose storage layer verifies every page (Aurora, AlloyDB, Neon), and that is documented."
references = ["https://www.postgresql.org/docs/current/checksums.html", "https://www.postgresql.org/docs/current/app-pgchecksums.html", "https://www.postgresql.org/docs/current/app-initdb.html#APP-INITDB-DATA-CHECKSUMS", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW"]
ok = "Data checksums are enabled and no checksum failure is recorded"
impact = "Silent on-disk corruption is read as data and copied into replicas and backups before anyone notices."
message = "{object}: {_problem}"
remediation = "Enable checksums: pg_checksums --enable on a cleanly stopped cluster (PostgreSQL 12+; it rewrites every data file, so it takes time proportional to the cluster size: do it on a replica, then switch over), or dump and restore into a cluster initialized with --data-checksums. Where checksum failures are recorded: find the files in the server log (or pg_checksums --check on a stopped copy), check the hardware and storage, and restore the damaged relations from a backup taken before the first failure."

[severity]
default = "warning"
# pages found corrupted on disk: evidence of damage
critical = ["checksum_failures > 0"]

[labels]
data_checksums = "data_checksums"
checksum_failures = "Checksum failures recorded"
last_checksum_failure = "Last checksum failure"
*/
with s as (
  select (select x.setting from pg_catalog.pg_settings x where x.name = 'data_checksums') as data_checksums
), f as (
  select sum(d.checksum_failures)::bigint as failures, max(d.checksum_last_failure) as last_failure
  from pg_catalog.pg_stat_database d
)
select 'data_checksums' as object,
       'setting' as object_type,
       case when s.data_checksums = 'off'
            then 'off: the cluster was initialized without page checksums, so on-disk corruption goes unnoticed'
            else 'on, and pages that failed their checksum were read: the storage returned corrupted data' end as _problem,
       s.data_checksums,
       f.failures as checksum_failures,
       f.last_failure as last_checksum_failure,
       null::text as remediation
from s cross join f
where s.data_checksums = 'off' or coalesce(f.failures, 0) > 0
