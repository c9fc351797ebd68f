/* pgaudit
id = "hot_row_contention"
title = "Small tables updated far more often than they have rows"
section = "3.3"
format = 2
uses = ["scope_relations"]
severity = "warning"
raise_when = { high_traffic = "critical" }  # the review rates hot rows critical under high traffic
needs = ["stats"]
# updates since the statistics reset: no verdict before an hour of them
min_stats_age_s = 3600
detects = "Tables with at most max_rows rows that received at least min_updates row updates since the statistics reset, at least min_updates_per_row per row: counters, balances, credits, sequence-like and 'last seen' rows that every request updates. Partitions are summed into their partitioned table."
why = "Every update of a row takes its row lock until the transaction commits; when many sessions update the same few rows they queue behind each other, so throughput is capped by the lock-hold time and deadlocks appear. Each update also leaves a dead version on a tiny table, whose pages and index then bloat between vacuums."
example = "update users set credits = credits - $1 where id = $2;  -- the same few accounts, thousands of times a minute"
fix = "alter table users add column version integer not null default 0;  -- optimistic locking: update … where id = $2 and version = $3"
ignore_when = "The updates come from one serial worker (no concurrency), or the table is a lookup table refreshed by a batch job that rewrites every row."
references = ["https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS", "https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS", "https://www.postgresql.org/docs/current/storage-hot.html"]
ok = "No small table is updated disproportionately often"
impact = "Row-lock queues on a few hot rows cap write throughput under load and cause deadlocks."
message = "{object} ({rows} rows) received {updates_per_row} updates per row since the statistics reset ({hot_pct}% HOT)"
remediation = "Shorten the lock-hold time (update the hot row last in the transaction, commit quickly), or remove the hot spot: optimistic locking with a version column, a separate append-only ledger or counter table aggregated periodically (or split into N sub-rows summed on read), pg_advisory_xact_lock to serialise explicitly, or caching the value outside the database. A fillfactor below 100 keeps updates HOT."
replica_note = "counters are per server: a standby receives no updates of its own; read this on the primary"

[labels]
updates = "Updates since the statistics reset"
hot_pct = "HOT share (%)"

[params]
max_rows = 10000
min_updates = 100000
min_updates_per_row = 100
*/
with leaf as (
  select case when c.relispartition then pg_catalog.pg_partition_root(c.oid) else c.oid::regclass end as root,
         s.n_tup_upd, s.n_tup_hot_upd,
         greatest(case when c.reltuples >= 0 then c.reltuples else s.n_live_tup end, s.n_live_tup, 0) as rows,
         case when c.reloptions is not null then
           (select string_agg(o, ', ' order by o) from pg_catalog.unnest(c.reloptions) o
            where o like 'fillfactor=%%') end as fillfactor
  from scope_relations c
  -- the counters pg_stat_all_tables shows, read directly: the view aggregates over every
  -- relation's indexes first
  cross join lateral (select pg_catalog.pg_stat_get_tuples_updated(c.oid) as n_tup_upd,
                             pg_catalog.pg_stat_get_tuples_hot_updated(c.oid) as n_tup_hot_upd,
                             pg_catalog.pg_stat_get_live_tuples(c.oid) as n_live_tup) s
  where c.relkind = 'r'
), agg as (
  select root, sum(n_tup_upd)::bigint as updates, sum(n_tup_hot_upd)::bigint as hot,
         sum(rows)::bigint as rows, min(fillfactor) as fillfactor
  from leaf group by root
)
select a.root::regclass::text as object,
       'table' as object_type,
       a.rows,
       a.updates,
       round(a.updates::numeric / greatest(a.rows, 1))::bigint as updates_per_row,
       a.hot as hot_updates,
       round(100.0 * a.hot / greatest(a.updates, 1), 1)::float8 as hot_pct,
       round((a.updates / greatest(%(stats_age_s)s::float8, 1))::numeric, 2)::float8 as updates_per_second,
       a.fillfactor
from agg a
where a.rows <= %(max_rows)s::bigint
  and a.updates >= %(min_updates)s::bigint
  and a.updates::float8 / greatest(a.rows, 1) >= %(min_updates_per_row)s::float8
order by 1
