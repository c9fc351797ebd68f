/* pgaudit
id = "missing_foreign_key"
title = "Columns that reference another table's key without a foreign key"
section = "2.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
locks = true
detects = "Columns named after another table's key (user_id -> users.id, category_id -> categories.id, product_type_id -> product_types.id, customer_id -> customer.customer_id; singular, -s, -es, -ies and a few irregular plurals; camelCase userId too) whose type is in the same family as that key (uuid, int2/int4/int8, text/varchar/char) and which no foreign key constraint (validated or NOT VALID) includes. The referenced table is looked up in the column's own schema first, then in the other audited schemas; the referenced column must be that table's single-column primary key or a single-column unique key named `id` or like the column itself. Actor columns (read_by, approved_by_id, resolved_by: `actor_patterns`, minus `actor_ignore`: the audit stamps created_by/updated_by/deleted_by, which usually stay unconstrained so they outlive the user, and grouped_by or replaced_by) reference the user table (`actor_tables`) when the types match. A name is only a hint, so a finding is critical only when something corroborates it: the same relationship is constrained elsewhere (another table has a real foreign key from a column of the same name to that key; for an actor column, any foreign key into the user table's key), or a bounded probe (the first `sample_rows` non-null values, each looked up through the key's index) finds orphans. Otherwise it is a warning saying what to verify. The probe also measures the share of sampled values present in the candidate parent: below `min_found_share`, and with no foreign key elsewhere to vouch for it, the column is not a reference and is dropped. At most `probed_candidates` columns are probed (uncorroborated ones first, within the lock budget); under --no-data, or on tables the role cannot read, the catalog verdict stands. One column name without its foreign key on `pattern_min_tables` tables or more is ONE finding about a design choice, on the referenced table, listing the tables: critical when other tables do declare that foreign key (the rest are gaps), a warning when none does (deliberate). Values a CHECK constraint singles out in the column (user_id = 0 or ..., user_id <> -1) are sentinels: the fix maps them to NULL before the constraint is validated. A column already in a foreign key is never reported here (a type difference there is foreign_key_type_mismatch's): one column, one check. Name-only inference cannot see references whose name spells neither the target table nor an actor (owner_id, parent_id): review those by hand."
why = "Without the constraint nothing stops a row from pointing at a parent that never existed or was deleted: orphaned rows accumulate silently, joins drop or duplicate data, and ON DELETE rules (CASCADE, SET NULL, RESTRICT) the application relies on never run. ORMs such as TypeORM only create the constraint when the relation is declared, so plain id columns slip through."
example = "create table generated_images (id uuid primary key, user_id uuid);  -- users(id) exists, no constraint"
fix = "alter table generated_images add constraint generated_images_user_id_fkey foreign key (user_id) references users (id) not valid;\nalter table generated_images validate constraint generated_images_user_id_fkey;"
ignore_when = "The column holds an identifier from another system that merely shares a name with a local table (an external/provider id), the reference is intentionally soft (event logs that must outlive their parents, sharded or cross-database data), or the rows live in a different database. A pattern reported as deliberate (no table declares the key) is a design decision: waive it once, with the reason. Name-based inference has blind spots both ways: it cannot see owner_id/parent_id style references, so review those columns by hand."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-altertable.html"]
ok = "Every column named after another table's key is covered by a foreign key"
impact = "Orphaned rows and silent referential corruption; ON DELETE rules never fire."
message = "{_subject} looks like a reference to {referenced}({referenced_column}) but {_gap}{_evidence}{_sentinel_note}"
remediation = "Add the constraint NOT VALID first (takes only a brief SHARE ROW EXCLUSIVE lock on both tables and checks new rows at once), then VALIDATE CONSTRAINT, which scans the table under a lock that does not block reads or writes. VALIDATE fails if orphaned rows already exist: find them first (select ... where col is not null and not exists (select 1 from parent where parent.key = col)) and delete, repair or NULL them. A sentinel value (0 for 'anonymous') has no parent row: map it to NULL first and have the application write NULL, or insert a row with that key into the parent. Choose ON DELETE (RESTRICT, SET NULL, CASCADE) to match the relationship; the default is NO ACTION. Index the column too (see unindexed_foreign_key). For a pattern, decide once: declare the key on every table listed, or document the choice and waive the finding."

[severity]
default = "warning"
# corroborated: the same foreign key declared elsewhere, or orphans in the sampled values
critical = ["same_fk_elsewhere > 0", "orphans_in_sample > 0"]

[labels]
matched_table_name = "Table name matched"
same_schema = "In the column's schema"
other_candidates = "Other candidate tables"
partitions_with_fk = "Partitions with their own foreign key"
same_fk_elsewhere = "Other tables declaring this foreign key"
tables = "Tables without the foreign key"
table_count = "Tables without the foreign key (count)"
sentinel_values = "Sentinel values (CHECK)"
sentinel_check = "CHECK constraint naming them"
sampled_rows = "Values sampled"
orphans_in_sample = "Orphans in the sample"
found_in_parent_pct = "Sampled values found in the parent"
orphan_examples = "Orphan examples"
sentinel_rows_in_sample = "Sentinel values in the sample"

[params]
# regular expressions with one capture group: the stem names the referenced table
column_patterns = ["^(.+)_id$", "^(.*[a-z0-9])Id$"]
# names of the referenced key, besides a key named like the column itself
key_names = ["id"]
# irregular plurals, "singular:plural"
irregular_plurals = ["person:people", "child:children", "man:men", "woman:women", "mouse:mice", "datum:data", "criterion:criteria", "index:indices", "matrix:matrices", "status:statuses", "analysis:analyses"]
# tables never audited by this check (schema.table), e.g. pg_partman's template tables
ignore_tables = "^partman\\.template_"
# actor columns (who read, created or approved the row) reference the user table (actor_tables,
# in order of preference) though their name does not spell it
actor_patterns = ["^[a-z][a-z0-9_]*_by$", "^[a-z][a-z0-9_]*_by_id$", "^[a-z][a-zA-Z0-9]*By$"]
actor_tables = ["users", "user"]
# ... except these: audit stamps (who created or changed the row: kept without a foreign key so
# that they outlive the user, see audit_columns_missing) and names of an ordering or another row
actor_ignore = "^((created|updated|deleted|changed|modified|last_modified|last_updated|inserted|archived)_?by(_?id)?$|(grouped|sorted|ordered|partitioned|indexed|keyed|filtered|replaced|superseded|followed|preceded|caused|triggered|generated|signed|powered|backed|covered)_?by)"
# columns that are never references to a local table, whatever their name
ignore_columns = "^(external|remote|provider|vendor|stripe|paypal|oauth|openid|google|facebook|apple|github|twitter|legacy|old|foreign|third_party|source_system)_"
# one column name without its foreign key on this many tables is one finding (a design choice)
pattern_min_tables = 10
# non-null values read per probed column (the first rows the scan meets, cut by LIMIT)
sample_rows = 1000
# below this share of sampled values found in the candidate parent, the column is no reference
min_found_share = 0.5
# columns probed per audit (keep under the engine's cap of 50 probes per check)
probed_candidates = 40
*/

