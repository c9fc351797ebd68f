/* pgaudit
id = "connection_usage"
title = "Connections close to max_connections, or mostly idle"
section = "7.3"
severity = "warning"
needs = ["activity"]
detects = "Client connections (pg_stat_activity, backend_type 'client backend') as a share of the slots open to ordinary roles (max_connections minus superuser_reserved_connections and, on PostgreSQL 16+, reserved_connections): warning over warning_share, critical over critical_share. Also a large idle population (at least idle_min_count idle sessions making up idle_share of all client connections), the sign of application-side pools sized per instance rather than a shared pooler. Point-in-time snapshot of the whole server; the evidence lists the busiest databases, roles and applications."
why = "When the slots run out, new connections fail with 'sorry, too many clients already' (or 'remaining connection slots are reserved'): deploys, autoscaling and failovers are where it happens. Each backend also costs memory (work_mem is per sort, per backend) and idle backends still take a process, their snapshots slow GetSnapshotData, and on cloud databases max_connections is tied to instance size: raising it often means a larger, more expensive instance, where a transaction-mode pooler (PgBouncer) serves thousands of clients with a few dozen server connections."
example = "-- 20 app pods x pool size 10 = 200 connections against max_connections = 200; 170 of them idle"
fix = "-- put PgBouncer (pool_mode = transaction, default_pool_size ~ 2-4 x CPU cores) between the application and the server, and shrink the application pools"
ignore_when = "A batch window or a load test that is known to open many connections; a pooler already in front whose server-side pool is intentionally sized near max_connections."
references = ["https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW", "https://www.pgbouncer.org/config.html"]
ok = "Connection usage is well below max_connections"
impact = "New connections are refused when the slots run out; idle backends waste memory and instance size."
message = "{object}: {clients} of {available} connection slots in use ({usage_pct} %), {idle} idle"
remediation = "Put a pooler in transaction mode (PgBouncer, RDS Proxy, Supavisor) in front of the database and reduce the per-instance application pool sizes; set idle_session_timeout for sessions that never come back. Raising max_connections needs a restart and memory headroom (each backend plus work_mem per sort) and only moves the wall. No SQL is given: the change is in the application and pooler configuration."
replica_note = "A standby has its own max_connections and sessions: this snapshot describes only the server audited."

[params]
warning_share = 0.8
critical_share = 0.95
idle_share = 0.5
idle_min_count = 20
*/
with cfg as (
  select coalesce((%(session_settings)s::jsonb -> 'max_connections' ->> 'setting')::int,
                  current_setting('max_connections')::int) as max_conn,
         current_setting('superuser_reserved_connections')::int as su_reserved,
         coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int as reserved
), act as (
  select a.datname, a.usename, a.application_name, a.state, a.state_change
  from pg_catalog.pg_stat_activity a
  where a.backend_type = 'client backend'
    -- this audit counts once, however many sessions it spreads its checks over
    and (a.pid = pg_catalog.pg_backend_pid() or a.pid <> all(%(own_pids)s::int[]))
), counts as (
  select count(*) as clients,
         count(*) filter (where state = 'active') as active,
         count(*) filter (where state = 'idle') as idle,
         count(*) filter (where state like 'idle in transaction%%') as idle_in_tx,
         count(*) filter (where state = 'idle' and state_change < now() - interval '10 minutes') as idle_10min,
         bool_or(application_name ~* '(pgbouncer|pgpool|odyssey|pgcat|supavisor|rds.?proxy)') as pooler_seen
  from act
), tops as (
  select
    (select coalesce(jsonb_object_agg(k, n), '{}') from
       (select coalesce(datname, '') as k, count(*) as n from act group by 1 order by 2 desc, 1 limit 5) x) as by_database,
    (select coalesce(jsonb_object_agg(k, n), '{}') from
       (select coalesce(usename, '') as k, count(*) as n from act group by 1 order by 2 desc, 1 limit 5) x) as by_role,
    (select coalesce(jsonb_object_agg(k, n), '{}') from
       (select coalesce(nullif(application_name, ''), '(none)') as k, count(*) as n from act
        group by 1 order by 2 desc, 1 limit 5) x) as by_application
), m as (
  select c.*, cfg.*, t.*,
         greatest(cfg.max_conn - cfg.su_reserved - cfg.reserved, 1) as available,
         c.clients::numeric / greatest(cfg.max_conn - cfg.su_reserved - cfg.reserved, 1) as usage,
         c.idle::numeric / greatest(c.clients, 1) as idle_ratio
  from counts c cross join cfg cross join tops t
), judged as (
  select m.*,
         case when m.usage > %(critical_share)s::numeric then 'critical'
              when m.usage > %(warning_share)s::numeric then 'warning' end as usage_sev,
         m.idle >= %(idle_min_count)s::int and m.idle_ratio >= %(idle_share)s::numeric as idle_heavy
  from m
)
select 'max_connections' as object,
       'setting' as object_type,
       case when j.usage_sev is not null or j.idle_heavy then coalesce(j.usage_sev, 'warning') else 'ok' end as severity,
       case when j.usage_sev is null and not j.idle_heavy
            then format('Connection usage is low: %%s of %%s slots in use (%%s %%%%; max_connections %%s), %%s active, %%s idle',
                        j.clients, j.available, round(100 * j.usage, 1), j.max_conn, j.active, j.idle)
            else concat_ws(' ',
              format('%%s of %%s connection slots open to ordinary roles are in use (%%s %%%%; max_connections %%s, %%s reserved): %%s active, %%s idle, %%s idle in transaction.',
                     j.clients, j.available, round(100 * j.usage, 1), j.max_conn, j.su_reserved + j.reserved,
                     j.active, j.idle, j.idle_in_tx),
              case when j.usage_sev is not null
                   then 'New connections will be refused when the slots run out.' end,
              case when j.idle_heavy
                   then format('%%s %%%% of the connections are idle (%%s idle for over 10 minutes): application-side pools hold server connections they do not use%%s.',
                               round(100 * j.idle_ratio), j.idle_10min,
                               case when coalesce(j.pooler_seen, false) then ''
                                    else '; put a transaction-mode pooler such as PgBouncer in front and shrink the application pools' end) end,
              format('Busiest: %%s.', j.by_application))
       end as detail,
       jsonb_build_object('clients', j.clients, 'available', j.available, 'max_connections', j.max_conn,
                          'superuser_reserved_connections', j.su_reserved, 'reserved_connections', j.reserved,
                          'usage_pct', round(100 * j.usage, 1), 'active', j.active, 'idle', j.idle,
                          'idle_in_transaction', j.idle_in_tx, 'idle_over_10min', j.idle_10min,
                          'idle_pct', round(100 * j.idle_ratio, 1),
                          'pooler_seen', coalesce(j.pooler_seen, false),
                          'by_database', j.by_database, 'by_role', j.by_role,
                          'by_application', j.by_application,
                          'snapshot_at', now(),
                          'thresholds', jsonb_build_object('warning', %(warning_share)s::numeric,
                                                           'critical', %(critical_share)s::numeric,
                                                           'idle_share', %(idle_share)s::numeric,
                                                           'idle_min_count', %(idle_min_count)s::int)) as evidence,
       null::text as remediation
from judged j
