/* pgaudit
id = "connection_usage"
title = "Connections close to max_connections, or mostly idle"
section = "7.3"
format = 2
needs = ["activity"]
detects = "Client connections (pg_stat_activity, backend_type 'client backend') as a share of the slots open to ordinary roles (max_connections minus superuser_reserved_connections and, on PostgreSQL 16+, reserved_connections): warning over warning_share, critical over critical_share. Also a large idle population (at least idle_min_count idle sessions making up idle_share of all client connections), the sign of application-side pools sized per instance rather than a shared pooler. Point-in-time snapshot of the whole server; the evidence lists the busiest databases, roles and applications."
why = "When the slots run out, new connections fail with 'sorry, too many clients already' (or 'remaining connection slots are reserved'): deploys, autoscaling and failovers are where it happens. Each backend also costs memory (work_mem is per sort, per backend) and idle backends still take a process, their snapshots slow GetSnapshotData, and on cloud databases max_connections is tied to instance size: raising it often means a larger, more expensive instance, where a transaction-mode pooler (PgBouncer) serves thousands of clients with a few dozen server connections."
example = "-- 20 app pods x pool size 10 = 200 connections against max_connections = 200; 170 of them idle"
fix = "-- put PgBouncer (pool_mode = transaction, default_pool_size ~ 2-4 x CPU cores) between the application and the server, and shrink the application pools"
ignore_when = "A batch window or a load test that is known to open many connections; a pooler already in front whose server-side pool is intentionally sized near max_connections."
references = ["https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS", "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW", "https://www.pgbouncer.org/config.html"]
ok = "Connection usage is well below max_connections"
impact = "New connections are refused when the slots run out; idle backends waste memory and instance size."
# the counts move from one minute to the next: they are facts, not words
message = "{object}: client connections are {state} ({available} slots open to ordinary roles, max_connections {max_connections})"
ok_message = "Connection usage is {state}: {available} slots open to ordinary roles (max_connections {max_connections})"
remediation = "Put a pooler in transaction mode (PgBouncer, RDS Proxy, Supavisor) in front of the database and reduce the per-instance application pool sizes; set idle_session_timeout for sessions that never come back. Raising max_connections needs a restart and memory headroom (each backend plus work_mem per sort) and only moves the wall. No SQL is given: the change is in the application and pooler configuration."
replica_note = "A standby has its own max_connections and sessions: this snapshot describes only the server audited."

[severity]
default = "warning"
critical = ["_usage > critical_share"]
# many idle sessions: application-side pools sized per instance
warning = ["_usage > warning_share", "idle >= idle_min_count and _idle_share >= idle_share"]
ok = ["_usage <= warning_share"]

[labels]
clients = "Client connections"
available = "Slots open to ordinary roles"
usage_pct = "Slots in use (%)"
idle_in_transaction = "Idle in transaction"
idle_over_10min = "Idle for over 10 minutes"
idle_pct = "Idle share (%)"
pooler_seen = "Pooler seen"
by_database = "Busiest databases"
by_role = "Busiest roles"
by_application = "Busiest applications"

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
         c.clients::float8 / greatest(cfg.max_conn - cfg.su_reserved - cfg.reserved, 1) as usage,
         c.idle::float8 / greatest(c.clients, 1) as idle_ratio
  from counts c cross join cfg cross join tops t
)
select 'max_connections' as object,
       'setting' as object_type,
       coalesce(nullif(concat_ws(' and ',
                  case when m.usage > %(warning_share)s::float8 then 'close to the limit' end,
                  case when m.idle >= %(idle_min_count)s::int and m.idle_ratio >= %(idle_share)s::float8
                       then 'mostly idle' end), ''),
                'well below the limit') as state,
       m.clients, m.available, m.max_conn as max_connections,
       m.su_reserved as superuser_reserved_connections, m.reserved as reserved_connections,
       round((100 * m.usage)::numeric, 1)::float8 as usage_pct, m.active, m.idle,
       m.idle_in_tx as idle_in_transaction, m.idle_10min as idle_over_10min,
       round((100 * m.idle_ratio)::numeric, 1)::float8 as idle_pct,
       coalesce(m.pooler_seen, false) as pooler_seen,
       m.by_database, m.by_role, m.by_application,
       m.usage as _usage, m.idle_ratio as _idle_share
from m
