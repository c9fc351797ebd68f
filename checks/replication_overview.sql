/* pgaudit
id = "replication_overview"
title = "Replication: lagging replicas, read-heavy primary without a replica"
section = "7.2"
format = 2
needs = ["activity", "stats"]
# part (3), the read rate, needs a day of statistics; parts (1) and (2) are judged at once
min_stats_age_s = 86400
stats_window = "rates"
detects = "Two things about replication, read with guards so the query runs on a primary, a standby and managed services: (1) each streaming replica in pg_stat_replication with its state and replay lag (warning over lag_warning_s); (2) on a primary with no replica, a read-heavy load in pg_stat_database (rows read = tup_returned + tup_fetched against rows written) over a statistics window of at least min_stats_age_s: info, suggest a read replica. Part (2) is left out, and said so in the check's result, when the window is shorter; part (1) is point-in-time and always judged. Inactive replication slots retaining WAL are replication_slot_inactive's."
why = "A lagging replica serves stale reads and delays failover (the WAL it has not replayed must be replayed before it can take over). And a primary serving a read-dominated load alone pays for its size: a read replica offloads reporting and dashboards and doubles as a failover target."
example = "select application_name, replay_lag from pg_stat_replication;  -- reporting_replica | 00:12:40"
fix = "-- on the replica: find what holds replay back (long queries with hot_standby_feedback, I/O), then\nalter system set max_standby_streaming_delay = '30s';"
ignore_when = "A replica that lags by design (a delayed standby with recovery_min_apply_delay); a read-heavy load that is cheap (small instance, cached working set) where a replica would cost more than it saves."
references = ["https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS", "https://www.postgresql.org/docs/current/view-pg-replication-slots.html", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-REPLICATION-VIEW", "https://www.postgresql.org/docs/current/runtime-config-replication.html#GUC-MAX-SLOT-WAL-KEEP-SIZE"]
ok = "No lagging replica"
impact = "Replica lag serves stale reads and delays failover; a read-heavy primary without replicas is oversized."
message = "{object}: {_issue}"
ok_message = "This server is a {server_role}; {replicas:plural:replica} streaming; read replica: {read_replica_verdict}"
remediation = "For lag, look at the replica's I/O, long queries on it (hot_standby_feedback, max_standby_streaming_delay) and network. For a read-heavy primary, add a streaming replica and route reporting and dashboard reads to it."
replica_note = "On a standby pg_stat_replication lists only cascaded replicas, and the read/write counters are local: the read-replica suggestion is not made there."

[severity]
default = "info"
warning = ["replay_lag_s > lag_warning_s"]
ok = ["_kind = 'summary'"]

[labels]
client_addr = "Client address"
sync_state = "Sync state"
replay_lag_s = "Replay lag"
write_lag_s = "Write lag"
flush_lag_s = "Flush lag"
wal_behind_bytes = "WAL behind the current position"
read_write_ratio = "Rows read per row written"
reads_per_s = "Rows read per second"

[params]
lag_warning_s = 300
read_write_ratio = 20
min_reads_per_s = 1000
*/
with ctx as (
  select pg_catalog.pg_is_in_recovery() as in_recovery,
         -- Aurora and similar forks do not support the WAL position functions
         to_regproc('pg_catalog.aurora_version') is null as wal_functions
), pos as (
  select case when not ctx.wal_functions then null
              when ctx.in_recovery then coalesce(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())
              else pg_catalog.pg_current_wal_lsn() end as lsn,
         ctx.in_recovery
  from ctx
), replicas as (
  select r.pid, coalesce(nullif(r.application_name, ''), host(r.client_addr), 'pid ' || r.pid) as name,
         host(r.client_addr) as client_addr, r.state, r.sync_state,
         extract(epoch from r.replay_lag)::float8 as replay_lag_s,
         extract(epoch from r.write_lag)::float8 as write_lag_s,
         extract(epoch from r.flush_lag)::float8 as flush_lag_s,
         case when pos.lsn is not null and r.replay_lsn is not null
              then pg_catalog.pg_wal_lsn_diff(pos.lsn, r.replay_lsn)::bigint end as behind_bytes
  from pg_catalog.pg_stat_replication r cross join pos
), load as (
  select d.tup_returned + d.tup_fetched as reads,
         d.tup_inserted + d.tup_updated + d.tup_deleted as writes
  from pg_catalog.pg_stat_database d where d.datname = current_database()
), read_heavy as (
  select l.*, l.reads::float8 / greatest(l.writes, 1) as ratio,
         l.reads / greatest(%(stats_age_s)s::float8, 1) as reads_per_s
  from load l cross join pos
  where not pos.in_recovery
    and not exists (select 1 from replicas)
    and %(rates_ok)s
    and l.reads::numeric / greatest(l.writes, 1) >= %(read_write_ratio)s::numeric
    and l.reads / greatest(%(stats_age_s)s::float8, 1) >= %(min_reads_per_s)s::float8
), findings as (
  -- (1) each streaming replica; its lags are facts: they move from one run to the next
  select r.name as object, 'server' as object_type, 'replica' as _kind,
         format('streaming replica (%%s, %%s)', r.state, r.sync_state) as _issue,
         r.client_addr, r.sync_state, r.replay_lag_s, r.write_lag_s, r.flush_lag_s,
         r.behind_bytes as wal_behind_bytes,
         null::bigint as rows_read, null::bigint as rows_written, null::float8 as read_write_ratio,
         null::float8 as reads_per_s
  from replicas r
  union all
  -- (2) a read-heavy primary without a replica
  select quote_ident(current_database()), 'database', 'read_heavy',
         'no replica streams from this primary while its load is read-heavy; a read replica would offload reporting and dashboard reads and double as a failover target',
         null, null, null, null, null, null,
         h.reads, h.writes, round(h.ratio::numeric, 1)::float8, round(h.reads_per_s::numeric, 1)::float8
  from read_heavy h
)
select f.*, null::text as server_role, null::bigint as replicas, null::text as read_replica_verdict
from findings f
union all
-- the 🟢 row with the counts when nothing is wrong
select quote_ident(current_database()), 'database', 'summary', null,
       null, null, null, null, null, null, null, null, null, null,
       case when p.in_recovery then 'standby' else 'primary' end,
       (select count(*) from replicas),
       case when p.in_recovery then 'not suggested on a standby'
            when not %(rates_ok)s then 'not judged (' || %(stats_window_note)s::text || ')'
            else format('not needed (%%s rows read per row written)',
                        (select round(reads::numeric / greatest(writes, 1), 1) from load)) end
from pos p
where not exists (select 1 from findings)
order by 2, 1
