/* pgaudit
id = "redundant_index"
title = "Redundant indexes covered by a wider index"
section = "3.1"
format = 2
uses = ["scope_relations"]
severity = "warning"
needs = ["catalog"]
detects = "A non-unique B-tree index whose key columns (or expressions) are a leading prefix of another valid B-tree index on the same table, with the same predicate and the same operator class, collation and sort order on every shared column, and whose INCLUDE columns the wider index also holds. Unique, primary-key and other constraint-backing indexes are never proposed for dropping; each partitioned index is reported once, at the parent."
why = "The wider index answers every query the narrow one answers (a B-tree can be searched on any leading prefix of its keys), so the narrow one only costs write amplification, WAL, vacuum time and cache."
example = "create index orders_customer_idx on orders (customer_id);\ncreate index orders_customer_created_idx on orders (customer_id, created_at);"
fix = "drop index concurrently orders_customer_idx;"
ignore_when = "The narrow index is much smaller and serves a hot, latency-critical lookup or an index-only scan whose working set must stay in memory; or it is the table's CLUSTER index. Check the wider index is not itself about to be dropped."
references = ["https://www.postgresql.org/docs/current/indexes-multicolumn.html", "https://www.postgresql.org/docs/current/sql-dropindex.html"]
ok = "No index is made redundant by a wider one"
impact = "Extra write cost and storage for an index the planner can replace with a wider one."
message = "{index} on {object} ({narrow_columns}) is a prefix of {covering_index} ({covering_columns})"
remediation = "Drop the narrow index with DROP INDEX CONCURRENTLY after checking in pg_stat_statements that its queries run well on the wider index. A partitioned index cannot be dropped concurrently: plain DROP INDEX briefly takes an ACCESS EXCLUSIVE lock on the parent and every partition."

[labels]
narrow_columns = "Key columns"
clustered = "CLUSTER index"
partitioned = "Partitioned index"
*/
with shared as materialized (
  -- valid btree indexes sharing their first key column with another index of the table, by
  -- pg_index and the first operator class alone: the only ones idx below can keep, so the
  -- joins and the constraint lookups run on those
  select s.indexrelid
  from (select i.indexrelid,
               count(*) over (partition by i.indrelid, (i.indkey::int2[])[0]) as sharing
        from pg_catalog.pg_index i
        join pg_catalog.pg_opclass oc on oc.oid = i.indclass[0]
        join pg_catalog.pg_am am on am.oid = oc.opcmethod and am.amname = 'btree'
        where i.indisvalid and i.indisready and i.indislive
          and i.indrelid <> all(%(locked)s::oid[])) s
  where s.sharing > 1
), base as materialized (
  select i.indexrelid, i.indrelid, ic.relkind as idx_kind, i.indisunique, i.indisclustered,
         i.indnkeyatts::int as nkey, i.indnatts::int as natts,
         i.indclass::oid[] as opclass, i.indcollation::oid[] as colls, i.indoption::int2[] as opts,
         i.indkey::int2[] as keys, i.indpred,
         exists (select 1 from pg_catalog.pg_constraint con
                 where con.conindid = i.indexrelid and con.conrelid = i.indrelid
                   and con.contype in ('p', 'u', 'x')) as backs_constraint
  from shared sh
  join pg_catalog.pg_index i on i.indexrelid = sh.indexrelid
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join pg_catalog.pg_am am on am.oid = ic.relam and am.amname = 'btree'
  join scope_relations tc on tc.oid = i.indrelid
  where tc.relkind in ('r', 'p', 'm')
    -- pg_get_indexdef/pg_get_expr open the table: never queue behind DDL on it
    and i.indrelid <> all(%(locked)s::oid[])
    and i.indisvalid and i.indisready and i.indislive
    and not ic.relispartition
), idx as (
  -- deparse only indexes sharing their first key column (or both an expression) with another
  -- index of the table: a pair needs it, and pg_get_indexdef on every index is the cost here
  select b.*,
         coalesce(pg_catalog.pg_get_expr(b.indpred, b.indrelid), '') as pred,
         -- column k as pg_get_indexdef prints it: a column name or an expression
         array(select pg_catalog.pg_get_indexdef(b.indexrelid, k, false)
               from generate_series(1, b.natts) k order by k) as cols
  from base b
  where exists (select 1 from base o
                where o.indrelid = b.indrelid and o.indexrelid <> b.indexrelid and o.keys[0] = b.keys[0])
), pairs as (
  select n.indexrelid, w.indexrelid as wide_oid,
         row_number() over (partition by n.indexrelid
                            order by w.nkey desc, w.natts desc, w.indexrelid) as pick
  from idx n
  join idx w on w.indrelid = n.indrelid and w.indexrelid <> n.indexrelid and w.pred = n.pred
  where not n.indisunique and not n.backs_constraint
    and n.nkey <= w.nkey
    and n.cols[1:n.nkey] = w.cols[1:n.nkey]
    and n.opclass[0:n.nkey - 1] = w.opclass[0:n.nkey - 1]
    and n.colls[0:n.nkey - 1] = w.colls[0:n.nkey - 1]
    and n.opts[0:n.nkey - 1] = w.opts[0:n.nkey - 1]
    -- the narrow index's INCLUDE columns are held somewhere in the wide one
    and coalesce(n.cols[n.nkey + 1:n.natts], '{}') <@ w.cols
    -- same keys: the wide one must add INCLUDE columns (identical ones are duplicate_index)
    and (n.nkey < w.nkey or (w.natts > n.natts and n.cols <@ w.cols))
)
select t.indrelid::regclass::text as object,
       'index' as object_type,
       t.indexrelid::regclass::text as index,
       t.cols[1:t.nkey] as columns,
       w.indexrelid::regclass::text as covering_index,
       array_to_string(t.cols[1:t.nkey], ', ') as narrow_columns,
       array_to_string(w.cols[1:w.nkey], ', ')
         || case when w.natts > w.nkey
                 then ' INCLUDE (' || array_to_string(w.cols[w.nkey + 1:w.natts], ', ') || ')'
                 else '' end as covering_columns,
       nullif(t.pred, '') as predicate,
       pg_catalog.pg_get_indexdef(t.indexrelid) as definition,
       pg_catalog.pg_get_indexdef(w.indexrelid) as covering_definition,
       ic.relpages as index_pages,
       wc.relpages as covering_index_pages,
       t.indisclustered as clustered,
       t.idx_kind = 'I' as partitioned,
       case when t.idx_kind = 'I' then format('drop index %%s;', t.indexrelid::regclass)
            else format('drop index concurrently %%s;', t.indexrelid::regclass)
       end as remediation
from pairs p
join idx t on t.indexrelid = p.indexrelid
join idx w on w.indexrelid = p.wide_oid
join pg_catalog.pg_class ic on ic.oid = t.indexrelid
join pg_catalog.pg_class wc on wc.oid = w.indexrelid
where p.pick = 1
order by 1, 3
