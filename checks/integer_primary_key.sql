/* pgaudit
id = "integer_primary_key"
title = "Integer (int2/int4) primary keys on growing tables"
section = "1.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog", "stats"]
detects = "Single-column smallint/integer primary keys on tables that grow: the share of the type's maximum already used (from the key's owned or identity sequence, pg_sequences.last_value), the estimated row count and the inserts since the statistics reset. Severity rises with the share used. Small, slow tables (lookup tables) are counted in the summary, not reported. Reading a sequence locks it until the check ends, so at most max_sequences_read sequences are read (the biggest tables' first, never more than a quarter of the server's lock table); keys past that are judged by their rows and counted in the result."
why = "When an int4 key reaches 2,147,483,647 every insert fails until the column (and every referencing column) is converted to bigint, which rewrites the tables under an exclusive lock: an outage at the worst moment. Sequences also burn values on rollbacks and ON CONFLICT, so the limit arrives earlier than the row count suggests."
example = "create table events (id serial primary key, payload jsonb);"
fix = "create table events (id bigint generated always as identity primary key, payload jsonb);"
ignore_when = "The table's domain is bounded by design (countries, currencies, status codes) and the key is not drawn from a fast sequence."
references = ["https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT", "https://www.postgresql.org/docs/current/view-pg-sequences.html"]
ok = "Primary keys have room to grow"
ok_message = "{bigint_or_uuid_keys} of {primary_keys} single-column primary keys are bigint or uuid{_small_keys}{_not_read}"
# nothing to judge (no single-column primary key in scope): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_constraint con join scope_tables c on c.oid = con.conrelid
        where con.contype = 'p' and cardinality(con.conkey) = 1 and not c.relispartition offset 0)'''
not_applicable = "no table in scope has a single-column primary key"
impact = "When the key runs out, every insert into the table fails; the fix is a table rewrite of the table and of every referencing table."
message = "{object}.{column} is {type}: {used_pct}% of its maximum used ({current_max} of {type_max}), {_rows}"
remediation = "Convert the key and every column referencing it to bigint (the SQL below; identity sequences follow the column type, serial sequences are widened explicitly). ALTER COLUMN TYPE REWRITES each table and rebuilds its indexes under an ACCESS EXCLUSIVE lock: on large tables add a bigint column, backfill it in batches, build a unique index CONCURRENTLY and swap the key in a short transaction instead."
replica_note = "Sequence values and insert counters on a standby reflect the primary only as of replay; the verdict stands but the insert rate is the primary's."

[params]
critical_share = 0.5      # share of the type's maximum used: critical
warning_share = 0.1       # share used: warning
min_rows = 100000         # below this (estimated rows and inserts since reset) and below warning_share: not reported
# a sequence read locks it until the check ends: the biggest tables' first, at most this many
# (and never more than a quarter of max_locks_per_transaction x max_connections)
max_sequences_read = 2000

[severity]
default = "warning"
critical = ["_share >= critical_share"]
ok = ["_summary"]
*/
with pk1 as materialized (      -- single-column primary keys in scope, read once for keys and totals
  select c.oid as relid, c.reltuples, a.attnum, a.attname, a.atttypid, a.attidentity
  from pg_catalog.pg_constraint con
  join scope_tables c on c.oid = con.conrelid
  -- one index lookup on (attrelid, attnum): the 1-row estimate on cardinality(conkey) = 1
  -- otherwise reads every column of every table
  cross join lateral (select a.attnum, a.attname, a.atttypid, a.attidentity from pg_catalog.pg_attribute a
                      where a.attrelid = c.oid and a.attnum = con.conkey[1] offset 0) a
  where con.contype = 'p' and cardinality(con.conkey) = 1 and not c.relispartition
), found as (
  -- per key, through the catalogs' indexes (cost linear in the keys): the sequence owned by
  -- (serial, deptype a) or internal to (identity, deptype i) the key column, and the rows and
  -- inserts of the table (a partitioned table's are its partitions')
  select p.*, s.seqid, s.last_value, t.est_rows, t.analyzed, t.inserts, x.share,
         -- reported: past a share, or min_rows rows or inserts; the others are in the 🟢 line
         x.share >= least(%(critical_share)s, %(warning_share)s)
           or t.est_rows >= %(min_rows)s or t.inserts >= %(min_rows)s as reported
  from (
    -- each pg_sequence_last_value locks its sequence until the check's transaction ends: at most
    -- max_sequences_read (never over a quarter of the lock table), the biggest tables' first
    select k.*, case k.atttypid when 'pg_catalog.int2'::regtype then 32767 else 2147483647 end as type_max,
           row_number() over (order by k.reltuples desc, k.relid)
             <= least(%(max_sequences_read)s::int, %(lock_budget)s::int) as read_seq
    from pk1 k where k.atttypid in ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)) p
  left join lateral (
    select s.oid as seqid,
           case when p.read_seq and pg_catalog.has_sequence_privilege(s.oid, 'SELECT,USAGE')
                then pg_catalog.pg_sequence_last_value(s.oid) end as last_value
    from pg_catalog.pg_depend d
    join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
    where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = p.relid and d.refobjsubid = p.attnum
      and d.classid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i')
  ) s on true
  cross join lateral (
    select coalesce(sum(greatest(pc.reltuples, 0)), 0) as est_rows, coalesce(bool_or(pc.reltuples >= 0), false) as analyzed,
           -- pg_stat_all_tables.n_tup_ins, read directly (the view aggregates over every relation)
           coalesce(sum(pg_catalog.pg_stat_get_tuples_inserted(pc.oid)), 0) as inserts
    from pg_catalog.pg_class pc
    -- pg_partition_tree() is empty for a plain table: add the table itself; "= any(array)" looks
    -- the few relations up by oid instead of hashing all of pg_class once per key
    where pc.oid = any(array(select p.relid union select t.relid from pg_catalog.pg_partition_tree(p.relid) t))
      and pc.relkind = 'r'
  ) t
  cross join lateral (select round(coalesce(s.last_value, 0) / p.type_max::numeric, 4) as share) x
), refs as (  -- the referencing columns, converted with the key
  select f.relid, count(*) as n,
         string_agg(format('alter table %%s alter column %%I type bigint;', con.conrelid::regclass, ra.attname),
                    E'\n' order by con.conrelid::regclass::text, ra.attname) as sql
  from found f
  join pg_catalog.pg_constraint con on con.contype = 'f' and con.confrelid = f.relid and con.conparentid = 0
       and cardinality(con.confkey) = 1 and con.confkey[1] = f.attnum
  join pg_catalog.pg_attribute ra on ra.attrelid = con.conrelid and ra.attnum = con.conkey[1]
  where f.reported and ra.atttypid in ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
  group by f.relid
), facts as (
  select f.relid as _relid, array[f.attname::text] as columns,
         concat_ws(E'\n',
           format('alter table %%s alter column %%I type bigint;  -- rewrites the table: maintenance window', f.relid::regclass, f.attname),
           case when f.seqid is not null and f.attidentity = '' then format('alter sequence %%s as bigint;', f.seqid::regclass) end,
           r.sql) as remediation,
         quote_ident(f.attname) as column, format_type(f.atttypid, null) as type, f.type_max, f.last_value as current_max,
         case when f.seqid is null then 'no owned sequence' when not f.read_seq then 'not read: over the budget of sequence reads'
              when f.last_value is null then 'sequence unused or not readable'
              else 'pg_sequences.last_value of ' || f.seqid::regclass::text end as current_max_source,
         round(f.share * 100, 2)::float8 as used_pct, f.share::float8 as _share,
         case when f.analyzed then f.est_rows::bigint end as estimated_rows, f.inserts::bigint as inserts_since_stats_reset,
         -- a never-analyzed table has no estimate: say so rather than "about unknown rows"
         case when f.analyzed then format('about %%s rows', to_char(f.est_rows, 'FM999,999,999,999'))
              else 'its rows not yet estimated (never analyzed)' end as _rows,
         coalesce(r.n, 0) as referencing_columns, true as rewrites_table
  from found f
  left join refs r on r.relid = f.relid
  where f.reported
), summary as (
  select count(*) as primary_keys,
         count(*) filter (where k.atttypid in ('pg_catalog.int8'::regtype, 'pg_catalog.numeric'::regtype,
                                               'pg_catalog.uuid'::regtype)) as bigint_or_uuid_keys,
         (select count(*) from found) as small_integer_keys,
         (select coalesce(round(max(share) * 100, 2), 0)::float8 from found) as largest_share_pct,
         (select count(*) from found where not analyzed) as small_keys_never_analyzed,
         (select count(*) from found where seqid is not null and not read_seq) as sequences_not_read,
         least(%(max_sequences_read)s::int, %(lock_budget)s::int) as read_budget, %(min_rows)s as _min_rows, true as _summary
  from pk1 k
)
-- a reported key's row, or else the 🟢 summary's: each with its own facts (the other's are null)
select coalesce(f._relid::regclass::text, quote_ident(current_database())) as object,
       case when f._relid is null then 'database' else 'table' end as object_type, f.*, s.*,
       -- the small keys' clause only when there are some: never "the 0 ... key(s) have used"
       case when s.small_integer_keys = 0 then '; none is smallint or integer'
            else format('; the %%s smallint/integer %%s used %%s of %%s range and %%s on tables under %%s rows',
                        s.small_integer_keys,
                        case when s.small_integer_keys = 1 then 'key has' else 'keys have' end,
                        -- a rounded 0%% reads as "none": say "less than 1%%"
                        case when s.largest_share_pct < 1 then 'less than 1%%'
                             else format('at most %%s%%%%', s.largest_share_pct) end,
                        case when s.small_integer_keys = 1 then 'its' else 'their' end,
                        case when s.small_integer_keys = 1 then 'sits' else 'sit' end,
                        to_char(s._min_rows, 'FM999,999,999,999')) end as _small_keys,
       case when s.sequences_not_read > 0 then format('; the sequences of %%s keys were NOT READ: over the budget of %%s reads (each read locks its sequence until the check ends), so those keys were judged by their rows only',
                                                     s.sequences_not_read, s.read_budget) else '' end as _not_read
from facts f
full join summary s on false
where f._relid is not null or (s.primary_keys > 0 and not exists (select 1 from facts))
order by 1
