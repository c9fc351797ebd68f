/* pgaudit
id = "rls_not_enabled"
title = "Tenant or owner tables without row-level security"
section = "6.2"
format = 2
uses = ["scope_tables"]
severity = "info"
needs = ["catalog"]
raise_when = { multi_tenant = "critical" }
detects = "Tables (partitioned tables once, at the parent) with a tenant column (tenant_id, organization_id, org_id, account_id, workspace_id, team_id, company_id) or an owner column (user_id, owner_id) and row-level security switched off. Tenant columns are reported before owner columns; the column that matched is in the evidence. Info by default; critical when the configuration declares the database multi-tenant."
why = "Without RLS, isolation between tenants (or users) rests entirely on every query of every service remembering its WHERE tenant_id = …; one forgotten filter, an ORM default scope bypassed, or an ad-hoc report leaks other tenants' rows. RLS makes the database enforce the filter for every role that is not the owner (or, with FORCE, for the owner too)."
example = "create table invoices (id bigint primary key, organization_id uuid not null, amount numeric);  -- isolation only in application code"
fix = "create policy tenant_isolation on invoices using (organization_id = current_setting('app.current_tenant_id', true)::uuid); alter table invoices enable row level security; alter table invoices force row level security;"
ignore_when = "The database serves a single tenant, or tenants are isolated by database/schema per tenant, or every access goes through a service layer whose tenant scoping is tested; user_id columns on tables that are not private to the user (public posts, shared documents)."
references = [
  "https://www.postgresql.org/docs/current/ddl-rowsecurity.html",
  "https://www.postgresql.org/docs/current/sql-createpolicy.html",
  "https://www.postgresql.org/docs/current/sql-altertable.html",
]
ok = "Every table with a tenant or owner column has row-level security enabled"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  select 1 from (select distinct a.attname
                 from scope_tables t
                 join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
                 where not t.relispartition
                 offset 0) d  -- offset 0: the patterns once per distinct name, not per column
  cross join lateral (select lower(regexp_replace(d.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) as norm) x
  where x.norm ~ %(tenant_column_pattern)s or x.norm ~ %(owner_column_pattern)s)'''
not_applicable = "no table in scope has a tenant or owner column"
census = '''
exists (select 1 from census_columns c
        cross join lateral (select lower(regexp_replace(c.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) as norm) x
        where x.norm ~ %(tenant_column_pattern)s or x.norm ~ %(owner_column_pattern)s)'''
impact = "Tenant isolation depends on every query remembering its tenant filter; one omission leaks other tenants' rows."
message = "{object} has {kind} column {_column} but row-level security is off: isolation rests on every query filtering by it"
remediation = "Create a policy first, then enable and force RLS; the application must set the tenant (SET app.current_tenant_id = …, per transaction) and connect as a role that is not a superuser and has no BYPASSRLS. The SQL enables RLS after a commented policy sketch: without a policy, enabling RLS denies every row to every non-owner role (and, with FORCE, to the owner), so adapt and run the policy first."

[labels]
kind = "Column kind"
matched_columns = "Tenant or owner columns"

[params]
# normalized column names (camelCase -> snake_case)
tenant_column_pattern = '^(tenant|organization|organisation|org|account|workspace|team|company|customer_account|realm)_id$'
owner_column_pattern = '^(user|owner)_id$'
*/
with cols as materialized (
  select c.oid, a.attnum, a.attname, a.atttypid, a.atttypmod
  from scope_tables c
  join pg_catalog.pg_class cl on cl.oid = c.oid
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where not c.relispartition
    and not cl.relrowsecurity
), names as materialized (
  -- the name patterns once per distinct column name
  select x.attname, x.norm ~ %(tenant_column_pattern)s as tenant, x.norm ~ %(owner_column_pattern)s as owner
  from (select d.attname, lower(regexp_replace(d.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) as norm
        from (select distinct attname from cols) d) x
), hits as (
  select cols.*,
         case when nm.tenant then 'tenant' else 'owner' end as kind,
         row_number() over (partition by cols.oid
                            order by nm.tenant desc, cols.attnum) as rn,
         -- every matching column of the table, in one pass (not a re-scan of hits per table)
         array_agg(cols.attname::text) over (partition by cols.oid order by cols.attnum
                                             rows between unbounded preceding
                                                      and unbounded following) as all_cols
  from cols
  join names nm on nm.attname = cols.attname
  where nm.tenant or nm.owner
), best as (
  select h.*,
         pg_catalog.format_type(h.atttypid, h.atttypmod) as coltype,
         case h.kind when 'tenant' then 'app.current_tenant_id' else 'app.current_user_id' end as setting
  from hits h where rn = 1
)
select b.oid::regclass::text as object,
       'table' as object_type,
       array[b.attname::text] as columns,
       b.kind,
       quote_ident(b.attname) as _column,
       b.all_cols as matched_columns,
       format('-- 1. adapt and create a policy first (without one, RLS denies every row), e.g.:
-- create policy %%s on %%s
--   using (%%I = current_setting(%%L, true)::%%s)
--   with check (%%I = current_setting(%%L, true)::%%s);
-- 2. then switch RLS on (FORCE makes the table owner obey the policies too):
alter table %%s enable row level security;
alter table %%s force row level security;',
              -- names in the commented lines: a newline in a name would end the comment
              quote_ident(b.kind || '_isolation'),
              regexp_replace(b.oid::regclass::text, E'[\\r\\n]+', E'\\&-- ', 'g'),
              b.attname, b.setting, regexp_replace(b.coltype, E'[\\r\\n]+', E'\\&-- ', 'g'),
              b.attname, b.setting, regexp_replace(b.coltype, E'[\\r\\n]+', E'\\&-- ', 'g'),
              b.oid::regclass, b.oid::regclass) as remediation
from best b
order by 1
