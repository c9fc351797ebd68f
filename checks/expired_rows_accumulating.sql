/* pgaudit
id = "expired_rows_accumulating"
title = "Expired rows accumulating (no cleanup job for expires_at-style tables)"
section = "7.1"
severity = "warning"
needs = ["stats"]
locks = true
detects = "Tables (a partitioned table once, at its parent, rows summed over its partitions) with a timestamp or date column named like an expiry (expires_at, expired_at, expiry, valid_until, ttl ... : the column_patterns param, LIKE patterns, case-insensitive) and at least min_rows rows. With data reads allowed, a bounded probe counts rows that expired more than grace ago (select ... where col < now() - grace limit min_expired_rows, index-friendly) and the table is reported when it finds at least min_expired_rows. Tables referenced by a foreign key are skipped (skip_referenced): their rows are business records that outlive their expiry. Only timestamp and date columns are judged, not integer epoch columns (such as *_ts_ms). Under --no-data the verdict comes from the statistics instead: no more deletes than max_delete_share of the rows over a statistics window of at least min_stats_age_s (no verdict on a shorter window)."
why = "An expiry column says the rows have a lifetime, but PostgreSQL never removes them by itself: without a purge job, one-time codes, sessions, tokens and caches grow without bound. Every expired row still costs storage, index size, vacuum and backup time, slows the queries that must skip it, and is data kept longer than needed (a privacy liability for tokens and codes)."
example = "create table otps (id bigint primary key, code text, expires_at timestamptz not null);  -- rows are inserted, never deleted"
fix = "delete from otps where id in (select id from otps where expires_at < now() - interval '24 hours' limit 10000);  -- repeated, scheduled daily with pg_cron or the application's scheduler"
ignore_when = "The expired rows are kept on purpose (audit, analytics, legal retention) and another retention rule removes them, or the table is partitioned by the expiry time and old partitions are dropped by a partition manager (pg_partman)."
references = ["https://www.postgresql.org/docs/current/sql-delete.html", "https://www.postgresql.org/docs/current/routine-vacuuming.html", "https://github.com/citusdata/pg_cron"]
ok = "No expires_at-style table holds a backlog of expired rows"
impact = "Storage, index and vacuum cost grows without bound; expired secrets and codes are kept longer than needed."
message = "{object}: at least {expired_rows} rows expired more than {grace} ago ({column}; {rows} rows, {deletes} deletes in {stats_age_days} days of statistics)"
remediation = "Add a purge job: the DELETE shown removes one batch (it is DESTRUCTIVE: check the column's meaning and the grace period first); repeat it until it deletes nothing, then schedule it, e.g. with pg_cron (select cron.schedule('purge-otps', '15 3 * * *', $$ ... $$)) or the application's scheduler. Each batch is a short transaction, so it does not hold locks or bloat WAL the way one large DELETE does; an index on the expiry column keeps each batch cheap. For very large tables, partitioning by the expiry time and dropping old partitions avoids deletes and vacuum altogether."

[params]
column_patterns = ["expires_at", "expired_at", "expires_on", "expires", "expire_at", "expiry", "expiry_at", "expiry_date", "expiration", "expiration_date", "expiration_time", "expires_time", "valid_until", "ttl"]
min_rows = 10000
grace = "24 hours"
min_expired_rows = 1000
batch_size = 10000
min_stats_age_s = 604800
max_delete_share = 0.01
skip_referenced = true
*/
with tables as (
  select c.oid, c.relkind
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  where c.relkind in ('r', 'p')
    and not c.relispartition
    and nsp.nspname = any(%(schemas)s::name[])
    and c.oid <> all(%(locked)s::oid[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
            and d.refclassid = 'pg_catalog.pg_extension'::regclass)
    -- rows other tables point to are business records (order forms, exports), not disposable tokens
    -- (one hashed set of referenced tables, not a pg_constraint scan per table)
    and not (%(skip_referenced)s and c.oid in (
      select fk.confrelid from pg_catalog.pg_constraint fk
      where fk.contype = 'f' and fk.conrelid <> fk.confrelid))
), expiry as (
  -- the first expiry-like column of each table
  select distinct on (t.oid) t.oid, t.relkind, a.attnum, a.attname,
         (select p from unnest(%(column_patterns)s::text[]) p where a.attname ilike p limit 1) as pattern
  from tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  where a.attname ilike any(%(column_patterns)s::text[])
    and a.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                       'pg_catalog.date'::regtype)
  order by t.oid, a.attnum
), members as (
  select e.oid as top, e.oid as rel from expiry e where e.relkind = 'r'
  union all
  select e.oid, p.relid from expiry e
  cross join lateral pg_catalog.pg_partition_tree(e.oid) p
  where e.relkind = 'p'
), counts as (
  select m.top,
         sum(case when rc.reltuples >= 0 then rc.reltuples end) as reltuples,
         bool_or(rc.relkind = 'r' and rc.reltuples < 0) as unanalyzed,
         sum(s.n_live_tup) as live, sum(s.n_tup_ins) as ins, sum(s.n_tup_del) as del
  from members m
  join pg_catalog.pg_class rc on rc.oid = m.rel
  left join pg_catalog.pg_stat_user_tables s on s.relid = m.rel
  where rc.relkind = 'r'
  group by m.top
), cand as (
  select e.*, k.del, k.ins,
         -- never-analyzed tables (reltuples = -1) fall back on the live-row counter
         greatest(coalesce(k.reltuples, 0), case when k.unanalyzed then coalesce(k.live, 0) else 0 end)::bigint as rows,
         (select string_agg(quote_ident(pa.attname), ', ' order by k2.ord)
          from pg_catalog.pg_constraint pk
          cross join lateral unnest(pk.conkey) with ordinality k2(attnum, ord)
          join pg_catalog.pg_attribute pa on pa.attrelid = pk.conrelid and pa.attnum = k2.attnum
          where pk.conrelid = e.oid and pk.contype = 'p') as pk_cols,
         exists (select 1 from pg_catalog.pg_index i
                 where i.indrelid = e.oid and i.indkey[0] = e.attnum and i.indpred is null) as indexed
  from expiry e join counts k on k.top = e.oid
), judged as (
  select c.*,
         %(stats_age_s)s::float8 >= %(min_stats_age_s)s::float8 as window_ok,
         coalesce(c.del, 0) <= %(max_delete_share)s::numeric * greatest(c.rows, 1) as few_deletes
  from cand c
  where c.rows >= %(min_rows)s::bigint
), shaped as (
  select j.*,
         format('%%s < now() - interval %%L', quote_ident(j.attname), %(grace)s::text) as cond,
         case when j.pk_cols is not null
              then format('delete from %%s where (%%s) in (select %%s from %%s where %%I < now() - interval %%L limit %%s);',
                          j.oid::regclass, j.pk_cols, j.pk_cols, j.oid::regclass, j.attname,
                          %(grace)s::text, %(batch_size)s::int)
              when j.relkind = 'r'
              then format('delete from %%s where ctid = any(array(select ctid from %%s where %%I < now() - interval %%L limit %%s));',
                          j.oid::regclass, j.oid::regclass, j.attname, %(grace)s::text, %(batch_size)s::int)
              else format(E'-- no primary key to batch on: one statement; run it off-peak\ndelete from %%s where %%I < now() - interval %%L;',
                          j.oid::regclass, j.attname, %(grace)s::text)
         end as purge
  from judged j
)
select s.oid::regclass::text as object,
       'table' as object_type,
       array[s.attname::text] as columns,
       case when not s.can_probe
            then format('%%s: %%s rows and %%s deletes in %%s days of statistics (%%s inserts): nothing removes rows whose %%s has passed (rows not read: %%s)',
                        s.oid::regclass, s.rows, coalesce(s.del, 0),
                        round((%(stats_age_s)s::float8 / 86400)::numeric, 1), coalesce(s.ins, 0),
                        quote_ident(s.attname),
                        case when %(allow_data)s then 'no SELECT privilege' else '--no-data' end) end as detail,
       jsonb_build_object(
         'column', s.attname, 'pattern', s.pattern, 'rows', s.rows,
         'deletes', coalesce(s.del, 0), 'inserts', coalesce(s.ins, 0),
         'stats_age_days', round((%(stats_age_s)s::float8 / 86400)::numeric, 1),
         'stats_window_s', round(%(stats_age_s)s::numeric),
         'grace', %(grace)s::text, 'expiry_column_indexed', s.indexed,
         'partitioned', s.relkind = 'p', 'min_rows', %(min_rows)s::bigint) as evidence,
       concat_ws(E'\n',
         -- comment lines: a newline in a name would end the comment, so continue it with '-- '
         regexp_replace(format('-- DESTRUCTIVE: deletes up to %%s rows of %%s whose %%s passed more than %%s ago.',
                               %(batch_size)s::int, s.oid::regclass, quote_ident(s.attname), %(grace)s::text),
                        E'[\\r\\n]+', E'\\&-- ', 'g'),
         '-- Repeat until it deletes 0 rows, then schedule it daily (pg_cron: cron.schedule, or the application''s scheduler).',
         case when not s.indexed
              then regexp_replace(format('-- Each batch scans the table: consider  create index concurrently on %%s (%%I);',
                                         s.oid::regclass, s.attname),
                                  E'[\\r\\n]+', E'\\&-- ', 'g') end,
         s.purge) as remediation,
       case when s.can_probe
            then format('select count(*) >= %%s as fires, jsonb_build_object(''expired_rows'', count(*), ''probe_limit'', %%s) as evidence from (select 1 from %%s where %%s limit %%s) x',
                        %(min_expired_rows)s::int, %(min_expired_rows)s::int, s.oid::regclass, s.cond,
                        %(min_expired_rows)s::int) end as probe,
       null::text as no_verdict
from (select sh.*, %(allow_data)s and has_table_privilege(sh.oid, 'SELECT') as can_probe from shaped sh) s
where s.can_probe or (s.window_ok and s.few_deletes)
union all
select null, null, null, null, null, null, null,
       format('%%s candidate table(s) cannot be read (--no-data or no SELECT privilege) and the statistics window (%%s) is shorter than min_stats_age_s (%%s)',
              (select count(*) from judged),
              coalesce(justify_hours(make_interval(secs => round(%(stats_age_s)s::float8)))::text, 'unknown'),
              justify_hours(make_interval(secs => %(min_stats_age_s)s::float8))::text)
where exists (select 1 from judged j
             where not j.window_ok and not (%(allow_data)s and has_table_privilege(j.oid, 'SELECT')))
order by 1
