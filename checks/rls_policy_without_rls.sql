/* pgaudit
id = "rls_policy_without_rls"
title = "Row-level security policies on tables without row-level security"
section = "6.2"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Tables (partitioned tables at the parent) that have CREATE POLICY rows in pg_policy while row-level security is disabled on the table (relrowsecurity = false)."
why = "Policies are only applied when RLS is enabled on the table: the policies look like protection in every schema dump and code review, yet every role with a table privilege reads and writes every row. This usually means a migration created the policies and forgot ENABLE ROW LEVEL SECURITY, or someone disabled RLS to debug and never switched it back."
example = "create policy tenant_isolation on invoices using (tenant_id = current_setting('app.current_tenant_id')::bigint);  -- RLS never enabled"
fix = "alter table invoices enable row level security;"
ignore_when = "RLS is deliberately disabled for a maintenance window or a bulk load and will be re-enabled by the same script."
references = [
  "https://www.postgresql.org/docs/current/ddl-rowsecurity.html",
  "https://www.postgresql.org/docs/current/sql-createpolicy.html",
]
ok = "Every table with policies has row-level security enabled"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_policy p join scope_tables t on t.oid = p.polrelid)'''
not_applicable = "no row-level security policy in scope"
impact = "The policies are silently not applied: every role with a table privilege sees every tenant's rows."
message = "{object} has {policies} polic(ies) ({policy_names}) but row-level security is disabled: the policies are not applied and every role with a table privilege sees every row"
remediation = "Enable row-level security on the table (check first that the application sets whatever the policies read, e.g. app.current_tenant_id, or its queries will suddenly return nothing); add FORCE ROW LEVEL SECURITY if the application connects as the table owner."

[labels]
forced = "FORCE ROW LEVEL SECURITY"
*/
select c.oid::regclass::text as object,
       'table' as object_type,
       count(*) as policies,
       array_agg(p.polname::text order by p.polname) as policy_names,
       count(*) filter (where p.polpermissive) as permissive_policies,
       cl.relforcerowsecurity as forced,
       format('alter table %%s enable row level security;', c.oid::regclass) as remediation
from scope_tables c
join pg_catalog.pg_class cl on cl.oid = c.oid
join pg_catalog.pg_policy p on p.polrelid = c.oid
where not c.relispartition
  and not cl.relrowsecurity
group by c.oid, cl.relforcerowsecurity
order by 1
