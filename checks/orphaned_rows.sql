/* pgaudit
id = "orphaned_rows"
title = "Child rows whose parent row is missing"
section = "2.3"
format = 2
uses = ["scope_tables", "implied_references"]
severity = "critical"
needs = ["data"]
locks = true
detects = "Rows whose reference points at no parent row, where nothing guarantees it cannot: foreign keys added NOT VALID (existing rows never checked) and implied foreign keys (a column named <table>_id, suffix and plural forms in params, designating an existing table's single-column primary key of the same type family, with no foreign key). Each candidate is confirmed by a bounded probe: the first `sample_rows` rows with the reference set, each looked up in the parent through its key index. Tables the role cannot SELECT, and tables locked by DDL, are skipped."
why = "An orphan is a row that points at nothing: joins silently drop it, reports under-count, cascades never reach it, and the NOT VALID constraint cannot be validated (nor the missing one added) until it is cleaned. Orphans are how 'missing FK constraint' (review 2.1.1: 'Data integrity, orphaned records') turns from a risk into damage."
example = "-- order_items.order_id has no foreign key; a deleted order left its items behind\nselect count(*) from order_items i where not exists (select 1 from orders o where o.id = i.order_id);"
fix = "delete from order_items i where not exists (select 1 from orders o where o.id = i.order_id);  -- after review\nalter table order_items add constraint order_items_order_id_fkey foreign key (order_id) references orders (id) not valid;\nalter table order_items validate constraint order_items_order_id_fkey;"
ignore_when = "The column is not really a reference (a legacy id from another system with a coincidental name), or parent rows are purged on purpose and the children are archived history (then rename the column so it stops looking like a key)."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT"]
ok = "No orphaned rows found in the sampled unvalidated and implied foreign keys"
impact = "Rows reference parents that do not exist: joins drop them and the constraint cannot be validated."
message = "{object}.({_columns_text}): {orphans_in_sample} of the first {sample_limit} rows with a reference set point at no row of {referenced} ({kind}); e.g. {examples}"
remediation = "Review the orphans (the commented SELECT/DELETE/UPDATE), then either delete them, clear the reference where the column is nullable, or restore the parents. Then validate the constraint (or add the missing one NOT VALID and validate it): VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock. The SQL keeps the destructive statements commented on purpose: run them only after review."

[labels]
kind = "Reference"
referenced = "Referenced table"
sample_limit = "Rows sampled (at most)"
orphans_in_sample = "Orphans in the sample"
[params]
sample_rows = 10000  # rows read per candidate (the child scan is cut by LIMIT; each row is one key lookup in the parent)
implied_suffix = "_id"
implied_forms = ["{x}", "{x}s", "{x}es", "{x}ies"]
*/
with tables as (
  select t.oid, t.relname, t.relkind, t.nspname from scope_tables t where not t.relispartition
), pk1 as materialized (   -- staged (materialized) so each step is one hash join, never a loop per pair
  -- only tables a reference names: the key lookups run for those alone
  select t.oid, t.relname::text as relname, t.nspname, c.conkey[1] as att, pa.atttypid, pt.typcategory
  from tables t join pg_catalog.pg_constraint c on c.conrelid = t.oid and c.contype = 'p'
  cross join lateral (select pa.atttypid from pg_catalog.pg_attribute pa where pa.attrelid = t.oid and pa.attnum = c.conkey[1] offset 0) pa
  join pg_catalog.pg_type pt on pt.oid = pa.atttypid
  where cardinality(c.conkey) = 1 and t.relname::text in (select r.name from implied_references r)
), implied_raw as (
  select r.oid as conrelid, r.attnum as child_att, p.oid as confrelid, p.att as parent_att,
         count(*) over (partition by r.oid, r.attnum, r.nspname = p.nspname) as n_targets
  from implied_references r join pk1 p on p.relname = r.name
  where not (p.oid = r.oid and p.att = r.attnum)
    -- same type family, so the lookup can use the parent's key index
    and (r.atttypid = p.atttypid or (r.typcategory = p.typcategory and r.typcategory in ('N', 'S')))
), candidates as (
  select c.conrelid, c.confrelid, c.conkey, c.confkey, c.conname, 'foreign key added NOT VALID' as kind
  from pg_catalog.pg_constraint c join tables t on t.oid = c.conrelid
  where c.contype = 'f' and c.conparentid = 0 and not c.convalidated
  union all
  select distinct on (i.conrelid, i.child_att) i.conrelid, i.confrelid, array[i.child_att], array[i.parent_att], null, 'implied foreign key, none declared'
  from implied_raw i where i.n_targets = 1
  order by 1, 2, 3, 4, 5, 6
), shaped as (
  select c.*, t.relkind,
         array(select a.attname::text from unnest(c.conkey) with ordinality k(attnum, ord)
               join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.ord) as cols,
         array(select a.attname::text from unnest(c.confkey) with ordinality k(attnum, ord)
               join pg_catalog.pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.ord) as pcols,
         (select bool_and(not a.attnotnull) from pg_catalog.pg_attribute a where a.attrelid = c.conrelid and a.attnum = any(c.conkey)) as nullable
  from candidates c join pg_catalog.pg_class t on t.oid = c.conrelid
  where c.conrelid <> all(%(locked)s::oid[]) and c.confrelid <> all(%(locked)s::oid[])
    and has_table_privilege(c.conrelid, 'SELECT') and has_table_privilege(c.confrelid, 'SELECT')
), sql as (
  select s.*, l.*, coalesce(s.conname, left(format('%%s_%%s_fkey', (select relname from pg_catalog.pg_class where oid = s.conrelid),
                                                   array_to_string(s.cols, '_')), 63)) as fk_name
  from shaped s cross join lateral (
    select string_agg(format('c.%%I', x), ', ' order by o) as c_list, string_agg(format('s.%%I', x), ', ' order by o) as s_list,
           string_agg(format('c.%%I is not null', x), ' and ' order by o) as c_set, string_agg(format('%%I = null', x), ', ' order by o) as c_null,
           string_agg(format('p.%%I = c.%%I', y, x), ' and ' order by o) as c_match, string_agg(format('p.%%I = s.%%I', y, x), ' and ' order by o) as s_match,
           string_agg(quote_ident(x), ', ' order by o) as c_cols, string_agg(quote_ident(y), ', ' order by o) as p_cols
    from unnest(s.cols, s.pcols) with ordinality u(x, y, o)) l
)
select q.conrelid::regclass::text as object, 'table' as object_type, q.cols as columns, q.kind, quote_ident(q.conname) as constraint,
       q.confrelid::regclass::text as referenced, q.pcols as referenced_columns, array_to_string(q.cols, ', ') as _columns_text,
       %(sample_rows)s::int as sample_limit,
       -- measured by the probe, which replaces them
       null::bigint as orphans_in_sample, null::jsonb as examples,
       format($p$select count(*) > 0 as fires,
       jsonb_build_object('orphans_in_sample', count(*),
                          'examples', coalesce(to_jsonb((array_agg(to_jsonb(s) order by %%3$s))[1:5]), '[]')) as evidence
from (select %%4$s from %%1$s c where %%5$s limit %%6$s) s
where not exists (select 1 from %%2$s p where %%7$s)$p$,
              q.conrelid::regclass, q.confrelid::regclass, q.s_list, q.c_list, q.c_set, %(sample_rows)s::int, q.s_match) as probe,
       -- a newline in a name would end the comment: every line break continues it with '-- '
       '-- ' || regexp_replace(concat_ws(E'\n', 'review the orphans first (destructive statements are commented on purpose):',
         format('select %%1$s from %%2$s c where %%3$s and not exists (select 1 from %%4$s p where %%5$s);', q.c_list, q.conrelid::regclass, q.c_set, q.confrelid::regclass, q.c_match),
         format('delete from %%s c where %%s and not exists (select 1 from %%s p where %%s);', q.conrelid::regclass, q.c_set, q.confrelid::regclass, q.c_match),
         case when q.nullable then format('update %%s c set %%s where %%s and not exists (select 1 from %%s p where %%s);',
                                          q.conrelid::regclass, q.c_null, q.c_set, q.confrelid::regclass, q.c_match) end),
         E'[\\r\\n]+', E'\\&-- ', 'g') || E'\n'
       || case when q.conname is not null then format('alter table %%s validate constraint %%I;', q.conrelid::regclass, q.conname)
               when q.relkind = 'p' and %(server_version_num)s < 180000
               then format('alter table %%s add constraint %%I foreign key (%%s) references %%s (%%s);',
                           q.conrelid::regclass, q.fk_name, q.c_cols, q.confrelid::regclass, q.p_cols)
               else format(E'alter table %%s add constraint %%I foreign key (%%s) references %%s (%%s) not valid;\nalter table %%s validate constraint %%I;',
                           q.conrelid::regclass, q.fk_name, q.c_cols, q.confrelid::regclass, q.p_cols, q.conrelid::regclass, q.fk_name) end as remediation
from sql q
order by q.conname is null, 1, 3
