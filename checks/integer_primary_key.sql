/* pgaudit
id = "integer_primary_key"
title = "Integer (int2/int4) primary keys on growing tables"
section = "1.1"
severity = "warning"
needs = ["catalog", "stats"]
detects = "Single-column smallint/integer primary keys on tables that grow: the share of the type's maximum already used (from the key's owned or identity sequence, pg_sequences.last_value), the estimated row count and the inserts since the statistics reset. Severity rises with the share used. Small, slow tables (lookup tables) are counted in the summary, not reported. Reading a sequence locks it until the check ends, so at most max_sequences_read sequences are read (the biggest tables' first, never more than a quarter of the server's lock table); keys past that are judged by their rows and counted in the result."
why = "When an int4 key reaches 2,147,483,647 every insert fails until the column (and every referencing column) is converted to bigint, which rewrites the tables under an exclusive lock: an outage at the worst moment. Sequences also burn values on rollbacks and ON CONFLICT, so the limit arrives earlier than the row count suggests."
example = "create table events (id serial primary key, payload jsonb);"
fix = "create table events (id bigint generated always as identity primary key, payload jsonb);"
ignore_when = "The table's domain is bounded by design (countries, currencies, status codes) and the key is not drawn from a fast sequence."
references = ["https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT", "https://www.postgresql.org/docs/current/view-pg-sequences.html"]
ok = "Primary keys have room to grow"
impact = "When the key runs out, every insert into the table fails; the fix is a table rewrite of the table and of every referencing table."
message = "{object}.{column} is {type}: {used_pct}% of its maximum used ({current_max} of {type_max}), about {estimated_rows} rows"
remediation = "Convert the key and every column referencing it to bigint (the SQL below; identity sequences follow the column type, serial sequences are widened explicitly). ALTER COLUMN TYPE REWRITES each table and rebuilds its indexes under an ACCESS EXCLUSIVE lock: on large tables add a bigint column, backfill it in batches, build a unique index CONCURRENTLY and swap the key in a short transaction instead."
replica_note = "Sequence values and insert counters on a standby reflect the primary only as of replay; the verdict stands but the insert rate is the primary's."

[params]
critical_share = 0.5      # share of the type's maximum used: critical
warning_share = 0.1       # share used: warning
min_rows = 100000         # below this (estimated rows and inserts since reset) and below warning_share: not reported
# a sequence read locks it until the check ends: the biggest tables' first, at most this many
# (and never more than a quarter of max_locks_per_transaction x max_connections)
max_sequences_read = 2000
*/
with pk1 as materialized (      -- single-column primary keys in scope, read once for pks and totals
  select c.oid as relid, c.relkind, c.reltuples, a.attnum, a.attname, a.atttypid, a.attidentity
  from pg_catalog.pg_constraint con
  join pg_catalog.pg_class c on c.oid = con.conrelid
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  -- one index lookup on (attrelid, attnum): the 1-row estimate on cardinality(conkey) = 1
  -- otherwise reads every column of every table
  cross join lateral (select a.attnum, a.attname, a.atttypid, a.attidentity from pg_catalog.pg_attribute a
                      where a.attrelid = c.oid and a.attnum = con.conkey[1] offset 0) a
  where con.contype = 'p' and cardinality(con.conkey) = 1 and not c.relispartition
    and nsp.nspname = any(%(schemas)s::name[])
), cfg as (
  -- each pg_sequence_last_value locks its sequence until the check's transaction ends: read at
  -- most max_sequences_read, and never more than a quarter of the server's lock table
  select least(%(max_sequences_read)s::int, %(lock_budget)s::int) as budget
), pks as (
  select k.relid, k.reltuples, k.attnum, k.attname, k.atttypid, k.attidentity,
         case k.atttypid when 'pg_catalog.int2'::regtype then 32767::numeric else 2147483647::numeric end as type_max,
         -- the biggest tables' sequences are read first
         row_number() over (order by k.reltuples desc, k.relid) <= (select budget from cfg) as read_seq
  from pk1 k
  where k.relkind in ('r', 'p')
    and k.atttypid in ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = k.relid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), assessed as (
  -- per key, through the catalogs' indexes (cost linear in the keys): the sequence owned by
  -- (serial, deptype a) or internal to (identity, deptype i) the key column, and the rows and
  -- inserts of the table (a partitioned table's are its partitions')
  select p.*, s.seqid, s.last_value,
         coalesce(t.est_rows, 0) as est_rows, coalesce(t.analyzed, false) as analyzed,
         coalesce(t.inserts, 0) as inserts,
         round(coalesce(s.last_value, 0) / p.type_max, 4) as share
  from pks p
  left join lateral (
    select s.oid as seqid,
           case when p.read_seq and pg_catalog.has_sequence_privilege(s.oid, 'SELECT,USAGE')
                then pg_catalog.pg_sequence_last_value(s.oid) end as last_value
    from pg_catalog.pg_depend d
    join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
    where d.refclassid = 'pg_catalog.pg_class'::regclass
      and d.refobjid = p.relid and d.refobjsubid = p.attnum
      and d.classid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i')
  ) s on true
  left join lateral (
    select sum(greatest(pc.reltuples, 0)) as est_rows, bool_or(pc.reltuples >= 0) as analyzed,
           -- pg_stat_all_tables.n_tup_ins, read directly (the view aggregates over every relation)
           sum(pg_catalog.pg_stat_get_tuples_inserted(pc.oid)) as inserts
    from pg_catalog.pg_class pc
    -- pg_partition_tree() is empty for a plain table: add the table itself; "= any(array)" looks
    -- the few relations up by oid instead of hashing all of pg_class once per key
    where pc.oid = any(array(select p.relid union select t.relid from pg_catalog.pg_partition_tree(p.relid) t))
      and pc.relkind = 'r'
  ) t on true
), found as (
  select a.*,
         case when a.share >= %(critical_share)s then 'critical'
              when a.share >= %(warning_share)s or a.est_rows >= %(min_rows)s or a.inserts >= %(min_rows)s
                then 'warning' end as sev
  from assessed a
), refs as (
  select f.relid, string_agg(format('alter table %%s alter column %%I type bigint;', con.conrelid::regclass, ra.attname),
                             E'\n' order by con.conrelid::regclass::text, ra.attname) as sql,
         count(*) as n
  from found f
  join pg_catalog.pg_constraint con on con.contype = 'f' and con.confrelid = f.relid and con.conparentid = 0
       and cardinality(con.confkey) = 1 and con.confkey[1] = f.attnum
  join pg_catalog.pg_attribute ra on ra.attrelid = con.conrelid and ra.attnum = con.conkey[1]
  where f.sev is not null
    and ra.atttypid in ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
  group by f.relid
), totals as (
  select count(*) as pk_total,
         count(*) filter (where k.atttypid in ('pg_catalog.int8'::regtype, 'pg_catalog.numeric'::regtype)) as pk_bigint,
         count(*) filter (where k.atttypid = 'pg_catalog.uuid'::regtype) as pk_uuid
  from pk1 k
)
select f.relid::regclass::text as object,
       'table' as object_type,
       array[f.attname::text] as columns,
       f.sev as severity,
       jsonb_build_object(
         'column', quote_ident(f.attname),
         'type', format_type(f.atttypid, null),
         'type_max', f.type_max,
         'current_max', f.last_value,
         'current_max_source', case when f.seqid is null then 'no owned sequence'
                                    when not f.read_seq then 'not read: over the budget of sequence reads'
                                    when f.last_value is null then 'sequence unused or not readable'
                                    else 'pg_sequences.last_value of ' || f.seqid::regclass::text end,
         'used_pct', round(f.share * 100, 2),
         'estimated_rows', case when f.analyzed then f.est_rows::bigint end,
         'inserts_since_stats_reset', f.inserts::bigint,
         'stats_age_s', %(stats_age_s)s,
         'referencing_columns', coalesce(r.n, 0),
         'rewrites_table', true) as evidence,
       concat_ws(E'\n',
         format('alter table %%s alter column %%I type bigint;  -- rewrites the table: maintenance window', f.relid::regclass, f.attname),
         case when f.seqid is not null and f.attidentity = '' then format('alter sequence %%s as bigint;', f.seqid::regclass) end,
         r.sql) as remediation,
       format('%%s.%%I is %%s: %%s%%%% of its maximum used (%%s of %%s)%%s%%s',
              f.relid::regclass, f.attname, format_type(f.atttypid, null), round(f.share * 100, 2),
              coalesce(f.last_value::text, 'unknown'), f.type_max,
              case when f.analyzed then format(', about %%s rows', f.est_rows::bigint) else ', never analyzed' end,
              case when f.inserts > 0 then format(', %%s inserts since the statistics reset', f.inserts::bigint) else '' end) as detail
