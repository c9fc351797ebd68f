/* pgaudit
id = "cascade_rules_inventory"
title = "Delete graph: what deleting a parent row removes, nulls or is blocked by"
section = "2.2"
severity = "info"
needs = ["catalog"]
detects = "For every root table (one whose delete propagates: it is referenced by an ON DELETE CASCADE, SET NULL or SET DEFAULT foreign key and is not itself deleted by a cascade from another table), the transitive delete graph: the tables a DELETE removes rows from (with depth and path), the columns it sets to NULL or DEFAULT, and the RESTRICT / NO ACTION foreign keys that make it fail while referencing rows exist. Each relationship is labelled one-to-one (unique foreign key), one-to-many or many-to-many (join table). A summary line counts the rules and relationship kinds."
why = "Cascade rules are a design decision spread over dozens of constraints: nobody sees the whole graph until a DELETE of one customer removes forty thousand rows in six tables, or fails in production on a forgotten RESTRICT. Writing the graph down (the review's 2.2.1 'Document and verify cascade strategy') lets the team check each path is intended."
example = "create table users (id bigint primary key);\ncreate table orders (id bigint primary key, user_id bigint references users on delete cascade);\ncreate table order_items (order_id bigint references orders on delete cascade);"
fix = "-- review the graph; where history must survive, replace the cascade:\nalter table orders drop constraint orders_user_id_fkey, add constraint orders_user_id_fkey foreign key (user_id) references users (id) on delete restrict not valid;"
ignore_when = "Never wrong to read; it is documentation. Waive it once the graph is reviewed and recorded."
references = [
  "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
  "https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-PARMS-REFERENCES",
]
ok = "No delete propagates: every foreign key is RESTRICT or NO ACTION"
impact = "Documentation: shows how far one DELETE reaches before anyone runs it."
message = "DELETE on {object} cascades to {n_cascade} table(s), sets NULL in {n_set_null}, is blocked by {n_blocks}"
remediation = "Read each path: cascades should follow ownership (a row cannot exist without its parent), SET NULL optional references, RESTRICT anything that must survive (history, payments: see cascade_deletes_audit_trail). Change an action by re-adding the key NOT VALID and validating it."

[params]
# how deep to follow cascades (cycles are cut)
max_depth = 10
# how many tables each list names in the sentence (evidence has them all)
detail_limit = 12
*/
with recursive fk as (
  select c.oid, c.conname, c.conrelid as child, c.confrelid as parent, c.confdeltype as act, c.conkey,
         exists (select 1 from pg_catalog.pg_index i
                 where i.indrelid = c.conrelid and i.indisunique and i.indpred is null
                   and i.indnkeyatts = cardinality(c.conkey)
                   and (i.indkey::int2[])[0:i.indnkeyatts - 1] @> c.conkey
                   and (i.indkey::int2[])[0:i.indnkeyatts - 1] <@ c.conkey) as one_to_one
  from pg_catalog.pg_constraint c
  join pg_catalog.pg_class t on t.oid = c.conrelid
  join pg_catalog.pg_namespace nsp on nsp.oid = t.relnamespace
  where c.contype = 'f' and c.conparentid = 0
    and t.relkind in ('r', 'p')                  -- where foreign keys live: a smaller hash
    and nsp.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = t.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), join_tables as (          -- a primary key made of the columns of two or more foreign keys
  select t.child            -- grouped once, not a correlated scan of fk per table
  from (select f.child, count(distinct f.parent) as n_parents, array_agg(k) as keys
        from fk f cross join lateral unnest(f.conkey) k
        group by f.child) t
  join pg_catalog.pg_constraint pk on pk.conrelid = t.child and pk.contype = 'p'
  where t.n_parents >= 2
    and pk.conkey <@ t.keys
), edge as (
  select fk.*,
         case when fk.one_to_one then 'one-to-one'
              when fk.child in (select child from join_tables) then 'many-to-many'
              else 'one-to-many' end as kind
  from fk
), root as (
  select distinct e.parent as root
  from edge e
  where e.act in ('c', 'n', 'd')
    and not exists (select 1 from edge up where up.child = e.parent and up.act = 'c' and up.parent <> e.parent)
), walk as (
  select r.root, r.root as tbl, 0 as depth, array[r.root] as path
  from root r
  union all
  select w.root, e.child, w.depth + 1, w.path || e.child
  from walk w
  join edge e on e.parent = w.tbl and e.act = 'c'
  where e.child <> all(w.path) and w.depth < %(max_depth)s
), reached as (             -- each table once per root, at its shallowest depth
  select distinct on (root, tbl) root, tbl, depth, path
  from walk
  order by root, tbl, depth, path
), effects as (
  select r.root, r.depth, e.*,
         -- column names for the edges reached only (not for every foreign key)
         array(select a.attname::text from unnest(e.conkey) with ordinality k(attnum, ord)
               join pg_catalog.pg_attribute a on a.attrelid = e.child and a.attnum = k.attnum
               order by k.ord) as cols,
         array_to_string(array(select p::regclass::text from unnest(r.path || e.child) p), ' → ') as route
  from reached r
  join edge e on e.parent = r.tbl
  -- a NO ACTION reference from a table the same delete empties by cascade blocks nothing
  where not (e.act = 'a' and exists (select 1 from reached x where x.root = r.root and x.tbl = e.child))
), per_root as (
  select root,
         jsonb_agg(jsonb_build_object('table', child::regclass::text, 'depth', depth + 1, 'via', conname,
                                      'path', route, 'relationship', kind)
                   order by depth, child::regclass::text, conname) filter (where act = 'c') as cascades,
         jsonb_agg(jsonb_build_object('table', child::regclass::text, 'columns', to_jsonb(cols),
                                      'action', case act when 'n' then 'set null' else 'set default' end,
                                      'via', conname, 'from', parent::regclass::text)
                   order by child::regclass::text, conname) filter (where act in ('n', 'd')) as sets_null,
         jsonb_agg(jsonb_build_object('table', child::regclass::text, 'via', conname,
                                      'action', case act when 'r' then 'restrict' else 'no action' end,
                                      'from', parent::regclass::text)
                   order by child::regclass::text, conname) filter (where act in ('r', 'a')) as blocks,
         bool_or(act = 'c' and child = parent) as self_cascade,
         array_agg(distinct format('%%s.(%%s)', child::regclass, array_to_string(cols, ', ')))
           filter (where act in ('n', 'd')) as null_txt,
         array_agg(distinct format('%%s (%%s)', child::regclass, case act when 'r' then 'restrict' else 'no action' end))
           filter (where act in ('r', 'a')) as block_txt,
         max(depth) filter (where act = 'c') + 1 as max_depth
  from effects
  group by root
), summary as (
  select count(*) as n_fk,
         count(*) filter (where act = 'c') as n_cascade,
         count(*) filter (where act in ('n', 'd')) as n_set_null,
         count(*) filter (where act in ('r', 'a')) as n_block,
         count(*) filter (where kind = 'one-to-one') as n_one_one,
         count(*) filter (where kind = 'one-to-many') as n_one_many,
         count(distinct child) filter (where kind = 'many-to-many') as n_join,
         (array_agg(format('%%s ↔ %%s', child::regclass, parent::regclass) order by child::regclass::text, conname)
            filter (where kind = 'one-to-one'))[1:3] as ex_one_one,
         (array_agg(distinct child::regclass::text) filter (where kind = 'many-to-many'))[1:3] as ex_join
  from edge
), lim as (
  select %(detail_limit)s::int as n
)
select p.root::regclass::text as object,
       'table' as object_type,
       -- a one-level delete into the parent's own parts (invoices → invoice_lines) that sets
       -- nothing null and is blocked by nothing is plain composition: a 🟢 line, not a review item
       case when p.max_depth <= 1 and p.sets_null is null and p.blocks is null
                 and not p.self_cascade
                 and not exists (
                   select 1 from edge e
                   join pg_catalog.pg_class pc on pc.oid = e.parent
                   join pg_catalog.pg_class cc on cc.oid = e.child
                   where e.parent = p.root and e.act = 'c'
                     and cc.relname not like regexp_replace(pc.relname, '(ies|es|s)$', '') || '%%')
            then 'ok' end as severity,
       jsonb_build_object(
         'n_cascade', coalesce(jsonb_array_length(p.cascades), 0),
         'n_set_null', coalesce(jsonb_array_length(p.sets_null), 0),
         'n_blocks', coalesce(jsonb_array_length(p.blocks), 0),
         'max_cascade_depth', p.max_depth,
         'cascades', coalesce(p.cascades, '[]'),
         'sets_null', coalesce(p.sets_null, '[]'),
         'blocked_by', coalesce(p.blocks, '[]')) as evidence,
       format('DELETE on %%s%%s%%s%%s.',
              p.root::regclass,
              case when cardinality(p.cascade_txt) = 0 then ' removes no other rows'
                   else format(' removes rows in %%s%%s', array_to_string(p.cascade_txt[1:l.n], '; '),
                               case when cardinality(p.cascade_txt) > l.n
                                    then format(' and %%s more', cardinality(p.cascade_txt) - l.n) else '' end) end,
              case when p.null_txt is null then ''
                   else format('; sets NULL/DEFAULT in %%s%%s', array_to_string(p.null_txt[1:l.n], ', '),
                               case when cardinality(p.null_txt) > l.n
                                    then format(' and %%s more', cardinality(p.null_txt) - l.n) else '' end) end,
              case when p.block_txt is null then ''
                   else format('; fails while rows exist in %%s%%s', array_to_string(p.block_txt[1:l.n], ', '),
                               case when cardinality(p.block_txt) > l.n
                                    then format(' and %%s more', cardinality(p.block_txt) - l.n) else '' end) end)
         as detail,
       null as remediation
