/* pgaudit
id = "foreign_key_type_mismatch"
title = "Foreign keys whose column type differs from the referenced key"
section = "2.2"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Declared foreign keys (each once, at the partitioned parent) where a referencing column's type or type modifier differs from the referenced column's: integer → bigint, varchar(50) → text. Columns without a foreign key are missing_foreign_key's (one column, one check). Critical only when the key's values can exceed the referencing column's type: an integer (or smallint) column referencing a wider key whose generator (the owned serial sequence, the identity, or the sequence its default calls) has a MAXVALUE past the column's maximum, or whose current maximum already is past it (the sequence's last value, read within the lock budget, or the upper bound of the key's pg_stats histogram). A warning otherwise: a key fed by an `AS integer` sequence (MAXVALUE 2147483647) always fits an integer column, so the mismatch is a consistency issue; a key with no generator (assigned by the application) is a warning saying what to verify; a wider referencing column, a shorter varchar or types of other categories are warnings too."
why = "The referencing column must hold every value of the key: an integer column pointing at a bigint identity fails with 'integer out of range' the day the parent passes 2^31, usually long after the schema was written. Mismatched types also force casts in joins, confuse ORMs and hide the relationship from tools. A bigint key whose sequence is AS integer cannot pass 2^31 before the sequence itself runs out (sequence_near_exhaustion watches that), so there the mismatch is untidy, not dangerous."
example = "create table orders (id bigint generated always as identity primary key);\ncreate table order_items (order_id integer references orders (id));"
fix = "alter table order_items alter column order_id type bigint;  -- rewrites order_items"
ignore_when = "A legacy column that is being migrated in steps (shadow column, backfill, swap) and is already tracked; a consistency-only mismatch (AS integer sequence) on a table too large to rewrite for tidiness."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES", "https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT", "https://www.postgresql.org/docs/current/sql-createsequence.html"]
ok = "Every foreign key column has exactly the type of the key it references"
impact = "Inserts fail once the parent key outgrows the child column; joins need casts and miss indexes."
message = "{object}.({_columns}) is {child_types} but foreign key {constraint} references {referenced}.({referenced_columns}), {parent_types}: {_consequence}"
remediation = "Make the narrower side match the wider one. Changing an integer to bigint rewrites the table and its indexes under an ACCESS EXCLUSIVE lock: on large tables add a new column, backfill in batches and swap in a short transaction instead. varchar(n) → text and widening varchar(n) are catalog-only changes. When the referenced key is the narrower integer, widen the key (its other referencing columns will then be reported until they follow). A consistency-only mismatch (the key's sequence is AS integer) can wait for the next rewrite of the table."

[severity]
default = "warning"
critical = ["_can_exceed"]  # the key's generator or its current values go past the referencing column's type
[labels]
child_types = "Column types"
parent_types = "Key types"
rewrites = "The fix rewrites a table"
generator = "Key generator"
generator_max = "Generator maximum"
current_max = "Key's current maximum"
current_max_source = "Current maximum read from"
column_max = "Column maximum"
[params]
max_sequences_read = 2000  # a sequence read locks it until the check ends: at most this many (never more than a quarter of max_locks_per_transaction x max_connections)
*/
with att as materialized (
  -- foreign keys, each once (at the partitioned parent); both ends' columns by index lookup (not a hash of pg_attribute)
  select c.oid as con_oid, c.conname, c.conrelid, c.confrelid, k.ord, k.att as child_att, k.fatt as parent_att,
         ca.attname as child_col, ca.atttypid as ca_typid, ca.atttypmod as ca_typmod,
         pa.attname as parent_col, pa.atttypid as pa_typid, pa.atttypmod as pa_typmod,
         (ca.atttypid, ca.atttypmod) <> (pa.atttypid, pa.atttypmod) as differs
  from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid
  cross join lateral unnest(c.conkey, c.confkey) with ordinality k(att, fatt, ord)
  cross join lateral (select a.attname, a.atttypid, a.atttypmod from pg_catalog.pg_attribute a where a.attrelid = c.conrelid and a.attnum = k.att offset 0) ca
  cross join lateral (select a.attname, a.atttypid, a.atttypmod from pg_catalog.pg_attribute a where a.attrelid = c.confrelid and a.attnum = k.fatt offset 0) pa
  where c.contype = 'f' and c.conparentid = 0
), typed as materialized (
  select p.*, pg_catalog.format_type(p.ca_typid, p.ca_typmod) as child_type, pg_catalog.format_type(p.pa_typid, p.pa_typmod) as parent_type,
         ct.typcategory as child_cat, pt.typcategory as parent_cat,
         case p.ca_typid when 'pg_catalog.int2'::regtype then 32767::numeric when 'pg_catalog.int4'::regtype then 2147483647::numeric end as child_max,
         case when not p.differs then 'same'
              when p.ca_typid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) and p.pa_typid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                then case when ct.typlen < pt.typlen then 'narrower' else 'wider' end
              when p.ca_typid in ('varchar'::regtype, 'text'::regtype) and p.pa_typid in ('varchar'::regtype, 'text'::regtype)
                then case when p.ca_typmod <> -1 and (p.pa_typmod = -1 or p.pa_typmod > p.ca_typmod) then 'shorter'
                          else 'wider' end  -- text/varchar vs varchar(n)
              else 'other' end as relation
  from (select x.*, bool_or(x.differs) over (partition by x.con_oid) as any_differs from att x) p  -- keys with a differing column
  cross join lateral (select y.typlen, y.typcategory from pg_catalog.pg_type y where y.oid = p.ca_typid offset 0) ct
  cross join lateral (select y.typlen, y.typcategory from pg_catalog.pg_type y where y.oid = p.pa_typid offset 0) pt
  where p.any_differs
), observed as (
  -- a narrowed integer key's generator: the sequence owned by (serial, deptype a) or internal to (identity, i) the column,
  -- or named by its default; its values today: the sequence's last value (a read locks it until the check ends: at most
  -- max_sequences_read, never over a quarter of the lock table) and the pg_stats histogram's upper bound (null unanalyzed)
  select k.confrelid, k.parent_att, s.seqrelid, s.seqtypid, s.seqmax, s.seqmin, s.identity,
         case when count(s.seqrelid) over (order by k.confrelid, k.parent_att) <= least(%(max_sequences_read)s::int, %(lock_budget)s::int)
               and pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE')
              then pg_catalog.pg_sequence_last_value(s.seqrelid::regclass)::numeric end as last_value,
         (select max(b) from pg_catalog.pg_stats st cross join lateral unnest(st.histogram_bounds::text::numeric[]) b
          where st.schemaname = n.nspname and st.tablename = c.relname and st.attname = a.attname) as stats_max
  from (select distinct confrelid, parent_att from typed where relation = 'narrower') k
  join pg_catalog.pg_class c on c.oid = k.confrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = k.confrelid and a.attnum = k.parent_att
  left join lateral (
    select q.seqrelid, q.seqtypid, q.seqmax, q.seqmin, f.identity
    from (select d.objid as seq, d.deptype = 'i' as identity from pg_catalog.pg_depend d
          where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = k.confrelid
            and d.refobjsubid = k.parent_att and d.classid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i')
          union all
          select d.refobjid, false from pg_catalog.pg_attrdef ad
          join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_attrdef'::regclass and d.objid = ad.oid
           and d.refclassid = 'pg_catalog.pg_class'::regclass
          where ad.adrelid = k.confrelid and ad.adnum = k.parent_att) f
    join pg_catalog.pg_sequence q on q.seqrelid = f.seq
    order by f.identity desc, q.seqrelid limit 1) s on true
), judged as (
  select t.*, o.seqrelid, o.seqtypid, o.seqmax, o.identity, greatest(o.last_value, o.stats_max) as current_max,
         case when o.last_value is not null and o.last_value >= coalesce(o.stats_max, o.last_value) then 'last value of ' || o.seqrelid::regclass::text
              when o.stats_max is not null then 'pg_stats histogram' end as current_max_source,
         -- the key's values can exceed the column: its generator goes past the column's range, or it already holds such values
         t.relation = 'narrower' and (o.seqmax > t.child_max or o.seqmin < -t.child_max - 1
                                      or greatest(o.last_value, o.stats_max) > t.child_max) as can_exceed
  from typed t left join observed o on o.confrelid = t.confrelid and o.parent_att = t.parent_att and t.relation = 'narrower'
), grouped as (
  select con_oid, min(conname) as conname, conrelid, confrelid,
         array_agg(child_col::text order by ord) as columns, array_agg(parent_col::text order by ord) as parent_columns,
         array_agg(child_type order by ord) as child_types, array_agg(parent_type order by ord) as parent_types,
         array_agg(child_col::text order by ord) filter (where differs) as mismatched_columns,
         -- only wider referencing columns: nothing fails today; the lasting fix widens the key
         bool_and(relation in ('same', 'wider')) as widen_parent, coalesce(bool_or(can_exceed), false) as can_exceed,
         bool_or(relation = 'narrower') as narrows, bool_or(relation = 'narrower' and seqrelid is null) as no_generator,
         bool_or(relation = 'shorter') as shorter, max(child_max) filter (where relation = 'narrower') as child_max,
         max(current_max) filter (where relation = 'narrower') as current_max,
         min(current_max_source) filter (where relation = 'narrower') as current_max_source,
         string_agg(case when seqrelid is not null
                         then format('%%s %%s (%%s, max %%s)', case when identity then 'identity sequence' else 'sequence' end,
                                     seqrelid::regclass, seqtypid::regtype, seqmax) end, '; ' order by ord) as generator,
         max(seqmax) filter (where relation = 'narrower') as generator_max,
         -- a serial key's sequence keeps its old type: widen it too
         string_agg((select format(' alter sequence %%s as %%s;', s.seqrelid::regclass, child_type)
                     from pg_catalog.pg_depend d join pg_catalog.pg_sequence s on s.seqrelid = d.objid
                     where d.classid = 'pg_catalog.pg_class'::regclass and d.refobjid = confrelid and d.refobjsubid = parent_att
                       and d.deptype = 'a' and s.seqtypid in ('int2'::regtype, 'int4'::regtype) and relation = 'wider'), '' order by ord) as seq_alters,
         string_agg(format('alter column %%I type %%s', child_col, parent_type), ', ' order by ord) filter (where differs) as child_alters,
         string_agg(format('alter column %%I type %%s', parent_col, child_type), ', ' order by ord) filter (where differs) as parent_alters,
         bool_or(differs and (child_cat <> 'S' or parent_cat <> 'S')) as rewrites
  from judged group by con_oid, conrelid, confrelid
)
select g.conrelid::regclass::text as object, 'table' as object_type, g.columns, g.columns as _columns,
       quote_ident(g.conname) as constraint, g.confrelid::regclass::text as referenced, g.parent_columns as referenced_columns,
       g.child_types, g.parent_types, g.mismatched_columns, g.rewrites, g.generator, g.generator_max::text as generator_max,
       g.current_max::bigint as current_max, g.current_max_source, g.child_max::bigint as column_max,
       case when g.can_exceed and g.current_max > g.child_max
              then format('the key already holds values up to %%s, above the column''s maximum %%s: rows referencing them cannot be inserted', g.current_max, g.child_max)
            when g.can_exceed and g.generator is not null
              then format('the key''s %%s can issue values above the column''s maximum %%s: inserts fail once the key passes it', g.generator, g.child_max)
            when g.narrows and g.no_generator
              then format('the key has no sequence or identity (its values are assigned by the application): verify the application never assigns a key above %%s', g.child_max)
            when g.narrows
              then format('the key''s %%s cannot go past %%s, so every key fits the column: a consistency issue (one type per key), not an overflow risk', g.generator, g.child_max)
            when g.widen_parent then 'the referencing column is wider, so nothing fails today, but the key is the narrower type: widen the key'
            when g.shorter then 'the key''s type allows longer values than the column: verify the longest key fits (a longer key cannot be referenced)'
            else 'joins need casts and cannot use the key''s index' end as _consequence,
       g.can_exceed as _can_exceed, case when t.reltuples >= 0 then t.reltuples::bigint end as estimated_rows,
       case when g.widen_parent then format('alter table %%s %%s;%%s', g.confrelid::regclass, g.parent_alters, coalesce(g.seq_alters, ''))
            else format('alter table %%s %%s;', g.conrelid::regclass, g.child_alters) end as remediation
from grouped g cross join lateral (select c.reltuples from pg_catalog.pg_class c where c.oid = g.conrelid offset 0) t
order by 1, 3