from found f
left join refs r on r.relid = f.relid
where f.sev is not null
union all
select quote_ident(current_database()), 'database', null, 'ok',
       jsonb_build_object('primary_keys', t.pk_total, 'bigint', t.pk_bigint, 'uuid', t.pk_uuid,
                          'small_integer_keys', (select count(*) from found),
                          'largest_share_pct', (select round(max(share) * 100, 2) from found))
       || case when exists (select 1 from found where seqid is not null and not read_seq)
               then jsonb_build_object('sequences_not_read', (select count(*) from found where seqid is not null and not read_seq),
                                       'read_budget', (select budget from cfg))
               else '{}' end,
       null,
       case when (select count(*) from found) = 0
            then format('All %%s single-column primary keys are bigint or uuid (%%s bigint, %%s uuid)', t.pk_total, t.pk_bigint, t.pk_uuid)
            else format('%%s of %%s single-column primary keys are bigint or uuid; the %%s smallint/integer keys have used at most %%s%%%% of their range and sit on tables under %%s rows (%%s never analyzed)',
                        t.pk_bigint + t.pk_uuid, t.pk_total, (select count(*) from found),
                        (select round(max(share) * 100, 2) from found), %(min_rows)s,
                        (select count(*) from found where not analyzed)) end
       || case when exists (select 1 from found where seqid is not null and not read_seq)
               then format('; the sequences of %%s keys were NOT READ: over the budget of %%s reads (each read locks its sequence until the check ends), so those keys were judged by their rows only',
                           (select count(*) from found where seqid is not null and not read_seq), (select budget from cfg))
               else '' end
from totals t
where t.pk_total > 0 and not exists (select 1 from found where sev is not null)
order by 1