from (select p.*,
             array(select format('%%s (%%s%%s)', r.tbl::regclass,
                                 (select e.kind from edge e
                                  where e.child = r.tbl and e.parent = r.path[cardinality(r.path) - 1]
                                    and e.act = 'c' order by e.conname limit 1),
                                 case when r.depth > 1
                                      then format(', depth %%s: %%s', r.depth,
                                                  array_to_string(array(select x::regclass::text from unnest(r.path) x), ' → '))
                                      else '' end)
                   from reached r where r.root = p.root and r.depth > 0
                   order by r.depth, r.tbl::regclass::text)
             || case when p.self_cascade then array[format('%%s (self-reference)', p.root::regclass)]
                     else '{}'::text[] end as cascade_txt
      from per_root p) p
cross join lim l
union all
select quote_ident(current_database()), 'database', 'ok',
       to_jsonb(s) - 'ex_one_one' - 'ex_join',
       format('%%s foreign keys: %%s cascade, %%s set null/default, %%s restrict/no action; relationships: %%s one-to-one%%s, %%s one-to-many, %%s many-to-many join table(s)%%s',
              s.n_fk, s.n_cascade, s.n_set_null, s.n_block,
              s.n_one_one, coalesce(' (' || array_to_string(s.ex_one_one, ', ') || ')', ''),
              s.n_one_many, s.n_join, coalesce(' (' || array_to_string(s.ex_join, ', ') || ')', '')),
       null
from summary s
where s.n_fk > 0
order by 3 nulls first, 1
