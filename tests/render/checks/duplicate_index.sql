/* pgaudit
id = "duplicate_index"
title = "Duplicate indexes"
section = "3.1"
format = 2
severity = "warning"
needs = ["catalog"]
detects = "Two or more valid indexes on the same table with the same definition: access method, key columns and expressions in the same order, operator classes, collations, sort order and NULLS placement, INCLUDE columns and predicate. A non-unique index identical to a unique one is a duplicate too. Each partitioned index is reported once, at the parent."
why = "Every duplicate is maintained on each INSERT and on every non-HOT UPDATE, takes WAL, disk, shared buffers and vacuum time, and gives the planner nothing it does not already have."
example = "create table orders (id bigint primary key, customer_id bigint);\ncreate index orders_id_idx on orders (id);  -- same as the primary key index"
fix = "drop index concurrently orders_id_idx;"
ignore_when = "Never for a true duplicate; when the two indexes back two different constraints (e.g. a primary key and a unique constraint on the same column), the constraint that foreign keys reference must stay."
references = ["https://www.postgresql.org/docs/current/sql-dropindex.html", "https://www.postgresql.org/docs/current/catalog-pg-index.html", "https://wiki.postgresql.org/wiki/Index_Maintenance#Duplicate_indexes"]
ok = "No duplicate indexes"
impact = "Write amplification and wasted storage and cache for no read benefit."
message = "{index} on {object} duplicates {kept_index}"
remediation = "Drop the duplicate with DROP INDEX CONCURRENTLY (no write lock); keep the index that backs a constraint, else the unique one, else the oldest. A partitioned index cannot be dropped concurrently: plain DROP INDEX takes a brief ACCESS EXCLUSIVE lock on the parent and every partition. Two constraints with the same index: drop the redundant constraint once nothing references it."
*/
with idx as (
  select i.indexrelid, i.indrelid, ic.relam, ic.relkind as idx_kind,
         i.indisunique, i.indisprimary,
         coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) as nulls_not_distinct,
         con.contype,
         -- the whole signature except the name and uniqueness
         concat_ws(' | ', ic.relam::text, i.indnkeyatts::text, i.indkey::text, i.indclass::text,
                   i.indcollation::text, i.indoption::text,
                   coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
                   coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')) as signature
  from pg_catalog.pg_index i
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join pg_catalog.pg_class tc on tc.oid = i.indrelid
  join pg_catalog.pg_namespace nsp on nsp.oid = tc.relnamespace
  left join pg_catalog.pg_constraint con
    on con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p', 'u', 'x')
  where nsp.nspname = any(%(schemas)s::text[])
    and tc.relkind in ('r', 'p', 'm')
    and i.indisvalid and i.indisready and i.indislive
    and not ic.relispartition                    -- partition indexes: reported once at the parent
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = tc.oid and d.deptype = 'e')
), ranked as (
  select x.*,
         count(*) over w as copies,
         row_number() over (w order by (x.contype = 'p') desc nulls last, (x.contype is not null) desc,
                            x.indisunique desc, x.indexrelid) as rank,
         first_value(x.indexrelid) over (w order by (x.contype = 'p') desc nulls last,
                            (x.contype is not null) desc, x.indisunique desc, x.indexrelid) as kept
  from idx x
  window w as (partition by x.indrelid, x.signature)
)
select r.indrelid::regclass::text as object,
       'index' as object_type,
       r.indexrelid::regclass::text as index,
       array(select a.attname::text
             from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where k.ord <= i.indnkeyatts
             order by k.ord) as columns,
       jsonb_build_object(
         'kept_index', r.kept::regclass::text,
         'kept_backs_constraint', k.contype is not null,
         'duplicate_backs_constraint', r.contype is not null,
         'copies', r.copies,
         'definition', pg_catalog.pg_get_indexdef(r.indexrelid),
         'kept_definition', pg_catalog.pg_get_indexdef(r.kept),
         'index_pages', ic.relpages,
         'partitioned', r.idx_kind = 'I') as evidence,
       case
         when r.contype is not null
           then format('%%s on %%s duplicates %%s, but both enforce something: drop the redundant constraint (ALTER TABLE %%s DROP CONSTRAINT %%I) once no foreign key depends on it.',
                       r.indexrelid::regclass, r.indrelid::regclass, r.kept::regclass,
                       r.indrelid::regclass, con.conname)
       end as detail,
       case
         when r.contype is not null then null     -- a constraint: no index-level drop
         when r.idx_kind = 'I' then format('drop index %%s;', r.indexrelid::regclass)
         else format('drop index concurrently %%s;', r.indexrelid::regclass)
       end as remediation
from ranked r
join ranked k on k.indexrelid = r.kept
join pg_catalog.pg_index i on i.indexrelid = r.indexrelid
join pg_catalog.pg_class ic on ic.oid = r.indexrelid
left join pg_catalog.pg_constraint con
  on con.conindid = r.indexrelid and con.conrelid = r.indrelid and con.contype in ('p', 'u', 'x')
where r.copies > 1 and r.rank > 1
  -- a unique index with other NULL semantics (PG15+ NULLS NOT DISTINCT) enforces something else
  and not (r.indisunique and (not k.indisunique or k.nulls_not_distinct <> r.nulls_not_distinct))
order by 1, 3
