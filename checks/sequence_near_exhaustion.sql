/* pgaudit
id = "sequence_near_exhaustion"
title = "Sequences or sequence-fed integer columns close to their maximum"
section = "7.1"
format = 2
uses = ["scope_relations"]
needs = ["catalog"]
locks = true
detects = "Sequences whose last value has used more than a share of their range, measured against the tighter of the sequence's own MAXVALUE and the type of every column it feeds (serial, identity and nextval() defaults): an integer column fed by a bigint sequence overflows at 2,147,483,647 whatever the sequence says. Critical over 75 %, warning over 50 % (params). Cycling sequences are skipped (they wrap instead of failing). Sequences the audit role may not read (no SELECT/USAGE: pg_sequences.last_value is NULL) get no verdict and are listed in the facts. Reading a sequence locks it until the check's transaction ends, so the check reads only sequences within max_steps_read increments of their limit (int2/int4 ranges, and any bigint sequence feeding an integer column or with a small MAXVALUE; a plain bigint range needs 17 years at a million values a second to reach half), shortest ranges first and at most max_sequences_read of them (never more than a quarter of the server's lock table); the sequences left unread are counted in the result."
why = "When a sequence reaches its maximum, nextval() raises 'reached maximum value of sequence' and every INSERT into the table fails: a full write outage. When the column is narrower than the sequence, the INSERT fails with 'integer out of range' instead. Widening an integer column rewrites the whole table under an ACCESS EXCLUSIVE lock, which takes hours on a table that has used two billion ids: it must be planned long before the limit."
example = "create table events (id serial primary key, payload jsonb);  -- int4 column, int4 sequence: stops at 2,147,483,647"
fix = "alter table events alter column id type bigint;  -- rewrites the table\nalter sequence events_id_seq as bigint no maxvalue;"
ignore_when = "The sequence deliberately has a small MAXVALUE (a bounded counter) and the application handles its exhaustion, or the table is being retired before the limit."
references = ["https://www.postgresql.org/docs/current/sql-altersequence.html", "https://www.postgresql.org/docs/current/view-pg-sequences.html", "https://www.postgresql.org/docs/current/sql-altertable.html", "https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT"]
ok = "Every sequence and sequence-fed column is below the warning share of its maximum"
applies = '''exists (select 1 from pg_catalog.pg_sequence s join scope_relations c on c.oid = s.seqrelid where not s.seqcycle)'''
not_applicable = "no sequence in scope (cycling sequences never run out)"
impact = "When the limit is hit every INSERT fails: a write outage that needs a table rewrite to fix."
message = "{object}: sequence {sequence} is close to the end of its range, {range_limit} ({_bound})"
ok_message = "{sequences:plural:sequence} read, all below the warning share of their limit{_unread}"
remediation = "Widen before the limit: ALTER TABLE ... ALTER COLUMN ... TYPE bigint rewrites the table (and its indexes) under an ACCESS EXCLUSIVE lock, so on a large table plan a maintenance window or migrate online (add a bigint column, backfill in batches, swap in a short transaction). Widen the referencing foreign-key columns too. ALTER SEQUENCE ... AS bigint is instant. Identity columns follow their column's type."

[severity]
default = "critical"
critical = ["_share > critical_share"]
warning = ["_share > warning_share"]
ok = ["_summary"]
[labels]
range_limit = "Limit (the tighter of the sequence and its column)"
referencing_columns = "Referencing columns to widen too"
not_read_far_from_limit = "Not read: decades from their limit at a million values a second"
not_read_over_lock_budget = "Not read: over the read budget"
[params]
critical_share = 0.75
warning_share = 0.5
max_sequences_read = 2000  # a read locks the sequence until the check ends: shortest ranges first, at most this many (and never more than a quarter of max_locks_per_transaction x max_connections)
max_steps_read = 1125899906842624  # sequences further than this many increments from their limit are not read: 2^50, seventeen years at a million values a second to reach half (bigint ranges; an int column is in reach)
*/
with seqs as (
  select s.seqrelid, s.seqtypid, s.seqmin::numeric as seqmin, s.seqmax::numeric as seqmax,
         s.seqincrement, has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') as readable
  from pg_catalog.pg_sequence s join scope_relations c on c.oid = s.seqrelid
  where not s.seqcycle and s.seqrelid <> all(%(locked)s::oid[])
), unreadable as (
  select count(*) as n, array_agg(v.seqrelid::regclass::text order by v.seqrelid::regclass::text) filter (where v.ord <= 20) as names
  from (select seqrelid, row_number() over (order by seqrelid::regclass::text) as ord from seqs where not readable) v
), fed as (
  -- per sequence, the columns it feeds, looked up through pg_depend's indexes (cost linear in the sequences):
  -- OWNED BY (serial, 'a') and identity ('i') dependencies on a column, and column defaults calling nextval() on it
  select v.*, c.tbl, c.attname, c.attnum, c.atttypid, coalesce(c.is_identity, false) as is_identity, c.colmax,
         case when v.seqincrement > 0 then least(v.seqmax, coalesce(c.colmax, v.seqmax))
              else greatest(v.seqmin, coalesce(-c.colmax - 1, v.seqmin)) end as lim
  from seqs v
  left join lateral (
    select f.tbl, a.attnum, a.attname, a.atttypid, a.attidentity <> '' as is_identity,
           case a.atttypid when 'pg_catalog.int2'::regtype then 32767::numeric when 'pg_catalog.int4'::regtype then 2147483647::numeric
                           when 'pg_catalog.int8'::regtype then 9223372036854775807::numeric end as colmax
    from (select d.refobjid as tbl, d.refobjsubid::int2 as attnum from pg_catalog.pg_depend d
          where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = v.seqrelid
            and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i') and d.refobjsubid > 0
          union
          select ad.adrelid, ad.adnum from pg_catalog.pg_depend d join pg_catalog.pg_attrdef ad on ad.oid = d.objid
          where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = v.seqrelid
            -- "is true" is no index condition: the lookup goes by the sequence (reference index)
            and (d.classid = 'pg_catalog.pg_attrdef'::regclass) is true) f
    join pg_catalog.pg_class t on t.oid = f.tbl join pg_catalog.pg_attribute a on a.attrelid = f.tbl and a.attnum = f.attnum
    -- partitions and inheritance children repeat the parent's default
    where t.relkind in ('r', 'p') and not t.relispartition and a.attinhcount = 0 and not a.attisdropped
  ) c on true
  where v.readable
), ranked as (
  -- increments left to the tightest limit: the shortest ranges are read first; each read locks its sequence until
  -- the check's transaction ends: at most max_sequences_read, and never more than a quarter of the lock table
  select r.*, row_number() over (order by r.steps, r.seqrelid) as rn,
         least(%(max_sequences_read)s::int, %(lock_budget)s::int) as budget
  from (select seqrelid, min(case when seqincrement > 0 then lim - seqmin else seqmax - lim end / abs(seqincrement)) as steps
        from fed group by seqrelid) r
), vals as materialized (
  -- pg_sequence_last_value is what pg_sequences.last_value shows: NULL when never called
  select k.seqrelid, pg_catalog.pg_sequence_last_value(k.seqrelid::regclass)::numeric as last_value
  from (select * from ranked offset 0) k where k.steps <= %(max_steps_read)s::numeric and k.rn <= k.budget
), measured as (
  select f.*, v.last_value,
         case when v.last_value is null then 0
              when f.seqincrement > 0 then (v.last_value - f.seqmin) / nullif(f.lim - f.seqmin, 0)
              else (f.seqmax - v.last_value) / nullif(f.seqmax - f.lim, 0) end as share,
         f.colmax is not null and ((f.seqincrement > 0 and f.colmax < f.seqmax)
                                   or (f.seqincrement < 0 and -f.colmax - 1 > f.seqmin)) as by_column,
         -- the direction it runs out in, and whether the sequence already spans all of bigint that way
         case when f.seqincrement > 0 then 'maxvalue' else 'minvalue' end as bound,
         case when f.seqincrement > 0 then f.seqmax >= 9223372036854775807::numeric
              else f.seqmin <= -9223372036854775808::numeric end as at_int8_end
  from fed f join vals v on v.seqrelid = f.seqrelid
), flagged as (
  select m.* from measured m where m.share > least(%(warning_share)s::numeric, %(critical_share)s::numeric)
), fk_cols as (  -- referencing columns that must be widened with the key (FKs once, at the parent)
  select f.tbl, f.attnum,
         string_agg(format('alter table %%s alter column %%I type bigint;  -- rewrites the table', con.conrelid::regclass, ra.attname),
                    E'\n' order by con.conrelid::regclass::text, ra.attname) as sql,
         array_agg(con.conrelid::regclass::text || '.' || quote_ident(ra.attname) order by con.conrelid::regclass::text, ra.attname) as names
  from (select distinct tbl, attnum from flagged where tbl is not null) f
  join pg_catalog.pg_constraint con on con.contype = 'f' and con.confrelid = f.tbl and con.conparentid = 0
  cross join lateral unnest(con.confkey, con.conkey) k(refnum, colnum)
  join pg_catalog.pg_attribute ra on ra.attrelid = con.conrelid and ra.attnum = k.colnum
  where k.refnum = f.attnum and ra.atttypid in ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
  group by f.tbl, f.attnum
), findings as (
  select coalesce(fl.tbl::regclass::text, fl.seqrelid::regclass::text) as object,
         case when fl.tbl is null then 'sequence' else 'column' end as object_type,
         case when fl.tbl is null then null else array[fl.attname::text] end as columns,
         fl.seqrelid::regclass::text as sequence, fl.seqtypid::regtype::text as sequence_type, fl.last_value::bigint as last_value,
         fl.lim::bigint as range_limit, (case when fl.seqincrement > 0 then fl.seqmax else fl.seqmin end)::bigint as sequence_max,
         fl.atttypid::regtype::text as column_type, fl.is_identity as identity, case when fl.by_column then 'column' else 'sequence' end as limited_by,
         round(100 * fl.share, 2)::float8 as share_pct, abs(fl.lim - coalesce(fl.last_value, fl.seqmin))::bigint as remaining,
         coalesce(fk.names, '{}') as referencing_columns, fl.share::float8 as _share,
         case when fl.by_column then format('the column type %%s; the sequence goes to %%s', fl.atttypid::regtype, fl.seqmax)
              else format('the sequence''s %%s, %%s', upper(fl.bound), fl.seqtypid::regtype) end as _bound,
         nullif(concat_ws(E'\n',
           case when fl.atttypid in ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
                then format('alter table %%s alter column %%I type bigint;  -- rewrites the table under an ACCESS EXCLUSIVE lock',
                            fl.tbl::regclass, fl.attname) end,
           fk.sql,
           case when fl.is_identity then
                  case when fl.atttypid = 'pg_catalog.int8'::regtype and not fl.at_int8_end
                       then format('alter table %%s alter column %%I set no %%s;', fl.tbl::regclass, fl.attname, fl.bound) end
                when fl.seqtypid <> 'pg_catalog.int8'::regtype or not fl.at_int8_end
                then format('alter sequence %%s as bigint no %%s;', fl.seqrelid::regclass, fl.bound) end), '') as remediation
  from flagged fl left join fk_cols fk on fk.tbl = fl.tbl and fk.attnum = fl.attnum
), not_read as (
  select count(*) filter (where k.steps > %(max_steps_read)s::numeric) as far,
         count(*) filter (where k.steps <= %(max_steps_read)s::numeric and k.rn > k.budget) as over_budget,
         least(%(max_sequences_read)s::int, %(lock_budget)s::int) as budget
  from ranked k
)
select f.*, u.names as unreadable_sequences, u.n as unreadable_count, false as _summary,
       null::bigint as sequences, null::text as highest, null::float8 as highest_share_pct, null::bigint as not_read_far_from_limit,
       null::bigint as not_read_over_lock_budget, null::int as read_budget, null::text as _unread, null::text as no_verdict
