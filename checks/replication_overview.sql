/* pgaudit
id = "replication_overview"
title = "Replication: lagging replicas, inactive slots, read-heavy primary without a replica"
section = "7.2"
format = 2
needs = ["activity", "stats"]
# part (3), the read rate, needs a day of statistics; parts (1) and (2) are judged at once
min_stats_age_s = 86400
stats_window = "rates"
detects = "Three things about replication, read with guards so the query runs on a primary, a standby and managed services: (1) each streaming replica in pg_stat_replication with its state and replay lag (warning over lag_warning_s); (2) replication slots, cluster-wide, that are inactive while retaining WAL (restart_lsn reserved and at least min_retained_bytes behind the current WAL position, or wal_status 'lost'/'unreserved'): warning; (3) on a primary with no replica, a read-heavy load in pg_stat_database (rows read = tup_returned + tup_fetched against rows written) over a statistics window of at least min_stats_age_s: info, suggest a read replica. Part (3) is left out, and said so in the check's result, when the window is shorter; parts (1) and (2) are point-in-time and always judged."
why = "An inactive slot pins WAL (and, with an xmin, vacuum) until someone drops it: pg_wal grows until the disk fills and the primary stops, the classic outage after decommissioning a replica or a CDC connector. A lagging replica serves stale reads and delays failover. And a primary serving a read-dominated load alone pays for its size: a read replica offloads reporting and dashboards and doubles as a failover target."
example = "select pg_create_physical_replication_slot('old_replica', true);  -- replica decommissioned, slot left behind"
fix = "select pg_drop_replication_slot('old_replica');  -- after confirming no consumer will come back; or set max_slot_wal_keep_size"
ignore_when = "A slot whose consumer is only briefly down (maintenance of a CDC connector or a replica rebuild in progress); a read-heavy load that is cheap (small instance, cached working set) where a replica would cost more than it saves."
references = ["https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS", "https://www.postgresql.org/docs/current/view-pg-replication-slots.html", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-REPLICATION-VIEW", "https://www.postgresql.org/docs/current/runtime-config-replication.html#GUC-MAX-SLOT-WAL-KEEP-SIZE"]
ok = "No lagging replica and no inactive replication slot retaining WAL"
impact = "An inactive slot fills the WAL disk and stops the primary; replica lag serves stale reads; a read-heavy primary without replicas is oversized."
message = "{object}: {_issue}"
ok_message = "This server is a {server_role}; {replicas} replica(s) streaming, {slots} replication slot(s) ({inactive_slots} inactive, none retaining WAL past the threshold); read replica: {read_replica_verdict}"
remediation = "Drop slots whose consumer is gone (pg_drop_replication_slot, run in the slot's own database for a logical slot) and cap the damage with max_slot_wal_keep_size. For lag, look at the replica's I/O, long queries on it (hot_standby_feedback, max_standby_streaming_delay) and network. For a read-heavy primary, add a streaming replica and route reporting and dashboard reads to it."
replica_note = "On a standby pg_stat_replication lists only cascaded replicas, slots are the standby's own, and the read/write counters are local: the read-replica suggestion is not made there."

[severity]
default = "info"
warning = ["replay_lag_s > lag_warning_s", "_kind = 'slot'"]
ok = ["_kind = 'summary'"]

[labels]
client_addr = "Client address"
sync_state = "Sync state"
replay_lag_s = "Replay lag"
write_lag_s = "Write lag"
flush_lag_s = "Flush lag"
wal_behind_bytes = "WAL behind the current position"
slot_type = "Slot type"
wal_status = "WAL status"
safe_wal_size_bytes = "WAL left before the slot is lost"
xmin_age = "Slot xmin age (transactions)"
catalog_xmin_age = "Slot catalog_xmin age (transactions)"
read_write_ratio = "Rows read per row written"
reads_per_s = "Rows read per second"

[params]
lag_warning_s = 300
min_retained_bytes = 1073741824
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
), slots as (
  select s.slot_name, s.slot_type, s.database, s.plugin, s.active, s.restart_lsn,
         to_jsonb(s) ->> 'wal_status' as wal_status,
         (to_jsonb(s) ->> 'safe_wal_size')::bigint as safe_wal_size,
         to_jsonb(s) ->> 'inactive_since' as inactive_since,
         age(s.xmin) as xmin_age, age(s.catalog_xmin) as catalog_xmin_age,
         case when pos.lsn is not null and s.restart_lsn is not null
              then pg_catalog.pg_wal_lsn_diff(pos.lsn, s.restart_lsn)::bigint end as retained_bytes
  from pg_catalog.pg_replication_slots s cross join pos
  where not s.temporary
), bad_slots as (
  select s.* from slots s
  where not s.active
    and (s.wal_status in ('lost', 'unreserved')
         or (s.restart_lsn is not null and coalesce(s.retained_bytes, 0) >= %(min_retained_bytes)s::numeric))
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
         r.behind_bytes as wal_behind_bytes, null::text as slot_type, null::text as database,
         null::text as plugin, null::text as wal_status, null::bigint as safe_wal_size_bytes,
         null::text as inactive_since, null::int as xmin_age, null::int as catalog_xmin_age,
         null::bigint as rows_read, null::bigint as rows_written, null::float8 as read_write_ratio,
         null::float8 as reads_per_s, null::text as remediation
  from replicas r
  union all
  -- (2) inactive slots retaining WAL, cluster-wide
  select quote_ident(s.slot_name), 'server', 'slot',
         format('inactive %%s replication slot retaining WAL until it is dropped%%s',
                s.slot_type, case when s.xmin_age is not null or s.catalog_xmin_age is not null
                                  then ', and holding back vacuum' else '' end),
         null, null, null, null, null, s.retained_bytes, s.slot_type, s.database, s.plugin,
         s.wal_status, s.safe_wal_size, s.inactive_since, s.xmin_age, s.catalog_xmin_age,
         null, null, null, null,
         case when s.slot_type = 'physical' or s.database = current_database()
              then format(E'-- only once no consumer (replica, CDC connector) will use it again\nselect pg_catalog.pg_drop_replication_slot(%%L);',
                          s.slot_name) end
  from bad_slots s
  union all
  -- (3) a read-heavy primary without a replica
  select quote_ident(current_database()), 'database', 'read_heavy',
         'no replica streams from this primary while its load is read-heavy; a read replica would offload reporting and dashboard reads and double as a failover target',
         null, null, null, null, null, null, null, null, null, null, null, null, null, null,
         h.reads, h.writes, round(h.ratio::numeric, 1)::float8, round(h.reads_per_s::numeric, 1)::float8,
         null
  from read_heavy h
)
select f.*, null::text as server_role, null::bigint as replicas, null::bigint as slots,
       null::bigint as inactive_slots, null::text as read_replica_verdict
from findings f
union all
-- the 🟢 row with the counts when nothing is wrong
select quote_ident(current_database()), 'database', 'summary', null,
       null, null, null, null, null, null, null, null, null, null, null, null, null, null,
       null, null, null, null, null,
       case when p.in_recovery then 'standby' else 'primary' end,
       (select count(*) from replicas), (select count(*) from slots),
       (select count(*) from slots where not active),
       case when p.in_recovery then 'not suggested on a standby'
            when not %(rates_ok)s then 'not judged (statistics window too short)'
            else format('not needed (%%s rows read per row written)',
                        (select round(reads::numeric / greatest(writes, 1), 1) from load)) end
from pos p
where not exists (select 1 from findings)
order by 2, 1
