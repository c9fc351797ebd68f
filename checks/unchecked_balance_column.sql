/* pgaudit
id = "unchecked_balance_column"
title = "Balance or credit columns without a non-negative CHECK"
section = "4.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Numeric columns named like a balance (balance, *_balance, balance_after, balance_cents, credits, *_credits, available_*) with no CHECK constraint (on the table or on the column's domain) bounding them at zero or above. Running or projected figures (ongoing_balance, net_credits: signed_column_pattern) and configuration tables (*_rules, *_settings) are not judged. In a ledger with balance_before and balance_after columns, the delta columns (credits, amount) are signed by design and not judged; such ledgers get a 🟢 line for their audit trail. Section 4.1: the C of ACID, an invariant the database itself enforces."
why = "Application checks like 'if balance >= cost then deduct' race under concurrency: two requests read the same balance and both deduct. A CHECK (balance >= 0) makes the second UPDATE fail inside its transaction instead of silently overdrawing the account."
example = "create table wallets (id bigint primary key, user_id bigint not null, balance numeric(12,2) not null default 0);"
fix = "alter table wallets add constraint wallets_balance_nonnegative check (balance >= 0) not valid;\nalter table wallets validate constraint wallets_balance_nonnegative;"
ignore_when = "Negative balances are a product feature (overdraft, credit lines, postpaid usage): then bound the column by the credit limit instead."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-CHECK-CONSTRAINTS", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT"]
ok = "Balance and credit columns are kept non-negative by CHECK constraints"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  with attrs as materialized (
    select t.relname, a.attname
    from scope_tables t
    join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
    where not t.relispartition
  ), names as (
    -- the column patterns once per distinct name, the table pattern only where one matched
    -- (regexes per column and per table: 600 ms at 50,000 relations; this: 80)
    select d.attname
    from (select distinct attname from attrs offset 0) d  -- offset 0: not pushed into the scan
    cross join lateral (select lower(d.attname) as name) x
    where x.name ~ %(ledger_before_pattern)s or x.name ~ %(ledger_after_pattern)s
       or (x.name ~ %(column_pattern)s and x.name !~ %(signed_column_pattern)s)
  )
  select 1 from attrs a join names n on n.attname = a.attname
  where lower(a.relname) !~ %(exclude_table_pattern)s)'''
not_applicable = "no balance or credit column in scope"
census = '''
exists (select 1 from census_columns c cross join lateral (select lower(c.attname) as name) x
        where x.name ~ %(ledger_before_pattern)s or x.name ~ %(ledger_after_pattern)s
           or (x.name ~ %(column_pattern)s and x.name !~ %(signed_column_pattern)s))'''
impact = "A race or a bug drives a balance below zero and nothing stops it: free credits, overdrawn accounts."
ok_message = "{object}: audit trail with {before}/{after} on every entry"
message = "{object}.{column} ({type}) has no CHECK keeping it non-negative"
remediation = "Add the CHECK as NOT VALID (a brief lock, no scan), then VALIDATE CONSTRAINT in a separate transaction (scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on). Run the two statements separately in production. VALIDATE fails if a negative row already exists: find them first (select ... where col < 0). On a partitioned table the constraint is added at the parent and applies to every partition."

[severity]
default = "warning"
# 🟢 the review's 6.3 observation: a ledger that records the balance before and after
ok = ["ledger"]

[labels]
type = "Column type"
check_constraints_on_table = "CHECK constraints on the table"
before = "Balance before"
after = "Balance after"

[params]
column_pattern = "^((.*[^a-z0-9])?balance([^a-z0-9](after|cents|amount|amount_cents))?|(.*[^a-z0-9])?credits([^a-z0-9]balance)?|credit[^a-z0-9]balance|available[^a-z0-9].*)$"
# running or projected figures that may dip below zero by design (balance minus current usage)
signed_column_pattern = "(^|[^a-z0-9])(ongoing|projected|usage|net|delta|change|adjustment)($|[^a-z0-9])"
ledger_before_pattern = "^balance_?before$"
# configuration tables hold thresholds and targets, not balances
exclude_table_pattern = "(_rules?|_policies|_policy|_settings|_config|_plans?|_templates?)$"
ledger_after_pattern = "^balance_?after$"
*/
with tbl as materialized (
  select c.oid, c.relname, c.relkind
  from scope_tables c
  where not c.relispartition
    -- pg_get_* functions open the table: skip tables locked by DDL (never queue behind it)
    and c.oid <> all(%(locked)s::oid[])
), attrs as materialized (
  select a.attrelid as oid, a.attnum, a.attname, a.atttypid
  from pg_catalog.pg_attribute a
  where a.attrelid in (select t.oid from tbl t) and a.attnum > 0 and not a.attisdropped
), names as materialized (
  -- the name patterns once per distinct column name, not once per column
  select x.attname,
         lower(x.attname) ~ %(ledger_before_pattern)s as before_name,
         lower(x.attname) ~ %(ledger_after_pattern)s as after_name,
         lower(x.attname) ~ %(column_pattern)s and lower(x.attname) !~ %(signed_column_pattern)s as balance_name,
         lower(x.attname) ~ '(^|_)balance($|_)' as balance_word
  from (select distinct a.attname from attrs a) x
), named as materialized (
  -- only the columns a pattern names: balance before/after and balance-like columns
  select t.oid, t.relname, t.relkind, a.attnum, a.attname, a.atttypid,
         coalesce(nullif(ty.typbasetype, 0), ty.oid) as basetype,
         case when ty.typtype = 'd' then ty.oid end as domain_oid,
         lower(a.attname) as lname,
         nm.before_name, nm.after_name, nm.balance_name, nm.balance_word
  from attrs a
  join names nm on nm.attname = a.attname
  join tbl t on t.oid = a.oid
  join pg_catalog.pg_type ty on ty.oid = a.atttypid
  where (nm.before_name or nm.after_name or nm.balance_name)
    -- the table name pattern only for tables with such a column
    and case when nm.before_name or nm.after_name or nm.balance_name
             then lower(t.relname) !~ %(exclude_table_pattern)s end
), ledgers as (
  -- tables with both a balance before and a balance after column: an audit trail
  select c.oid,
         min(c.attname) filter (where c.before_name) as before_col,
         min(c.attname) filter (where c.after_name) as after_col
  from named c
  group by c.oid
  having bool_or(c.before_name) and bool_or(c.after_name)
), cand as (
  select c.oid, c.relname, c.relkind, c.attnum, c.attname, c.atttypid, c.basetype, c.domain_oid, c.lname
  from named c
  where c.balance_name
    and not c.before_name                -- the after column carries the bound
    and c.basetype in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype,
                       'float4'::regtype, 'float8'::regtype, 'money'::regtype)
    -- in a before/after ledger, credits and amounts are signed deltas
    and not (c.oid in (select oid from ledgers) and not c.after_name
             and not c.balance_word)
), judged as (
  select c.*,
         exists (
           select 1 from pg_catalog.pg_constraint k
           where k.conrelid = c.oid and k.contype = 'c' and c.attnum = any(k.conkey)
             and pg_catalog.pg_get_constraintdef(k.oid) ~* ('(\m' || regexp_replace(c.attname, '([^a-zA-Z0-9_])', '\\\1', 'g')
                   || '\M"?\)?\s*>=?\s*\(?-?\s*[0-9.]+|[0-9.]+\)?\s*<=?\s*\(?"?' || regexp_replace(c.attname, '([^a-zA-Z0-9_])', '\\\1', 'g') || '\M)'))
         or exists (
           select 1 from pg_catalog.pg_constraint k
           where k.contypid = c.domain_oid and k.contype = 'c'
             and pg_catalog.pg_get_constraintdef(k.oid) ~* '(VALUE\s*>=?\s*\(?\s*[0-9.]+|[0-9.]+\)?\s*<=?\s*VALUE)') as bounded
  from cand c
)
select j.oid::regclass::text as object, 'column' as object_type,
       array[j.attname::text] as columns,
       j.attname::text as column, pg_catalog.format_type(j.atttypid, null) as type,
       j.relkind = 'p' as partitioned,
       (select count(*) from pg_catalog.pg_constraint k
        where k.conrelid = j.oid and k.contype = 'c') as check_constraints_on_table,
       false as ledger, null::text as before, null::text as after,
       format('alter table %%s add constraint %%I check (%%I >= 0) not valid;
alter table %%s validate constraint %%I;',
              j.oid::regclass, cn.con_name, j.attname, j.oid::regclass, cn.con_name) as remediation
from judged j
-- byte-bounded stems (whole characters): PostgreSQL truncates names at 63 bytes, and two
-- balance columns of one long-named table would get the same constraint name
cross join lateral (
  select (select left(j.relname, max(k)) from generate_series(0, length(j.relname)) k
          where octet_length(left(j.relname, k)) <= 30) || '_'
         || (select left(j.attname, max(k)) from generate_series(0, length(j.attname)) k
             where octet_length(left(j.attname, k)) <= 20) || '_nonnegative' as con_name) cn
where not j.bounded
union all
select l.oid::regclass::text, 'table', array[l.before_col::text, l.after_col::text],
       null, null, null, null, true, l.before_col, l.after_col, null
from ledgers l
order by 1, 3
