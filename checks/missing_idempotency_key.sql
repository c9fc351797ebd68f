/* pgaudit
id = "missing_idempotency_key"
title = "Ledger or request tables without a unique idempotency key"
section = "4.3"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Money ledgers (a name like *transaction*, *payment*, *ledger*, *charge*, *refund* together with an amount/balance/credits/total/price column, or a balance_before/balance_after pair) and request tables (a name ending in order(s), job(s), request(s) with a status/state column) with no UNIQUE constraint or unique index on a column named like an idempotency key (idempotency_key, request_id, external_*, provider_*_id, txn_id, *_reference, dedup*) and no natural unique key made only of foreign-key columns, polymorphic id/type pairs and code/name columns (one row per parent, or a definition row such as a price keyed by (plan_id, code)). A name is only a hint, so a money ledger is critical only when its shape corroborates it: a balance_before/balance_after pair (a running-balance ledger, where a duplicate entry corrupts every later balance), or a column named like the request's identity (provider_refund_id, external_reference) that exists but is not unique (the writer already receives a request key; nothing stops a retry from inserting it twice). A money name and an amount column alone (payments.amount) is a warning saying what to verify: whether API clients, queues or a provider's webhooks retry inserts into the table. Request tables are warnings. A money name alone (payment_providers) or an amount alone (price lists, wallets) does not qualify; line-item and lookup tables (order_items, payment_methods) are not candidates. Patterns are params."
why = "Clients, queues and payment providers retry: a timeout after the commit makes the client send the same request again. Without a unique key carrying the request's identity the retry inserts a second charge, credit or job, and nothing in the database can tell the two apart."
example = "create table credit_transactions (id bigint primary key, user_id bigint not null, amount numeric not null, created_at timestamptz not null);"
fix = "alter table credit_transactions add column idempotency_key text;\ncreate unique index concurrently credit_transactions_idempotency_key_key on credit_transactions (idempotency_key) where idempotency_key is not null;"
ignore_when = "Rows are only ever written by one idempotent process keyed elsewhere (e.g. a unique (account_id, period) natural key already prevents duplicates), or the table is a reporting copy."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-UNIQUE-CONSTRAINTS", "https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT", "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY"]
ok = "Ledger and request tables carry a unique idempotency or request key"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  -- one pass over the table names: a money or request name, then its few tables probed by
  -- index, fenced (offset 0) so that no scan of pg_attribute is hashed; any other table only
  -- for the running-balance pair, at most two columns read through (attrelid, attnum)
  select 1 from scope_tables t
  cross join lateral (select lower(t.relname) as name offset 0) l
  where not t.relispartition
    and case when l.name ~ %(exclude_table_pattern)s then false
             when l.name ~ %(money_table_pattern)s
                  and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = t.oid and a.attnum > 0
                              and not a.attisdropped and lower(a.attname) ~ %(amount_column_pattern)s offset 0)
               then true
             when l.name ~ %(request_table_pattern)s
                  and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = t.oid and a.attnum > 0
                              and not a.attisdropped and lower(a.attname) ~ %(status_column_pattern)s offset 0)
               then true
             else (select count(*) from (select 1 from pg_catalog.pg_attribute a where a.attrelid = t.oid and a.attnum > 0
                                         and not a.attisdropped and lower(a.attname) ~ %(ledger_column_pattern)s
                                         limit 2) x) >= 2 end
  offset 0)'''
not_applicable = "no ledger, payment or request table in scope"
census = '''
exists (select 1 from census_tables t cross join lateral (select lower(t.relname) as name) l
        where l.name !~ %(exclude_table_pattern)s
          and (l.name ~ %(money_table_pattern)s or l.name ~ %(request_table_pattern)s))
or exists (select 1 from census_columns c where lower(c.attname) ~ %(ledger_column_pattern)s)'''
impact = "Retried requests create duplicate transactions, charges or jobs."
message = "{object} looks like a {_kind} table ({matched_by}) but no unique constraint or index covers an idempotency column{_note}"
remediation = "Add a nullable key column (no table rewrite: a brief ACCESS EXCLUSIVE lock only) and a unique partial index built CONCURRENTLY (run it on its own, outside a transaction block); then have writers send the request's key and use INSERT ... ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING. When a key-like column already exists, only the unique index is needed. A partitioned table's unique index must include the partition key and cannot be built concurrently at the parent (no SQL is given)."

[params]
money_table_pattern = "(^|[^a-z0-9])(transactions?|payments?|ledgers?|charges?|refunds?|payouts?|withdrawals?|deposits?)($|[^a-z0-9])"
request_table_pattern = "(^|[^a-z0-9])(orders?|jobs?|requests?)$"
ledger_column_pattern = "^balance_?(before|after)$"
# amount_currency names the amount's currency (an ISO code), not an amount
amount_column_pattern = "^(?!.*currency).*(^|[^a-z0-9])(amount|balance|credits|total|price)($|[^a-z0-9])"
status_column_pattern = "^(status|state)$"
key_column_pattern = "^(idempotency_.*|.*_idempotency_key|request_id|.*_request_id|txn_id|external_.*|.*_external_id|provider_.*_id|.*_reference|reference|dedup.*|.*_dedup_key)$"
exclude_table_pattern = "(_items?|_lines?|_details?|_types?|_statuses|_status|_methods?|_categories|_settings|_config|_templates?|_rules?|_policies|_policy|_plans?|_providers?)$"
# a non-PK unique key over these (with foreign-key columns) marks a definition row, not a ledger entry
natural_key_column_pattern = "^(code|slug|name|key)$"

[labels]
balance_columns = "Running-balance columns"
amount_columns = "Amount columns"
status_column = "Status column"
key_like_columns = "Request-key columns (not unique)"
other_unique_keys = "Other unique keys"
partition_key = "Partition key"
estimated_rows = "Estimated rows"
matched_by = "Why it looks like one"

[severity]
default = "warning"
# a retry duplicates a charge or a credit, and the shape (not the name alone) says it is a
# ledger written with a request's identity: a balance pair, or a key-like column not unique
critical = ["money_ledger and _corroborated"]
*/
with base as materialized (
  select c.oid, c.relname, c.relkind, c.reltuples from scope_tables c where not c.relispartition
), attrs as materialized (
  select a.attrelid as oid, a.attnum, a.attname
  from pg_catalog.pg_attribute a
  where a.attrelid in (select b.oid from base b) and a.attnum > 0 and not a.attisdropped
), names as materialized (
  -- the column name patterns once per distinct name
  select x.attname,
         lower(x.attname) ~ %(ledger_column_pattern)s as ledger,
         lower(x.attname) ~ %(amount_column_pattern)s as amount,
         lower(x.attname) ~ %(status_column_pattern)s as status,
         lower(x.attname) ~ %(key_column_pattern)s as key
  from (select distinct attname from attrs) x
), cols as (
  -- one pass over the columns of the tables in scope
  select a.oid,
         coalesce(array_agg(a.attname::text order by a.attnum) filter (where nm.ledger), '{}') as money_cols,
         coalesce(array_agg(a.attname::text order by a.attnum) filter (where nm.amount), '{}') as amount_cols,
         coalesce(bool_or(nm.status), false) as has_status,
         (array_agg(a.attname::text order by a.attnum) filter (where nm.status))[1] as status_col,
         coalesce(array_agg(a.attname::text order by a.attnum) filter (where nm.key), '{}') as key_cols
  from attrs a
  join names nm on nm.attname = a.attname
  -- tables without such a column cannot qualify below
  where nm.ledger or nm.amount or nm.status or nm.key
  group by a.oid
), tbl as materialized (
  -- the table name patterns only where they can matter: with amount or status columns
  select b.oid, b.relname, b.relkind, b.reltuples,
         case when cardinality(k.amount_cols) > 0
              then lower(b.relname) ~ %(money_table_pattern)s else false end as money_name,
         case when k.has_status
              then lower(b.relname) ~ %(request_table_pattern)s else false end as request_name,
         k.money_cols, k.amount_cols, k.has_status, k.status_col, k.key_cols
  from base b
  join cols k on k.oid = b.oid
), cand as (
  select t.*,
         ((t.money_name and cardinality(t.amount_cols) > 0) or cardinality(t.money_cols) >= 2) as money,
         -- what made it a candidate, in words naming the very columns that did
         case when cardinality(t.money_cols) >= 2
                then 'balance columns ' || array_to_string(t.money_cols, ', ')
              when t.money_name and cardinality(t.amount_cols) > 0
                then 'a ledger or payment name and the amount column'
                     || case when cardinality(t.amount_cols) > 1 then 's ' else ' ' end
                     || array_to_string(t.amount_cols, ', ')
              else 'an order, job or request name and the status column ' || t.status_col end as matched_by
  from tbl t
  -- a money name alone (payment_providers, charge_filters) or an amount alone (price lists,
  -- wallets) is no ledger: both are needed, or a balance before/after pair
  where case when (t.money_name and cardinality(t.amount_cols) > 0) or cardinality(t.money_cols) >= 2
                 or (t.request_name and t.has_status)
             -- the exclusion pattern only for the few tables that qualify
             then lower(t.relname) !~ %(exclude_table_pattern)s end
), fkcols as (
  select f.conrelid, a.attname::text as col
  from pg_catalog.pg_constraint f
  join pg_catalog.pg_attribute a on a.attrelid = f.conrelid and a.attnum = any(f.conkey)
  where f.contype = 'f' and f.conrelid in (select oid from cand)
), uniq as (
  -- non-PK unique indexes (constraints included) over the candidates, key columns only
  select i.indrelid, i.indexrelid,
         array(select a.attname::text
               from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
               join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
               where k.ord <= i.indnkeyatts order by k.ord) as cols,
         coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), '') as exprs
  from pg_catalog.pg_index i
  where i.indisunique and i.indisvalid and not i.indisprimary
    and i.indrelid in (select oid from cand)
), per_table as (
  select u.indrelid,
         bool_or(exists (select 1 from unnest(u.cols) col where lower(col) ~ %(key_column_pattern)s)
                 or exists (select 1 from regexp_split_to_table(lower(u.exprs), '[^a-z0-9_]+') w
                            where w ~ %(key_column_pattern)s)) as has_key,
         -- one row per parent, or a definition row: only foreign-key columns, polymorphic
         -- x_id/x_type pairs and code/name columns (partial indexes count: soft deletes)
         bool_or(u.exprs = '' and cardinality(u.cols) > 0 and not exists (
           select 1 from unnest(u.cols) col
           where not exists (select 1 from fkcols f where f.conrelid = u.indrelid and f.col = col)
             and lower(col) !~ %(natural_key_column_pattern)s
             and not (col ~ '_type$' and regexp_replace(col, '_type$', '_id') = any(u.cols))
             and not (col ~ '_id$' and regexp_replace(col, '_id$', '_type') = any(u.cols)))) as has_natural_key,
         array_agg(array_to_string(u.cols, ', ') order by u.indexrelid) as other_unique_keys
  from uniq u
  group by u.indrelid
)
select j.oid::regclass::text as object, 'table' as object_type,
       case when cardinality(j.key_cols) > 0 then array[j.key_cols[1]] end as columns,
       j.money as money_ledger, case when j.money then 'money' else 'request' end as _kind, j.matched_by,
       j.money and (cardinality(j.money_cols) >= 2 or cardinality(j.key_cols) > 0) as _corroborated,
       case when cardinality(j.key_cols) > 0
              then format(': %%s already carries a request key, and a retry can insert it twice', quote_ident(j.key_cols[1]))
            when j.money and cardinality(j.money_cols) >= 2
              then ': a duplicate entry corrupts every later running balance'
            when j.money
              then ': only its name and amount say so; verify whether API clients, queues or a provider''s webhooks retry inserts into it'
            else '' end as _note,
       -- each fact names the columns it says it names, and only those that made the verdict:
       -- a request table's amount columns (orders.total_cents) played no part
       case when cardinality(j.money_cols) >= 2 then j.money_cols end as balance_columns,
       case when cardinality(j.money_cols) < 2 and j.money then j.amount_cols end as amount_columns,
       case when not j.money then j.status_col end as status_column,
       j.key_cols as key_like_columns, coalesce(p.other_unique_keys, '{}') as other_unique_keys,
       (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
        from pg_catalog.pg_partitioned_table pt
        cross join lateral unnest(pt.partattrs::int2[]) with ordinality k(attnum, ord)
        join pg_catalog.pg_attribute a on a.attrelid = pt.partrelid and a.attnum = k.attnum
        where pt.partrelid = j.oid) as partition_key,
       case when j.reltuples >= 0 then j.reltuples::bigint end as estimated_rows,
       case
         when j.relkind = 'p' then null
         when cardinality(j.key_cols) > 0 then format(
           'create unique index concurrently %%I on %%s (%%I) where %%I is not null;',
           stem.rel || '_' || (select left(j.key_cols[1], max(k)) from generate_series(0, length(j.key_cols[1])) k
                               where octet_length(left(j.key_cols[1], k)) <= 18) || '_key',
           j.oid::regclass, j.key_cols[1], j.key_cols[1])
         else format(
           'alter table %%s add column idempotency_key text;
create unique index concurrently %%I on %%s (idempotency_key) where idempotency_key is not null;',
           j.oid::regclass, stem.rel || '_idempotency_key_key', j.oid::regclass)
       end as remediation
from cand j
left join per_table p on p.indrelid = j.oid
-- byte-bounded stems (whole characters): PostgreSQL truncates names to 63 bytes
cross join lateral (select left(j.relname, max(k)) as rel from generate_series(0, length(j.relname)) k
                    where octet_length(left(j.relname, k)) <= 40) stem
where not coalesce(p.has_key or p.has_natural_key, false)
order by 1
