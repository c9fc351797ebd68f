/* pgaudit
id = "replication_overview"
title = "Replication: lagging replicas, inactive slots, read-heavy primary without a replica"
section = "7.2"
severity = "info"
needs = ["activity", "stats"]
detects = "Three things about replication, read with guards so the query runs on a primary, a standby and managed services: (1) each streaming replica in pg_stat_replication with its state and replay lag (warning over lag_warning_s); (2) replication slots, cluster-wide, that are inactive while retaining WAL (restart_lsn reserved and at least min_retained_bytes behind the current WAL position, or wal_status 'lost'/'unreserved'): warning; (3) on a primary with no replica, a read-heavy load in pg_stat_database (rows read = tup_returned + tup_fetched against rows written) over a statistics window of at least min_stats_age_s: info, suggest a read replica. Part (3) is left out, and said so in the evidence, when the window is shorter; parts (1) and (2) are point-in-time and always judged."
why = "An inactive slot pins WAL (and, with an xmin, vacuum) until someone drops it: pg_wal grows until the disk fills and the primary stops, the classic outage after decommissioning a replica or a CDC connector. A lagging replica serves stale reads and delays failover. And a primary serving a read-dominated load alone pays for its size: a read replica offloads reporting and dashboards and doubles as a failover target."
example = "select pg_create_physical_replication_slot('old_replica', true);  -- replica decommissioned, slot left behind"
fix = "select pg_drop_replication_slot('old_replica');  -- after confirming no consumer will come back; or set max_slot_wal_keep_size"
ignore_when = "A slot whose consumer is only briefly down (maintenance of a CDC connector or a replica rebuild in progress); a read-heavy load that is cheap (small instance, cached working set) where a replica would cost more than it saves."
references = ["https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS", "https://www.postgresql.org/docs/current/view-pg-replication-slots.html", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-REPLICATION-VIEW", "https://www.postgresql.org/docs/current/runtime-config-replication.html#GUC-MAX-SLOT-WAL-KEEP-SIZE"]
ok = "No lagging replica and no inactive replication slot retaining WAL"
impact = "An inactive slot fills the WAL disk and stops the primary; replica lag serves stale reads; a read-heavy primary without replicas is oversized."
message = "{object}: replication finding"
remediation = "Drop slots whose consumer is gone (pg_drop_replication_slot, run in the slot's own database for a logical slot) and cap the damage with max_slot_wal_keep_size. For lag, look at the replica's I/O, long queries on it (hot_standby_feedback, max_standby_streaming_delay) and network. For a read-heavy primary, add a streaming replica and route reporting and dashboard reads to it."
replica_note = "On a standby pg_stat_replication lists only cascaded replicas, slots are the standby's own, and the read/write counters are local: the read-replica suggestion is not made there."

[params]
lag_warning_s = 300
min_retained_bytes = 1073741824
min_stats_age_s = 86400
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
         extract(epoch from r.replay_lag) as replay_lag_s,
         extract(epoch from r.write_lag) as write_lag_s,
         extract(epoch from r.flush_lag) as flush_lag_s,
         case when pos.lsn is not null and r.replay_lsn is not null
              then pg_catalog.pg_wal_lsn_diff(pos.lsn, r.replay_lsn) end as replay_behind_bytes
  from pg_catalog.pg_stat_replication r cross join pos
), slots as (
  select s.slot_name, s.slot_type, s.database, s.plugin, s.active, s.restart_lsn,
         to_jsonb(s) ->> 'wal_status' as wal_status,
         (to_jsonb(s) ->> 'safe_wal_size')::bigint as safe_wal_size,
         to_jsonb(s) ->> 'inactive_since' as inactive_since,
         age(s.xmin) as xmin_age, age(s.catalog_xmin) as catalog_xmin_age,
         case when pos.lsn is not null and s.restart_lsn is not null
              then pg_catalog.pg_wal_lsn_diff(pos.lsn, s.restart_lsn) end as retained_bytes
  from pg_catalog.pg_replication_slots s cross join pos
  where not s.temporary
), bad_slots as (
  select s.* from slots s
  where not s.active
    and (s.wal_status in ('lost', 'unreserved')
         or (s.restart_lsn is not null and coalesce(s.retained_bytes, 0) >= %(min_retained_bytes)s::numeric))
), load as (
  select d.tup_returned + d.tup_fetched as reads,
         d.tup_inserted + d.tup_updated + d.tup_deleted as writes,
         %(stats_age_s)s::float8 as window_s
  from pg_catalog.pg_stat_database d where d.datname = current_database()
), read_heavy as (
  select l.*, l.reads::numeric / greatest(l.writes, 1) as ratio,
         l.reads / greatest(l.window_s, 1) as reads_per_s
  from load l cross join pos
  where not pos.in_recovery
    and not exists (select 1 from replicas)
    and l.window_s >= %(min_stats_age_s)s::float8
    and l.reads::numeric / greatest(l.writes, 1) >= %(read_write_ratio)s::numeric
    and l.reads / greatest(l.window_s, 1) >= %(min_reads_per_s)s::numeric
), findings as (
  select r.name as object, 'server' as object_type,
         case when r.replay_lag_s > %(lag_warning_s)s::numeric then 'warning' else 'info' end as severity,
         format('Replica %%s (%%s, %%s, %%s): replay lag %%s, %%s behind',
                r.name, coalesce(r.client_addr, 'local socket'), r.state, r.sync_state,
                coalesce(round(r.replay_lag_s::numeric, 1) || ' s', 'none reported (idle or caught up)'),
                coalesce(pg_catalog.pg_size_pretty(r.replay_behind_bytes), 'unknown')) as detail,
         jsonb_build_object('client_addr', r.client_addr, 'state', r.state, 'sync_state', r.sync_state,
                            'replay_lag_s', r.replay_lag_s, 'write_lag_s', r.write_lag_s,
                            'flush_lag_s', r.flush_lag_s, 'replay_behind_bytes', r.replay_behind_bytes,
                            'lag_warning_s', %(lag_warning_s)s::numeric) as evidence,
         null::text as remediation
  from replicas r
  union all
  select quote_ident(s.slot_name), 'server', 'warning',
         format('Replication slot %%s (%%s%%s%%s) is inactive%%s and retains %%s of WAL%%s%%s: it is kept until the slot is dropped',
                quote_ident(s.slot_name), s.slot_type,
                case when s.plugin is not null then ', plugin ' || s.plugin else '' end,
                case when s.database is not null then ', database ' || quote_ident(s.database) else '' end,
                case when s.inactive_since is not null then ' since ' || s.inactive_since else '' end,
                coalesce(pg_catalog.pg_size_pretty(s.retained_bytes), 'an unknown amount'),
                case when s.wal_status is not null then ' (wal_status ' || s.wal_status || ')' else '' end,
                case when s.xmin_age is not null or s.catalog_xmin_age is not null
                     then format(', and holds back vacuum (xmin age %%s, catalog_xmin age %%s)',
                                 coalesce(s.xmin_age::text, '-'), coalesce(s.catalog_xmin_age::text, '-'))
                     else '' end),
         jsonb_build_object('slot_type', s.slot_type, 'database', s.database, 'plugin', s.plugin,
                            'retained_bytes', s.retained_bytes,
                            'retained', pg_catalog.pg_size_pretty(s.retained_bytes),
                            'wal_status', s.wal_status, 'safe_wal_size', s.safe_wal_size,
                            'inactive_since', s.inactive_since,
                            'xmin_age', s.xmin_age, 'catalog_xmin_age', s.catalog_xmin_age,
                            'min_retained_bytes', %(min_retained_bytes)s::numeric),
         case when s.slot_type = 'physical' or s.database = current_database()
              then format(E'-- only once no consumer (replica, CDC connector) will use it again\nselect pg_catalog.pg_drop_replication_slot(%%L);',
                          s.slot_name) end
  from bad_slots s
  union all
  select quote_ident(current_database()), 'database', 'info',
         format('No replica streams from this primary while its load is read-heavy: %%s rows read for %%s written (%%s:1, %%s rows/s) over %%s days; a read replica would offload reporting and dashboard reads and double as a failover target',
                h.reads, h.writes, round(h.ratio), round(h.reads_per_s::numeric), round((h.window_s / 86400)::numeric, 1)),
         jsonb_build_object('rows_read', h.reads, 'rows_written', h.writes, 'read_write_ratio', round(h.ratio, 1),
                            'reads_per_s', round(h.reads_per_s::numeric, 1),
                            'stats_age_days', round((h.window_s / 86400)::numeric, 1),
                            'thresholds', jsonb_build_object('read_write_ratio', %(read_write_ratio)s::numeric,
                                                             'min_reads_per_s', %(min_reads_per_s)s::numeric)),
         null
  from read_heavy h
)
select f.object, f.object_type, f.severity, f.detail, f.evidence, f.remediation from findings f
union all
select quote_ident(current_database()), 'database', 'ok',
       format('%%s; %%s replica(s) streaming, %%s replication slot(s) (%%s inactive, none retaining %%s or more); read-replica verdict: %%s',
              case when p.in_recovery then 'This server is a standby' else 'This server is a primary' end,
              (select count(*) from replicas), (select count(*) from slots),
              (select count(*) from slots where not active),
              pg_catalog.pg_size_pretty(%(min_retained_bytes)s::bigint),
              case when p.in_recovery then 'not made on a standby'
                   when (select window_s from load) is null or (select window_s from load) < %(min_stats_age_s)s::float8
                   then format('none, the statistics window (%%s s) is shorter than %%s s',
                               round((select window_s from load)::numeric), %(min_stats_age_s)s::float8)
                   else format('not read-heavy enough (%%s rows read per row written)',
                               (select round(reads::numeric / greatest(writes, 1), 1) from load)) end),
       jsonb_build_object('in_recovery', p.in_recovery,
                          'replicas', (select count(*) from replicas),
                          'slots', (select count(*) from slots),
                          'stats_age_s', (select window_s from load)),
       null
from pos p
where not exists (select 1 from findings)
order by 2, 1
