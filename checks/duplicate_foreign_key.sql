/* pgaudit
id = "duplicate_foreign_key"
title = "Duplicate or redundant foreign keys"
section = "2.2"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Foreign keys on the same table that reference the same table with the same column pairs (identical, in any pair order), or whose column pairs are contained in another foreign key's to the same table (overlapping) when that wider key is enforced on every row (its extra columns NOT NULL, or MATCH FULL). Partition clones are skipped: each key is compared once, at the parent."
why = "Every foreign key is checked on each insert and update of the child and on each delete or key update of the parent: a duplicate doubles that work and the trigger count for nothing. When the duplicates carry different ON DELETE/ON UPDATE actions, which behaviour wins is not obvious to readers; ORM migrations typically produce these by re-adding a constraint under a new name."
example = "alter table orders add constraint fk_orders_customer foreign key (customer_id) references customers (id);\n-- already present: orders_customer_id_fkey foreign key (customer_id) references customers (id)"
fix = "alter table orders drop constraint fk_orders_customer;"
ignore_when = "Never for identical keys; for overlapping keys, when the narrow key is kept deliberately because the wider key's extra column may become nullable."
references = [
  "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
  "https://www.postgresql.org/docs/current/sql-altertable.html",
]
ok = "No table has two foreign keys enforcing the same reference"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_constraint c join scope_tables t on t.oid = c.conrelid
        where c.contype = 'f')'''
not_applicable = "no foreign key in scope"
impact = "Each write pays for the same referential check twice; conflicting actions on duplicates confuse maintainers."
message = "{object}: foreign key {redundant} ({redundant_definition}) is redundant with {kept} ({kept_definition}): {kind} column pairs; same ON DELETE/ON UPDATE actions and deferrability: {same_actions}"
remediation = "Drop the redundant constraint (ALTER TABLE … DROP CONSTRAINT takes a short ACCESS EXCLUSIVE lock on both tables and does not scan). When the two keys have different actions or deferrability, decide which behaviour is intended first: the SQL is not given then."

[labels]
redundant = "Redundant constraint"
redundant_definition = "Its definition"
kept = "Constraint kept"
kept_definition = "Its definition (kept)"
kind = "Identical or overlapping"
same_actions = "Same actions and deferrability"
*/
with fk as (
  select c.oid, c.conname, c.conrelid, c.confrelid, c.confmatchtype, c.convalidated,
         c.confupdtype, c.confdeltype, c.condeferrable, c.condeferred,
         array(select k.a::text || '>' || k.f::text from unnest(c.conkey, c.confkey) k(a, f)
               order by 1) as pairs,
         c.conkey
  from (
    -- only a foreign key sharing its table and referenced table with another can pair up:
    -- the key arrays and the rest are built for those alone
    select c.*
    from (select c.*, count(*) over (partition by c.conrelid, c.confrelid) as sharing
          from pg_catalog.pg_constraint c
          where c.contype = 'f' and c.conparentid = 0) c
    where c.sharing > 1
  ) c
  join scope_tables t on t.oid = c.conrelid
), pairs as (
  -- r is redundant given k: the same pairs (keep the validated, then the older one), or a
  -- strict subset of k's pairs when k is enforced on every row
  select r.*, k.oid as k_oid, k.conname as k_name,
         r.pairs = k.pairs as identical,
         (r.confupdtype, r.confdeltype, r.condeferrable, r.condeferred)
           is not distinct from (k.confupdtype, k.confdeltype, k.condeferrable, k.condeferred) as same_actions
  from fk r
  join fk k on k.conrelid = r.conrelid and k.confrelid = r.confrelid and k.oid <> r.oid
  where (r.pairs = k.pairs
         and (k.convalidated, r.oid) > (r.convalidated, k.oid))            -- k is the one kept
     or (r.pairs <@ k.pairs and r.pairs <> k.pairs
         and (k.confmatchtype = 'f'
              or not exists (select 1 from pg_catalog.pg_attribute a
                             where a.attrelid = k.conrelid and a.attnum = any(k.conkey)
                               and a.attnum <> all(r.conkey) and not a.attnotnull)))
), one as (                        -- report each redundant key once, against the best keeper
  select distinct on (p.oid) p.*
  from pairs p
  order by p.oid, p.identical desc, p.same_actions desc, p.k_oid
)
select o.conrelid::regclass::text as object,
       'table' as object_type,
       array(select a.attname::text from unnest(o.conkey) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = o.conrelid and a.attnum = k.attnum
             order by k.ord) as columns,
       quote_ident(o.conname) as redundant,
       pg_catalog.pg_get_constraintdef(o.oid) as redundant_definition,
       quote_ident(o.k_name) as kept,
       pg_catalog.pg_get_constraintdef(o.k_oid) as kept_definition,
       case when o.identical then 'identical' else 'overlapping' end as kind,
       o.same_actions,
       case when o.same_actions
            then format('alter table %%s drop constraint %%I;', o.conrelid::regclass, o.conname)
       end as remediation
from one o
order by 1, o.conname