from findings f cross join unreadable u
union all
-- the 🟢 row, saying what was left unread
select quote_ident(current_database()), 'database', null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
       u.names, u.n, true, (select count(distinct seqrelid) from measured),
       (select coalesce(tbl::regclass::text || '.' || quote_ident(attname), seqrelid::regclass::text) from measured order by share desc, seqrelid limit 1),
       (select round(100 * max(share), 2)::float8 from measured), nr.far, nr.over_budget, nr.budget,
       concat(case when nr.far > 0
                   then format('; %%s sequence%%s more than %%s increments from %%s limit not read (17 years at a million values a second to reach half)',
                               nr.far, case when nr.far = 1 then '' else 's' end, %(max_steps_read)s::numeric,
                               case when nr.far = 1 then 'its' else 'their' end) end,
              case when nr.over_budget > 0
                   then format('; %%s sequence%%s NOT READ: over the budget of %%s reads (each read locks its sequence until the check ends)',
                               nr.over_budget, case when nr.over_budget = 1 then '' else 's' end, nr.budget) end,
              case when u.n > 0 then format('; %%s sequence%%s not readable by the audit role', u.n, case when u.n = 1 then '' else 's' end) end),
       -- no sequence could be read at all: no verdict rather than a vacuous pass
       case when u.n > 0 and not exists (select 1 from seqs where readable)
            then format('the audit role has no SELECT/USAGE on any of the %%s sequences in scope (pg_sequences.last_value is NULL)', u.n) end
from not_read nr cross join unreadable u
where not exists (select 1 from findings) and (exists (select 1 from ranked) or u.n > 0)
order by 1, 3
