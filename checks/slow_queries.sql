/* pgaudit
id = "slow_queries"
title = "Slow or time-dominant statements"
section = "3.2"
format = 2
severity = "warning"
needs = ["stats", "pg_stat_statements"]
# statements collected for at least an hour before a verdict
min_stats_age_s = 3600
detects = "Statements in pg_stat_statements for this database whose mean execution time is at least min_mean_ms over at least min_calls calls, or whose total execution time is at least min_total_ms and min_total_share of all statements' time here; at most max_statements, by total time. Reads total_exec_time/mean_exec_time (extension 1.8+) or total_time/mean_time (older extension versions)."
why = "A few statements usually account for most of a database's time: a slow frequent query holds connections, locks and buffers, and its cost grows with the data. Fixing the top ones (an index, a rewrite, a smaller result) gives the biggest gain for the effort."
example = "select * from orders where lower(email) = $1  -- 850 ms mean, 40 000 calls a day: sequential scan of 5 M rows"
fix = "create index concurrently orders_lower_email_idx on orders (lower(email));"
ignore_when = "Batch jobs, reports and maintenance statements that are expected to run long, off-peak; statements of the audit itself."
references = ["https://www.postgresql.org/docs/current/pgstatstatements.html", "https://www.postgresql.org/docs/current/using-explain.html"]
ok = "No statement is slow on average or dominates the database's time"
impact = "Slow statements hold connections, locks and I/O: latency and capacity suffer as data grows."
message = "mean {mean_ms} ms, {share_pct}% of this database's statement time, queryid {queryid}: {query}"
remediation = "Run EXPLAIN (ANALYZE, BUFFERS) on the statement with representative parameters; add or fix the index its filter, join or ORDER BY needs (CREATE INDEX CONCURRENTLY), rewrite it to read fewer rows, or move it to a replica or off-peak. Reset the statistics (pg_stat_statements_reset()) after a fix to measure it."
replica_note = "pg_stat_statements is per server: a standby records only the statements run on it"

[labels]
queryid = "Query id"
share_pct = "Share of statement time (%)"
stats_since = "Collected since"

[params]
# the same window, passed to the query too: on PG17+ pg_stat_statements' own window (its oldest
# entry's stats_since, shorter after pg_stat_statements_reset()) must be as long
min_stats_age_s = 3600
min_mean_ms = 250.0
min_calls = 10
min_total_ms = 600000.0
min_total_share = 0.1
max_statements = 20
*/
with window_ as (
  -- PG17+ (extension 1.11) records when each entry started: after a pg_stat_statements_reset()
  -- that window is shorter than the server's statistics window the engine judges, so the
  -- query gives no verdict itself; older versions have the server's window only
  select extract(epoch from now() - min((to_jsonb(s) ->> 'stats_since')::timestamptz))::float8 as age_s
  from pg_stat_statements s
  where s.dbid = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
), st as (
  select s.queryid, s.calls, s.rows, s.query,
         coalesce((to_jsonb(s) ->> 'total_exec_time')::float8, (to_jsonb(s) ->> 'total_time')::float8) as total_ms,
         coalesce((to_jsonb(s) ->> 'mean_exec_time')::float8, (to_jsonb(s) ->> 'mean_time')::float8) as mean_ms,
         s.shared_blks_hit, s.shared_blks_read,
         pg_catalog.pg_get_userbyid(s.userid) as role_name,
         (to_jsonb(s) ->> 'stats_since')::timestamptz as stats_since
  from pg_stat_statements s
  where s.dbid = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
    and coalesce((to_jsonb(s) ->> 'toplevel')::boolean, true)
    and s.calls > 0
), ranked as (
  select st.*, st.total_ms / nullif(sum(st.total_ms) over (), 0) as share,
         row_number() over (order by st.total_ms desc, st.queryid) as rank
  from st
), hits as (
  select r.* from ranked r, window_ w
  where coalesce(w.age_s >= %(min_stats_age_s)s::float8, true)
    and ((r.mean_ms >= %(min_mean_ms)s::float8 and r.calls >= %(min_calls)s::bigint)
      or (r.total_ms >= %(min_total_ms)s::float8 and r.share >= %(min_total_share)s::float8))
  order by r.total_ms desc, r.queryid
  limit %(max_statements)s::int
)
select left(regexp_replace(h.query, '\s+', ' ', 'g'), 120) as object,
       'statement' as object_type,
       h.queryid::text as queryid,
       h.calls,
       round(h.mean_ms::numeric, 1)::float8 as mean_ms,
       round((h.total_ms / 1000)::numeric, 1)::float8 as total_s,
       round((100 * coalesce(h.share, 0))::numeric, 1)::float8 as share_pct,
       h.rows,
       round(h.rows::numeric / h.calls, 1)::float8 as rows_per_call,
       round(100 * h.shared_blks_hit::numeric / nullif(h.shared_blks_hit + h.shared_blks_read, 0), 1)::float8 as cache_hit_pct,
       h.role_name as role,
       h.rank as rank_by_total_time,
       h.stats_since,
       left(regexp_replace(h.query, '\s+', ' ', 'g'), 200) as query,
       null::text as no_verdict
from hits h
union all
select null, null, null, null, null, null, null, null, null, null, null, null, null, null,
       format('pg_stat_statements has collected for %%s; slow-query verdicts need at least %%s',
              justify_hours(make_interval(secs => round(w.age_s))),
              justify_hours(make_interval(secs => %(min_stats_age_s)s::float8)))
from window_ w
where w.age_s < %(min_stats_age_s)s::float8
order by 1