with recursive family(typ, name) as (
  -- the key type families a reference and its key must share (a domain by its base type)
  values (20::oid, 'integer'), (21, 'integer'), (23, 'integer'), (2950, 'uuid'),
         (25, 'text'), (1043, 'text'), (1042, 'text')
), cand as (
  -- candidate columns: the name matches a pattern, no foreign key includes the column
  select a.*, fam.name as family, a.actor_pattern is not null and a.pattern is null as actor,
         lower(regexp_replace(substring(a.attname from a.pattern),
                              '([a-z0-9])([A-Z])', '\1_\2', 'g')) as stem,
         substring(a.attname from a.pattern) as raw_stem    -- a mixed-case table keeps its case
  from (
    -- the columns of each table by index range scan, the name patterns first (offset 0):
    -- the other tests run on the few columns that match
    select t.oid as relid, t.nspname, t.relname, t.relkind, a.attnum, a.attname, a.atttypid,
           a.attnotnull, p.pattern, p.actor_pattern
    from scope_tables t
    cross join lateral (select a.attnum, a.attname, a.atttypid, a.attnotnull from pg_catalog.pg_attribute a
                        where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
                          -- every pattern as one regular expression (computed once, compiled once)
                          and a.attname ~ (select string_agg('(?:' || x || ')', '|')
                                           from unnest(%(column_patterns)s::text[] || %(actor_patterns)s::text[]) x)
                        offset 0) a
    cross join lateral (
      select (select pat from unnest(%(column_patterns)s::text[]) with ordinality u(pat, ord)
              where a.attname ~ pat order by ord limit 1) as pattern,
             -- actor columns (read_by, created_by): references to the user table
             (select pat from unnest(%(actor_patterns)s::text[]) with ordinality u(pat, ord)
              where a.attname ~ pat and a.attname !~* %(actor_ignore)s::text order by ord limit 1) as actor_pattern) p
    where not t.relispartition                     -- a partitioned table is reported once
      and (p.pattern is not null or p.actor_pattern is not null)
      and format('%%s.%%s', t.nspname, t.relname) !~ %(ignore_tables)s::text
    offset 0
  ) a
  join pg_catalog.pg_type ct on ct.oid = a.atttypid
  join family fam on fam.typ = coalesce(nullif(ct.typbasetype, 0), ct.oid)
  where a.attname !~* %(ignore_columns)s::text
    and not exists (
      select 1 from pg_catalog.pg_constraint f
      where f.conrelid = a.relid and f.contype = 'f' and a.attnum = any(f.conkey))
), tree as (
  -- partitions below a partitioned candidate, via pg_inherits (pg_partition_tree() locks them all)
  select distinct c.relid as root, c.relid from cand c where c.relkind = 'p'
  union all
  select t.root, i.inhrelid from tree t join pg_catalog.pg_inherits i on i.inhparent = t.relid
), leaf_fk as (
  -- per partitioned candidate column: its leaf partitions, and those with their own foreign key on it
  select c.relid, c.attnum, count(*) as leaves,
         count(*) filter (where exists (
           select 1 from pg_catalog.pg_constraint f
           join pg_catalog.pg_attribute pa on pa.attrelid = f.conrelid and pa.attnum = any(f.conkey)
           where f.conrelid = t.relid and f.contype = 'f' and pa.attname = c.attname)) as with_fk
  from cand c
  join tree t on t.root = c.relid
  join pg_catalog.pg_class l on l.oid = t.relid and l.relkind not in ('p', 'I')
  group by c.relid, c.attnum
), forms as materialized (
  -- the table names a stem may stand for, in order of preference; the column's fields travel
  -- along, so nothing below joins back to cand (a re-scan per candidate column)
  select c.*, f.form, f.ord, case when c.relkind = 'p' then format('%%s of %%s',
                             coalesce(lf.with_fk, 0), coalesce(lf.leaves, 0)) end as partitions_with_fk
  from cand c
  left join leaf_fk lf on lf.relid = c.relid and lf.attnum = c.attnum
  cross join lateral (
    select u.t, 10 + u.o from unnest(%(actor_tables)s::text[]) with ordinality u(t, o)
    where c.actor_pattern is not null
    union all
    select * from (
    values (c.stem || 's', 1), (c.stem, 2), (c.stem || 'es', 3),
           (case when c.stem ~ '[^aeiou]y$' then regexp_replace(c.stem, 'y$', 'ies') end, 4),
           (regexp_replace(c.stem, '[^_]*$', '')                 -- irregular plurals
            || (select split_part(ip, ':', 2) from unnest(%(irregular_plurals)s::text[]) ip
                where split_part(ip, ':', 1) = regexp_replace(c.stem, '^.*_', '') limit 1), 5),
           (case when c.raw_stem <> c.stem then c.raw_stem || 's' end, 6),
           (case when c.raw_stem <> c.stem then c.raw_stem end, 7)) v
    where c.pattern is not null
  ) f(form, ord)
  where f.form is not null
    -- a partitioned table whose every partition has its own foreign key on the column is covered
    and not (c.relkind = 'p' and coalesce(lf.leaves, 0) = coalesce(lf.with_fk, 0))
), best as (
  -- the referenced key: a single-column primary key or unique key (constraint or plain unique
  -- index) of the same type family, named like the column or like key_names
  select distinct on (c.relid, c.attnum) c.*, rt.oid as target, ka.attnum as key_att, ka.attname as key_column,
         ka.atttypid as key_type, k.indisprimary, rt.nspname = c.nspname as same_schema,
         count(*) over (partition by c.relid, c.attnum) as candidates
  from forms c
  join scope_tables rt on rt.relname = c.form and not rt.relispartition
  join pg_catalog.pg_index k on k.indrelid = rt.oid and k.indisunique and k.indisvalid
   and k.indnkeyatts = 1 and k.indkey[0] <> 0 and k.indpred is null and k.indexprs is null
  join pg_catalog.pg_attribute ka on ka.attrelid = rt.oid and ka.attnum = k.indkey[0]
  join pg_catalog.pg_type kt on kt.oid = ka.atttypid
  join family kf on kf.typ = coalesce(nullif(kt.typbasetype, 0), kt.oid) and kf.name = c.family
  where rt.oid <> c.relid                        -- a table's own key is not a reference
    and (ka.attname = c.attname or ka.attname = any(%(key_names)s::text[]))
  order by c.relid, c.attnum, same_schema desc, (ka.attname = any(%(key_names)s::text[])) desc,
           k.indisprimary desc, c.ord, rt.nspname
)
, declared as materialized (
  -- the same relationship constrained elsewhere: real foreign keys into the candidates' parent
  -- keys, by the name of the referencing column (each constraint once, at the partitioned parent)
  select f.confrelid, k.fatt, ra.attname, count(*) as tables,
         sum(count(*)) over (partition by f.confrelid, k.fatt) as any_column
  from pg_catalog.pg_constraint f
  cross join lateral unnest(f.conkey, f.confkey) k(att, fatt)
  cross join lateral (select a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = f.conrelid and a.attnum = k.att offset 0) ra
  where f.contype = 'f' and f.conparentid = 0
    and f.confrelid in (select b.target from best b)
  group by 1, 2, 3
), grouped as materialized (
  -- one column name without its foreign key on many tables is one pattern (a design choice)
  -- an actor column never spells its table: the foreign keys into the user table's key from
  -- any column vouch for it
  select b.*, coalesce(case when b.actor then a.any_column else d.tables end, 0) as elsewhere,
         count(*) over (partition by b.attname, b.target) as pattern_size
  from best b
  left join declared d on d.confrelid = b.target and d.fatt = b.key_att and d.attname = b.attname
  left join (select distinct confrelid, fatt, any_column from declared) a
    on a.confrelid = b.target and a.fatt = b.key_att
), sentinel as (
  -- values the column's CHECK constraints single out (user_id = 0 or ..., user_id <> -1,
  -- user_id = any (array[...])): sentinels such as "0 = anonymous" that no parent row has
  select g.relid, g.attnum, array_agg(distinct v.val order by v.val) as vals, min(d.conname) as conname
  from grouped g
  join pg_catalog.pg_constraint con on con.conrelid = g.relid and con.contype = 'c'
   and g.attnum = any(con.conkey)
  cross join lateral (
    select con.conname, pg_catalog.pg_get_constraintdef(con.oid) as def,
           '(?:^|[^\w".])' || regexp_replace(quote_ident(g.attname), '([].^$*+?(){}|\\[])', '\\\1', 'g') as col) d
  cross join lateral (
    select m[1] as lit
    from regexp_matches(d.def, d.col || '\s*(?:=|<>|!=)\s*\(?(''(?:[^'']|'''')*''|-?[0-9]+(?:\.[0-9]+)?)', 'g') m
    union all
    select e
    from regexp_matches(d.def, d.col || '\s*=\s*ANY\s*\(ARRAY\[([^]]*)\]', 'g') m
    cross join lateral regexp_split_to_table(m[1], '\s*,\s*') e
  ) l
  cross join lateral (
    select replace(regexp_replace(regexp_replace(l.lit, '::[a-z][a-z0-9 _]*(\[\])?$', ''),
                                  '^\(?''(.*)''\)?$', '\1'), '''''', '''') as val) v
  group by g.relid, g.attnum
), judged as (
  select g.*, s.vals as sentinels, s.conname as sentinel_check,
         g.pattern_size >= %(pattern_min_tables)s as is_pattern, c.reltuples,
         -- a bounded read of the column's values, for the tables that have rows: plain tables
         -- (reading a partitioned one locks every partition) the role may read, not locked
         %(allow_data)s and g.relkind = 'r' and pt.relkind = 'r'
           and g.pattern_size < %(pattern_min_tables)s
           and not (c.reltuples = 0 and (%(server_version_num)s >= 140000 or c.relpages = 0)
                    and pg_catalog.pg_stat_get_live_tuples(g.relid) = 0
                    and pg_catalog.pg_stat_get_tuples_inserted(g.relid) = 0)
           and g.relid <> all(%(locked)s::oid[]) and g.target <> all(%(locked)s::oid[])
           and pg_catalog.has_table_privilege(g.relid, 'SELECT')
           and pg_catalog.has_table_privilege(g.target, 'SELECT') as can_probe
  from grouped g
  left join sentinel s on s.relid = g.relid and s.attnum = g.attnum
  cross join lateral (select c.reltuples, c.relpages from pg_catalog.pg_class c where c.oid = g.relid offset 0) c
  cross join lateral (select c.relkind from pg_catalog.pg_class c where c.oid = g.target offset 0) pt
), budget as (
  -- each probe locks both tables and their indexes until the check ends: the uncorroborated
  -- candidates first (the probe decides their verdict), the biggest tables first, within
  -- probed_candidates and the lock budget
  select j.*,
         row_number() over w <= %(probed_candidates)s
           and sum(2 + (select count(*) from pg_catalog.pg_index i where i.indrelid = j.relid)
                     + (select count(*) from pg_catalog.pg_index i where i.indrelid = j.target)) over w
               <= %(lock_budget)s::int as probed
  from judged j
  where j.can_probe
  window w as (order by j.elsewhere = 0 desc, j.reltuples desc, j.relid, j.attnum)
), worded as (
  select j.*, coalesce(b.probed, false) as probed, n.fk_name,
         case when j.elsewhere > 0 and j.actor
              then format('; %%s foreign key(s) of the schema reference %%s, its user table, and the column names an actor',
                          j.elsewhere, j.target::regclass)
              when j.elsewhere > 0
              then format('; %%s other table(s) declare this foreign key from a column named %%s, so the relationship is real',
                          j.elsewhere, quote_ident(j.attname)) else '' end as declared_text,
         format(E'alter table %%s add constraint %%I foreign key (%%I) references %%s (%%I)%%s;',
                j.relid::regclass, n.fk_name, j.attname, j.target::regclass, j.key_column,
                -- NOT VALID foreign keys on partitioned tables need PostgreSQL 18
                case when j.relkind = 'p' then '' else ' not valid' end) as add_sql,
         case when j.relkind <> 'p'
              then format('alter table %%s validate constraint %%I;', j.relid::regclass, n.fk_name) end as validate_sql,
         case when j.sentinels is not null
              then concat(E'-- the sentinel values of the CHECK constraint become NULL first: the foreign key cannot be validated while rows hold them, and the application must write NULL from now on (or insert a row with that key into the referenced table instead of this step)\n',
                          case when j.attnotnull
                               then format(E'alter table %%s alter column %%I drop not null;\n', j.relid::regclass, j.attname) end,
                          format(E'update %%s set %%I = null where %%I in (%%s);\n', j.relid::regclass, j.attname, j.attname,
                                 (select string_agg(quote_literal(v), ', ' order by v) from unnest(j.sentinels) v)))
              else '' end as pre_sql
  from judged j
  left join budget b on b.relid = j.relid and b.attnum = j.attnum
  cross join lateral (select j.relname || '_' || j.attname || '_fkey' as base) nb
  cross join lateral (
    select case when octet_length(nb.base) <= 63 then nb.base
                else left(nb.base, case when octet_length(nb.base) = length(nb.base) then 54 else 13 end)
                     || '_' || left(md5(nb.base), 8) end as fk_name) n
), single as (
  select k.relid::regclass::text as object,
         'column' as object_type,
         array[k.attname::text] as columns,
         quote_ident(k.attname) as column, coalesce(k.pattern, k.actor_pattern) as _pattern, k.form as matched_table_name,
         k.target::regclass::text as referenced, quote_ident(k.key_column) as referenced_column,
         case when k.indisprimary then 'primary key' else 'unique key' end as referenced_key,
         k.same_schema, format_type(k.atttypid, null) as type,
         format_type(k.key_type, null) as referenced_type,
         k.candidates - 1 as other_candidates, k.partitions_with_fk,
         k.elsewhere as same_fk_elsewhere,
         null::text[] as tables, null::bigint as table_count,
         k.sentinels as sentinel_values, quote_ident(k.sentinel_check) as sentinel_check,
         -- measured by the probe, which replaces them
         null::bigint as sampled_rows, null::bigint as orphans_in_sample,
         null::float8 as found_in_parent_pct, null::jsonb as orphan_examples, null::bigint as sentinel_rows_in_sample,
         format('%%s.%%s (%%s)', k.relid::regclass, quote_ident(k.attname), format_type(k.atttypid, null)) as _subject,
         'no foreign key covers it' as _gap,
         case when k.elsewhere > 0 then k.declared_text
              else format('; nothing corroborates it (no value sampled, no other table declares it): verify that the column holds keys of %%s before adding the constraint',
                          k.target::regclass) end as _evidence,
         case when k.sentinels is not null
              then format('; %%s in CHECK constraint %%s, so the fix maps %%s to NULL before validating',
                          case when cardinality(k.sentinels) = 1 then array_to_string(k.sentinels, ', ') || ' is a sentinel'
                               else array_to_string(k.sentinels, ', ') || ' are sentinels' end,
                          quote_ident(k.sentinel_check),
                          case when cardinality(k.sentinels) = 1 then 'it' else 'them' end) else '' end as _sentinel_note,
         case when k.probed then format($p$select s.sampled = 0 or s.found >= s.sampled * %%3$s or %%4$s as fires,
       jsonb_build_object('sampled_rows', s.sampled, 'orphans_in_sample', case when s.sampled > 0 then s.sampled - s.found end,
                          'found_in_parent_pct', round(100.0 * s.found / nullif(s.sampled, 0), 1),
                          'orphan_examples', to_jsonb(s.examples[1:5]),
                          'sentinel_rows_in_sample', nullif(s.sentinels, 0),
                          '_evidence', case when s.sampled > s.found then %%5$L
                                            when s.sampled > 0 then %%6$L else %%7$L end) as evidence
from (select count(*) filter (where not x.sentinel) as sampled,
             count(*) filter (where x.found and not x.sentinel) as found,
             count(*) filter (where x.sentinel) as sentinels,
             array_agg(x.v::text order by x.v::text) filter (where not x.found and not x.sentinel) as examples
      from (select c.v, c.v::text = any (%%10$L::text[]) as sentinel,
                   exists (select 1 from %%2$s p where p.%%9$I = c.v) as found
            from (select c.%%8$I as v from %%1$s c where c.%%8$I is not null limit %%11$s) c) x) s$p$,
                   k.relid::regclass, k.target::regclass, %(min_found_share)s::numeric,
                   case when k.elsewhere > 0 then 'true' else 'false' end,
                   format('; sampled rows point at no row of %%s (orphans)%%s: the constraint cannot be validated until they are repaired',
                          k.target::regclass, k.declared_text),
                   case when k.elsewhere > 0 then k.declared_text || format(', and every sampled value exists in %%s', k.target::regclass)
                        else format('; every sampled value exists in %%s, but no other table declares this foreign key: verify the relationship before adding the constraint',
                                    k.target::regclass) end,
                   case when k.elsewhere > 0 then k.declared_text
                        else format('; nothing corroborates it (no value to sample, no other table declares it): verify that the column holds keys of %%s before adding the constraint',
                                    k.target::regclass) end,
                   k.attname, k.key_column, coalesce(k.sentinels, '{}'), %(sample_rows)s::int) end as probe,
         concat(case when k.relkind = 'p'
                     then E'-- partitioned table: the constraint is validated at once (a scan of every partition under SHARE ROW EXCLUSIVE locks)\n' end,
                k.pre_sql, k.add_sql, E'\n' || k.validate_sql) as remediation
  from worded k
  where not k.is_pattern
), patterned as (
  select k.target::regclass::text as object,
         'table' as object_type,
         array[k.attname::text] as columns,
         quote_ident(k.attname) as column, min(coalesce(k.pattern, k.actor_pattern)) as _pattern, min(k.form) as matched_table_name,
         k.target::regclass::text as referenced, quote_ident(k.key_column) as referenced_column,
         case when bool_or(k.indisprimary) then 'primary key' else 'unique key' end as referenced_key,
         null::boolean as same_schema, string_agg(distinct format_type(k.atttypid, null), ', ') as type,
         format_type(min(k.key_type), null) as referenced_type,
         null::bigint as other_candidates, null::text as partitions_with_fk,
         min(k.elsewhere) as same_fk_elsewhere,
         array_agg(k.relid::regclass::text order by k.relid::regclass::text) as tables, count(*) as table_count,
         null::text[] as sentinel_values, null::text as sentinel_check,
         null::bigint as sampled_rows, null::bigint as orphans_in_sample,
         null::float8 as found_in_parent_pct, null::jsonb as orphan_examples, null::bigint as sentinel_rows_in_sample,
         format('%%s on %%s tables', quote_ident(k.attname), count(*)) as _subject,
         format('none of these %%s tables has a foreign key on it', count(*)) as _gap,
         case when min(k.elsewhere) > 0
              then format('; %%s other table(s) declare this foreign key, so these are gaps in one design: add it to every table listed',
                          min(k.elsewhere))
              else '; no table declares it anywhere, so it looks like a deliberate design choice: one decision to document (or to reverse on every table listed), not one defect per table' end as _evidence,
         case when bool_or(k.sentinels is not null)
              then '; some of these tables single out sentinel values in a CHECK constraint: the fix maps them to NULL before validating' else '' end as _sentinel_note,
         null::text as probe,
         concat(string_agg(concat(case when k.relkind = 'p'
                                       then E'-- partitioned table: the constraint is validated at once\n' end,
                                  k.pre_sql, k.add_sql), E'\n' order by k.relid::regclass::text),
                E'\n' || string_agg(k.validate_sql, E'\n' order by k.relid::regclass::text)) as remediation
  from worded k
  where k.is_pattern
  group by k.target, k.attname, k.key_column
)
select * from single
union all
select * from patterned
order by 1, 3
