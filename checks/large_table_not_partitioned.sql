/* pgaudit
id = "large_table_not_partitioned"
title = "Large append-mostly tables keyed by time that are not partitioned"
section = "3.3"
format = 2
uses = ["scope_tables"]
priority = "high"
needs = ["catalog", "stats"]
locks = true
min_stats_age_s = 86400  # the insert rate behind the growth projection needs a day of statistics; sizes are judged at once
stats_window = "rates"
detects = "Ordinary tables (not partitions, not partitioned) with a date/timestamp column named like a time key (created_at, inserted_at, *_at, *_time, *_date, timestamp; patterns in params) that are append-mostly (updates+deletes at most max_churn_ratio of inserts since the statistics reset, when counters exist) and either large (total size incl. TOAST and indexes, or estimated rows, past the thresholds: warning; critical past critical_bytes or critical_rows), projected to pass those thresholds within horizon_days at the insert rate observed since the statistics reset (warning), or among the top_n largest tables of the database with at least top_n_min_rows rows (info: plan partitioning before it grows)."
why = "A single ever-growing heap makes retention a DELETE that bloats the table and runs for hours, every VACUUM and index rebuild touches all of history, and indexes on the time key grow past memory. Range partitions by the time key turn retention into DROP/DETACH PARTITION, keep vacuum and indexes per-partition, and let queries on recent data prune old partitions. Converting later is much harder than starting partitioned: it needs a data migration."
example = "create table credit_transactions (id uuid primary key, user_id uuid, amount int, created_at timestamptz not null default now());  -- 200 M rows, never deleted"
fix = "create table credit_transactions_part (like credit_transactions including all excluding indexes) partition by range (created_at);  -- monthly partitions; migrate with pg_partman/pgslice or in a maintenance window"
ignore_when = "The table is large but bounded (a reference table that does not grow with time), rows are updated or deleted by key across all of history, the queries never filter by the time key and no retention is planned, or the data is already archived elsewhere on a schedule that keeps the table small. Partitioning also has costs: primary keys and unique constraints must include the partition key, and foreign keys referencing the table need PostgreSQL 12+."
references = ["https://www.postgresql.org/docs/current/ddl-partitioning.html", "https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-BEST-PRACTICES", "https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-PARTITION"]
ok = "No large append-mostly time-keyed table is left unpartitioned"
applies = '''exists (select 1 from scope_tables t where t.relkind = 'r' and not t.relispartition and (t.reltuples >= least(%(min_rows)s::float8, %(top_n_min_rows)s::float8) or t.relpages::float8 * current_setting('block_size')::float8 >= %(min_bytes)s::float8 / 4))'''
not_applicable = "no table in scope is large enough to consider partitioning"
impact = "Retention by DELETE, vacuum and index maintenance over the whole history: slow, bloated, expensive storage as the table grows."
message = "{object} ({_size}, ~{estimated_rows} rows) is {_why}, append-mostly and keyed by {time_column} ({time_column_type}), but not partitioned"
remediation = "Recreate the table partitioned by range on its time key with monthly (or weekly for very high volume) partitions, then move the rows: in a maintenance window (insert ... select, swap names in one transaction), or online with pg_partman's partition_data procedures, pgslice, or logical replication into the new table. The primary key and unique constraints must include the partition key; recreate them and the foreign keys on the new table. Create future partitions ahead of time (pg_partman or a scheduled job) and drop or detach old ones for retention. The SQL given is a sketch that creates the empty partitioned table and its first partitions only."
replica_note = "Insert/update/delete counters are this server's: on a standby they count replayed rows since its own statistics reset, so the append-mostly test and the growth projection are weaker there; sizes are the same."

[severity]
default = "warning"
critical = ["total_bytes >= critical_bytes", "estimated_rows >= critical_rows"]
info = ["reason = 'among the largest'"]  # not large nor growing fast: plan partitioning before it grows
[labels]
churn_ratio = "Updates+deletes per insert"
[params]
time_column_patterns = ["^created_at$", "^inserted_at$", "^created$", "^created_on$", "^creation_date$", "^timestamp$", "^ts$", "^occurred_at$", "^logged_at$", "^event_time$", "_at$", "_time$", "_date$", "_on$"]  # column names that can key a time-range partitioning, in order of preference
min_bytes = 1073741824  # warning past these (total relation size incl. TOAST and indexes, estimated rows)
min_rows = 10000000
critical_bytes = 10737418240  # critical past these
critical_rows = 100000000
max_churn_ratio = 1.0  # append-mostly: (updates + deletes) / inserts since the statistics reset at most this
horizon_days = 365  # growth projection: the horizon (the insert rate needs min_stats_age_s of statistics)
top_n = 5  # among the largest N tables of the database (by heap pages), with at least this many rows: info
top_n_min_rows = 100000
*/
with tabs as (
  select c.oid, c.relname, c.nspname, c.relpages, c.reltuples, rank() over (order by c.relpages desc, c.oid) as size_rank
  from scope_tables c
  where c.relkind = 'r' and not c.relispartition  -- legacy inheritance trees: out of scope
    and not exists (select 1 from pg_catalog.pg_inherits ih where ih.inhrelid = c.oid or ih.inhparent = c.oid)
), timecol as (  -- the preferred time-key column of each table
  select distinct on (t.oid) t.oid, a.attname, format_type(a.atttypid, a.atttypmod) as col_type
  from tabs t join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join lateral unnest(%(time_column_patterns)s::text[]) with ordinality p(pat, ord) on a.attname ~ p.pat
  where a.atttypid in ('pg_catalog.date'::regtype, 'pg_catalog.timestamp'::regtype, 'pg_catalog.timestamptz'::regtype)
  order by t.oid, p.ord, a.attnum
), stats as (
  -- the counters read directly (pg_stat_user_tables aggregates over every relation's indexes first)
  select t.*, tc.attname as time_column, tc.col_type, s.*, r.*,
         greatest(t.reltuples, 0) + coalesce(r.rows_per_day, 0) * %(horizon_days)s::float8 as projected_rows
  from tabs t join timecol tc on tc.oid = t.oid
  cross join lateral (select pg_catalog.pg_stat_get_tuples_inserted(t.oid) as n_tup_ins, pg_catalog.pg_stat_get_tuples_updated(t.oid) as n_tup_upd,
                             pg_catalog.pg_stat_get_tuples_deleted(t.oid) as n_tup_del) s
  cross join lateral (
    select case when s.n_tup_ins > 0 then round((s.n_tup_upd + s.n_tup_del)::numeric / s.n_tup_ins, 3) end as churn,
           case when %(rates_ok)s then s.n_tup_ins / (%(stats_age_s)s::float8 / 86400.0) end as rows_per_day) r
), judged as (
  -- large (past the warning or critical thresholds), growing past them within horizon_days, or among the top_n largest
  select z.*, pb.projected_bytes,
         case when z.total_bytes >= least(%(min_bytes)s::bigint, %(critical_bytes)s::bigint)
                or z.est_rows >= least(%(min_rows)s::bigint, %(critical_rows)s::bigint) then 'large'
              when z.projected_rows >= %(min_rows)s::float8 or pb.projected_bytes >= %(min_bytes)s::float8 then 'growing'
              when z.size_rank <= %(top_n)s::int and z.est_rows >= %(top_n_min_rows)s::bigint then 'among the largest'
         end as reason
  from (  -- cheap prefilter on catalog estimates; exact sizes only for these
    select st.*, pg_catalog.pg_total_relation_size(st.oid) as total_bytes, greatest(st.reltuples, 0)::bigint as est_rows
    from stats st
    where (st.churn is null or st.churn <= %(max_churn_ratio)s::numeric) and st.oid <> all(%(locked)s::oid[])
      and (st.reltuples >= least(%(min_rows)s::float8, %(top_n_min_rows)s::float8)
           or st.relpages::float8 * current_setting('block_size')::float8 >= %(min_bytes)s::float8 / 4
           or st.projected_rows >= %(min_rows)s::float8)) z
  cross join lateral (select case when z.est_rows > 0 and z.rows_per_day is not null
                              then z.total_bytes * (z.projected_rows / z.est_rows) end as projected_bytes) pb
)
select j.oid::regclass::text as object, 'table' as object_type, array[j.time_column::text] as columns,
       j.total_bytes, pg_catalog.pg_size_pretty(j.total_bytes) as _size, j.est_rows as estimated_rows,
       j.time_column, j.col_type as time_column_type, j.reason,
       case j.reason when 'large' then 'large' when 'growing' then 'growing fast'
                     else format('among the %%s largest tables of the database', %(top_n)s::int) end as _why,
       j.size_rank, j.n_tup_ins, j.n_tup_upd, j.n_tup_del, j.churn::float8 as churn_ratio,
       round(j.rows_per_day::numeric, 1)::float8 as rows_per_day, round(j.projected_rows::numeric)::bigint as projected_rows, j.projected_bytes::bigint as projected_bytes,
       format(E'-- Sketch only: an empty range-partitioned copy and its first monthly partitions. Moving the rows\n' ||
              E'-- needs a maintenance window (insert ... select, then swap names in one transaction) or an online\n' ||
              E'-- tool (pg_partman, pgslice, logical replication). Unique keys must include %%s; recreate foreign keys.\n' ||
              E'create table %%I.%%I (like %%s including all excluding indexes) partition by range (%%I);\n' ||
              E'%%s%%s' ||
              E'create table %%I.%%I partition of %%I.%%I default;',
              -- in a comment line: a newline in the name would end the comment
              regexp_replace(quote_ident(j.time_column), E'[\\r\\n]+', E'\\&-- ', 'g'),
              j.nspname, st.stem50 || '_partitioned', j.oid::regclass, j.time_column,
              coalesce((
                select format(E'alter table %%I.%%I add primary key (%%s);\n', j.nspname, st.stem50 || '_partitioned',
                              string_agg(quote_ident(a.attname), ', ' order by k.ord)
                              || case when bool_or(a.attname = j.time_column) then '' else ', ' || quote_ident(j.time_column) end)
                from pg_catalog.pg_constraint pk cross join lateral unnest(pk.conkey) with ordinality k(attnum, ord)
                join pg_catalog.pg_attribute a on a.attrelid = pk.conrelid and a.attnum = k.attnum
                where pk.conrelid = j.oid and pk.contype = 'p'
                group by pk.oid), ''),
              -- this month's partition and the next two's
              (select string_agg(format(E'create table %%I.%%I partition of %%I.%%I for values from (%%L) to (%%L);\n',
                                        j.nspname, st.stem45 || '_' || to_char(m, 'YYYY_MM'), j.nspname, st.stem50 || '_partitioned',
                                        m::date, (m + interval '1 month')::date), '' order by m)
               from generate_series(date_trunc('month', now()), date_trunc('month', now()) + interval '2 month', interval '1 month') m),
              j.nspname, st.stem50 || '_default', j.nspname, st.stem50 || '_partitioned') as remediation
from judged j
-- name stems of at most 50 / 45 bytes (whole characters): with the suffixes the names stay within 63 bytes, never truncated
cross join lateral (
  select left(j.relname, max(k) filter (where octet_length(left(j.relname, k)) <= 50)) as stem50,
         left(j.relname, max(k) filter (where octet_length(left(j.relname, k)) <= 45)) as stem45
  from generate_series(0, length(j.relname)) k) st
where j.reason is not null
order by 1
