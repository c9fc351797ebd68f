/* pgaudit
id = "cascade_rules_inventory"
title = "Delete graph: what deleting a parent row removes, nulls or is blocked by"
section = "2.2"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "For every root table (one whose delete propagates: it is referenced by an ON DELETE CASCADE, SET NULL or SET DEFAULT foreign key and is not itself deleted by a cascade from another table), the transitive delete graph: the tables a DELETE removes rows from (with depth and path), the columns it sets to NULL or DEFAULT, and the RESTRICT / NO ACTION foreign keys that make it fail while referencing rows exist. Each relationship is labelled one-to-one (unique foreign key), one-to-many or many-to-many (join table). A summary line counts the rules and relationship kinds."
why = "Cascade rules are a design decision spread over dozens of constraints: nobody sees the whole graph until a DELETE of one customer removes forty thousand rows in six tables, or fails in production on a forgotten RESTRICT. Writing the graph down (the review's 2.2.1 'Document and verify cascade strategy') lets the team check each path is intended."
example = "create table users (id bigint primary key);\ncreate table orders (id bigint primary key, user_id bigint references users on delete cascade);\ncreate table order_items (order_id bigint references orders on delete cascade);"
fix = "-- review the graph; where history must survive, replace the cascade:\nalter table orders drop constraint orders_user_id_fkey, add constraint orders_user_id_fkey foreign key (user_id) references users (id) on delete restrict not valid;"
ignore_when = "Never wrong to read; it is documentation. Waive it once the graph is reviewed and recorded."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-PARMS-REFERENCES"]
ok = "No delete propagates: every foreign key is RESTRICT or NO ACTION"
applies = '''exists (select 1 from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid where c.contype = 'f')'''
not_applicable = "no foreign key in scope"
impact = "Documentation: shows how far one DELETE reaches before anyone runs it."
message = "DELETE on {object} cascades to {n_cascade:plural:table}{_cascade_names}; sets NULL/DEFAULT in {n_set_null:plural:key}; is blocked by {n_blocks:plural:table}"
ok_message = "{_observation}"  # two kinds of 🟢 rows (plain composition at a root, the database's summary): worded in the query
remediation = "Read each path: cascades should follow ownership (a row cannot exist without its parent), SET NULL optional references, RESTRICT anything that must survive (history, payments: see \"ON DELETE CASCADE into audit, ledger or payment tables\", section 2.2). Change an action by re-adding the key NOT VALID and validating it."

[severity]
default = "info"
ok = ["_ok"]  # plain composition roots and the database summary are 🟢 observations
[labels]
n_cascade = "Cascades"
n_set_null = "SET NULL/DEFAULT"
n_blocks = "RESTRICT/NO ACTION"
max_cascade_depth = "Deepest cascade"
n_fk = "Foreign keys"
n_one_to_one = "One-to-one"
n_one_to_many = "One-to-many"
n_join_tables = "Many-to-many join tables"
[params]
max_depth = 10  # how deep to follow cascades (cycles are cut)
detail_limit = 12  # how many tables the sentence names (evidence has them all)
*/
with recursive fk as (
  select c.oid, c.conname, c.conrelid as child, c.confrelid as parent, c.confdeltype as act, c.conkey,
         exists (select 1 from pg_catalog.pg_index i
                 where i.indrelid = c.conrelid and i.indisunique and i.indpred is null and i.indnkeyatts = cardinality(c.conkey)
                   and (i.indkey::int2[])[0:i.indnkeyatts - 1] @> c.conkey and (i.indkey::int2[])[0:i.indnkeyatts - 1] <@ c.conkey) as one_to_one
  from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid  -- where foreign keys live: a smaller hash
  where c.contype = 'f' and c.conparentid = 0
), join_tables as (  -- a primary key made of the columns of two or more foreign keys, grouped once (not per table)
  select t.child
  from (select f.child, count(distinct f.parent) as n_parents, array_agg(k) as keys from fk f cross join lateral unnest(f.conkey) k group by f.child) t
  join pg_catalog.pg_constraint pk on pk.conrelid = t.child and pk.contype = 'p'
  where t.n_parents >= 2 and pk.conkey <@ t.keys
), edge as (
  select fk.*, case when fk.one_to_one then 'one-to-one' when fk.child in (select child from join_tables) then 'many-to-many'
                    else 'one-to-many' end as kind
  from fk
), root as (
  select distinct e.parent as root from edge e
  where e.act in ('c', 'n', 'd') and not exists (select 1 from edge up where up.child = e.parent and up.act = 'c' and up.parent <> e.parent)
), walk as (
  select r.root, r.root as tbl, 0 as depth, array[r.root] as path, null::text as kind, null::name as via, r.root::regclass::text as route from root r
  union all
  select w.root, e.child, w.depth + 1, w.path || e.child, e.kind, e.conname, w.route || ' → ' || e.child::regclass::text
  from walk w join edge e on e.parent = w.tbl and e.act = 'c'
  where e.child <> all(w.path) and w.depth < %(max_depth)s
), reached as (  -- each table once per root, at its shallowest depth
  select distinct on (root, tbl) root, tbl, depth, path, kind, route from walk order by root, tbl, depth, path, via
), per_root as (
  select r.root,  -- column names for the SET NULL / DEFAULT edges reached only (not for every foreign key)
         array_agg(distinct format('%%s.(%%s)', e.child::regclass,
                                   (select string_agg(a.attname, ', ' order by k.ord) from unnest(e.conkey) with ordinality k(attnum, ord)
                                    join pg_catalog.pg_attribute a on a.attrelid = e.child and a.attnum = k.attnum)))
           filter (where e.act in ('n', 'd')) as sets_null_in,
         array_agg(distinct format('%%s (%%s)', e.child::regclass, case e.act when 'r' then 'restrict' else 'no action' end))
           filter (where e.act in ('r', 'a')) as blocked_by,
         bool_or(e.act = 'c' and e.child = e.parent) as self_cascade, max(r.depth) filter (where e.act = 'c') + 1 as max_depth
  from reached r join edge e on e.parent = r.tbl
  -- a NO ACTION reference from a table the same delete empties by cascade blocks nothing
  where not (e.act = 'a' and exists (select 1 from reached x where x.root = r.root and x.tbl = e.child))
  group by r.root
), cascaded as (  -- the tables each root's delete removes rows from, grouped once
  select root, array_agg(format('%%s (%%s%%s)', tbl::regclass, kind, case when depth > 1 then format(', depth %%s: %%s', depth, route) else '' end)
                         order by depth, tbl::regclass::text) as tables
  from reached where depth > 0 group by root
), graph as (
  select p.*, cardinality(c.cascades_to) as n_cascade, c.cascades_to,
         case when cardinality(c.cascades_to) = 0 then ''
              else ': ' || array_to_string(c.cascades_to[1:%(detail_limit)s], '; ')
                   || case when cardinality(c.cascades_to) > %(detail_limit)s
                           then format(' and %%s more', cardinality(c.cascades_to) - %(detail_limit)s) else '' end end as cascade_names,
         -- a one-level delete into its own parts (invoices → invoice_lines), nothing set null or blocking: plain composition, a 🟢 line
         (p.max_depth <= 1 and p.sets_null_in is null and p.blocked_by is null and not p.self_cascade
          and not exists (
            select 1 from edge e join pg_catalog.pg_class pc on pc.oid = e.parent join pg_catalog.pg_class cc on cc.oid = e.child
            where e.parent = p.root and e.act = 'c' and cc.relname not like regexp_replace(pc.relname, '(ies|es|s)$', '') || '%%')) is true
           as composition
  from per_root p left join cascaded cd on cd.root = p.root
  cross join lateral (
    select coalesce(cd.tables, '{}') || case when p.self_cascade then array[format('%%s (self-reference)', p.root::regclass)]
                                             else '{}'::text[] end as cascades_to) c
), summary as (
  select count(*) as n_fk, count(*) filter (where act = 'c') as n_cascade, count(*) filter (where act in ('n', 'd')) as n_set_null,
         count(*) filter (where act in ('r', 'a')) as n_block, count(*) filter (where kind = 'one-to-one') as n_one_one,
         count(*) filter (where kind = 'one-to-many') as n_one_many, count(distinct child) filter (where kind = 'many-to-many') as n_join,
         (array_agg(format('%%s ↔ %%s', child::regclass, parent::regclass) order by child::regclass::text, conname)
            filter (where kind = 'one-to-one'))[1:3] as ex_one_one,
         (array_agg(distinct child::regclass::text) filter (where kind = 'many-to-many'))[1:3] as ex_join
  from edge
)
select g.root::regclass::text as object, 'table' as object_type, g.n_cascade, coalesce(cardinality(g.sets_null_in), 0) as n_set_null,
       coalesce(cardinality(g.blocked_by), 0) as n_blocks, g.max_depth as max_cascade_depth, g.cascades_to,
       coalesce(g.sets_null_in, '{}') as sets_null_in, coalesce(g.blocked_by, '{}') as blocked_by,
       null::bigint as n_fk, null::bigint as n_one_to_one, null::bigint as n_one_to_many, null::bigint as n_join_tables,
       g.cascade_names as _cascade_names,
       case when g.composition then format('DELETE on %%s removes rows in %%s table%%s%%s', g.root::regclass, g.n_cascade, case when g.n_cascade = 1 then '' else 's' end, g.cascade_names) end as _observation,
       g.composition as _ok, null as remediation
from graph g
union all
select quote_ident(current_database()), 'database', s.n_cascade, s.n_set_null, s.n_block, null, null, null, null,
       s.n_fk, s.n_one_one, s.n_one_many, s.n_join, null,
       format('%%s foreign keys: %%s cascade, %%s set null/default, %%s restrict/no action; relationships: %%s one-to-one%%s, %%s one-to-many, %%s many-to-many join table%%s%%s',
              s.n_fk, s.n_cascade, s.n_set_null, s.n_block, s.n_one_one, coalesce(' (' || array_to_string(s.ex_one_one, ', ') || ')', ''),
              s.n_one_many, s.n_join, case when s.n_join = 1 then '' else 's' end, coalesce(' (' || array_to_string(s.ex_join, ', ') || ')', '')), true, null
from summary s where s.n_fk > 0
order by _ok, 1
