/* pgaudit
id = "expired_rows_accumulating"
title = "Expired rows accumulating (no cleanup job for expires_at-style tables)"
section = "7.1"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["stats"]
# only the --no-data verdict reads the statistics (deletes over a week); with data reads the
# probe judges at once. A table that must be judged from statistics over a shorter window
# makes the whole check give no verdict (the no_verdict row: "rates" alone would pass it)
min_stats_age_s = 604800
stats_window = "rates"
locks = true
detects = "Tables (a partitioned table once, at its parent, rows summed over its partitions) with a timestamp or date column named like an expiry (expires_at, expired_at, expiry, valid_until, ttl ... : the column_patterns param, LIKE patterns, case-insensitive) and at least min_rows rows. With data reads allowed, a bounded probe counts rows that expired more than grace ago (select ... where col < now() - grace limit min_expired_rows, index-friendly) and the table is reported when it finds at least min_expired_rows. Tables referenced by a foreign key are skipped (skip_referenced): their rows are business records that outlive their expiry. Only timestamp and date columns are judged, not integer epoch columns (such as *_ts_ms). Under --no-data the verdict comes from the statistics instead: no more deletes than max_delete_share of the rows over a statistics window of at least min_stats_age_s (no verdict on a shorter window)."
why = "An expiry column says the rows have a lifetime, but PostgreSQL never removes them by itself: without a purge job, one-time codes, sessions, tokens and caches grow without bound. Every expired row still costs storage, index size, vacuum and backup time, slows the queries that must skip it, and is data kept longer than needed (a privacy liability for tokens and codes)."
example = "create table otps (id bigint primary key, code text, expires_at timestamptz not null);  -- rows are inserted, never deleted"
fix = "delete from otps where id in (select id from otps where expires_at < now() - interval '24 hours' limit 10000);  -- repeated, scheduled daily with pg_cron or the application's scheduler"
ignore_when = "The expired rows are kept on purpose (audit, analytics, legal retention) and another retention rule removes them, or the table is partitioned by the expiry time and old partitions are dropped by a partition manager (pg_partman)."
references = ["https://www.postgresql.org/docs/current/sql-delete.html", "https://www.postgresql.org/docs/current/routine-vacuuming.html", "https://github.com/citusdata/pg_cron"]
ok = "No expires_at-style table holds a backlog of expired rows"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  with cols as materialized (
    select a.attrelid, a.attname
    from pg_catalog.pg_attribute a
    where a.attnum > 0 and not a.attisdropped
      and a.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                         'pg_catalog.date'::regtype)
  )
  -- the name patterns once per distinct name (offset 0: not pushed into the scan), then
  -- the tables in scope with a matching column
  select 1
  from (select distinct attname from cols offset 0) d
  join cols c on c.attname = d.attname
  join scope_tables t on t.oid = c.attrelid
  where d.attname ilike any(%(column_patterns)s::text[]) and not t.relispartition)'''
not_applicable = "no table in scope has an expiry column (expires_at, valid_until …)"
census = '''
exists (select 1 from census_columns c
        where c.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                             'pg_catalog.date'::regtype)
          and c.attname ilike any(%(column_patterns)s::text[]))'''
impact = "Storage, index and vacuum cost grows without bound; expired secrets and codes are kept longer than needed."
message = "{object}: rows whose {expiry_column} passed more than {_grace} ago accumulate and nothing deletes them; found by {found_by}"
remediation = "Add a purge job: the DELETE shown removes one batch (it is DESTRUCTIVE: check the column's meaning and the grace period first); repeat it until it deletes nothing, then schedule it, e.g. with pg_cron (select cron.schedule('purge-otps', '15 3 * * *', $$ ... $$)) or the application's scheduler. Each batch is a short transaction, so it does not hold locks or bloat WAL the way one large DELETE does; an index on the expiry column keeps each batch cheap. For very large tables, partitioning by the expiry time and dropping old partitions avoids deletes and vacuum altogether."

[labels]
expiry_column = "Expiry column"
found_by = "Found by"
expired_rows = "Expired rows found (counting stops at the reporting threshold)"
rows = "Rows"
deletes = "Deletes since the statistics reset"
inserts = "Inserts since the statistics reset"
expiry_column_indexed = "Expiry column indexed"

[params]
column_patterns = ["expires_at", "expired_at", "expires_on", "expires", "expire_at", "expiry", "expiry_at", "expiry_date", "expiration", "expiration_date", "expiration_time", "expires_time", "valid_until", "ttl"]
min_rows = 10000
grace = "24 hours"
min_expired_rows = 1000
batch_size = 10000
max_delete_share = 0.01
skip_referenced = true
*/
with recursive tables as (
  select c.oid, c.relkind
  from scope_tables c
  where not c.relispartition
    and c.oid <> all(%(locked)s::oid[])
    -- rows other tables point to are business records (order forms, exports), not disposable tokens
    -- (one hashed set of referenced tables, not a pg_constraint scan per table)
    and not (%(skip_referenced)s and c.oid in (
      select fk.confrelid from pg_catalog.pg_constraint fk
      where fk.contype = 'f' and fk.conrelid <> fk.confrelid))
), expiry as (
  -- the first expiry-like column of each table
  select distinct on (t.oid) t.oid, t.relkind, a.attnum, a.attname
  from tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  where a.attname ilike any(%(column_patterns)s::text[])
    and a.atttypid in ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype,
                       'pg_catalog.date'::regtype)
  order by t.oid, a.attnum
), members as (
  -- a partitioned table's partitions through pg_inherits: pg_partition_tree() would lock them all
  -- (a plain table's inheritance children are tables of their own)
  select e.oid as top, e.oid as rel, e.relkind = 'p' as walk from expiry e
  union all
  select m.top, i.inhrelid, true from members m
  join pg_catalog.pg_inherits i on i.inhparent = m.rel
  where m.walk
), counts as (
  select m.top,
         sum(case when rc.reltuples >= 0 then rc.reltuples end) as reltuples,
         bool_or(rc.reltuples < 0) as unanalyzed,
         sum(pg_catalog.pg_stat_get_live_tuples(m.rel)) as live,
         sum(pg_catalog.pg_stat_get_tuples_inserted(m.rel)) as ins,
         sum(pg_catalog.pg_stat_get_tuples_deleted(m.rel)) as del
  from members m
  join pg_catalog.pg_class rc on rc.oid = m.rel
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
                 where i.indrelid = e.oid and i.indkey[0] = e.attnum and i.indpred is null) as indexed,
         %(allow_data)s and has_table_privilege(e.oid, 'SELECT') as can_probe
  from expiry e join counts k on k.top = e.oid
), judged as (
  select c.* from cand c where c.rows >= %(min_rows)s::bigint
)
select j.oid::regclass::text as object,
       'table' as object_type,
       array[j.attname::text] as columns,
       j.attname::text as expiry_column,
       case when j.can_probe then 'a bounded read of the table'
            when %(allow_data)s then 'the statistics, without SELECT privilege: few deletes'
            else 'the statistics, under --no-data: few deletes' end as found_by,
       j.rows, coalesce(j.del, 0)::bigint as deletes, coalesce(j.ins, 0)::bigint as inserts,
       j.indexed as expiry_column_indexed, j.relkind = 'p' as partitioned,
       %(grace)s::text as _grace,
       concat_ws(E'\n',
         -- comment lines: a newline in a name would end the comment, so continue it with '-- '
         regexp_replace(format('-- DESTRUCTIVE: deletes up to %%s rows of %%s whose %%s passed more than %%s ago.',
                               %(batch_size)s::int, j.oid::regclass, quote_ident(j.attname), %(grace)s::text),
                        E'[\\r\\n]+', E'\\&-- ', 'g'),
         '-- Repeat until it deletes 0 rows, then schedule it daily (pg_cron: cron.schedule, or the application''s scheduler).',
         case when not j.indexed
              then regexp_replace(format('-- Each batch scans the table: consider  create index concurrently on %%s (%%I);',
                                         j.oid::regclass, j.attname),
                                  E'[\\r\\n]+', E'\\&-- ', 'g') end,
         case when j.pk_cols is not null
              then format('delete from %%s where (%%s) in (select %%s from %%s where %%I < now() - interval %%L limit %%s);',
                          j.oid::regclass, j.pk_cols, j.pk_cols, j.oid::regclass, j.attname,
                          %(grace)s::text, %(batch_size)s::int)
              when j.relkind = 'r'
              then format('delete from %%s where ctid = any(array(select ctid from %%s where %%I < now() - interval %%L limit %%s));',
                          j.oid::regclass, j.oid::regclass, j.attname, %(grace)s::text, %(batch_size)s::int)
              else format(E'-- no primary key to batch on: one statement; run it off-peak\ndelete from %%s where %%I < now() - interval %%L;',
                          j.oid::regclass, j.attname, %(grace)s::text)
         end) as remediation,
       case when j.can_probe
            then format('select count(*) >= %%s as fires, jsonb_build_object(''expired_rows'', count(*)) as evidence from (select 1 from %%s where %%I < now() - interval %%L limit %%s) x',
                        %(min_expired_rows)s::int, j.oid::regclass, j.attname, %(grace)s::text,
                        %(min_expired_rows)s::int) end as probe,
       null::text as no_verdict
from judged j
-- unreadable: judged from the statistics, no more deletes than max_delete_share of the rows
where j.can_probe
   or (%(rates_ok)s and coalesce(j.del, 0) <= %(max_delete_share)s::numeric * greatest(j.rows, 1))
union all
select null, null, null, null, null, null, null, null, null, null, null, null, null,
       format('%%s cannot be read (--no-data or no SELECT privilege), and to judge them from their deletes %%s',
              (select case when count(*) = 1 then '1 candidate table' else count(*) || ' candidate tables' end from judged),
              %(stats_window_note)s::text)
where not %(rates_ok)s and exists (select 1 from judged j where not j.can_probe)
order by 1
