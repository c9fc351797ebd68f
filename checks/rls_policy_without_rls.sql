/* pgaudit
id = "rls_policy_without_rls"
title = "Row-level security policies on tables without row-level security"
section = "6.2"
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
impact = "The policies are silently not applied: every role with a table privilege sees every tenant's rows."
message = "{object} has {policies} polic(ies) but row-level security is disabled"
remediation = "Enable row-level security on the table (check first that the application sets whatever the policies read, e.g. app.current_tenant_id, or its queries will suddenly return nothing); add FORCE ROW LEVEL SECURITY if the application connects as the table owner."
*/
select c.oid::regclass::text as object,
       'table' as object_type,
       format('%%s has %%s polic%%s (%%s) but row-level security is disabled: the policies are not applied and every role with a table privilege sees every row.',
              c.oid::regclass, count(*), case when count(*) = 1 then 'y' else 'ies' end,
              string_agg(quote_ident(p.polname), ', ' order by p.polname)) as detail,
       jsonb_build_object('policies', count(*),
                          'policy_names', to_jsonb(array_agg(p.polname::text order by p.polname)),
                          'permissive_policies', count(*) filter (where p.polpermissive),
                          'forced', c.relforcerowsecurity) as evidence,
       format('alter table %%s enable row level security;', c.oid::regclass) as remediation
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_policy p on p.polrelid = c.oid
where c.relkind in ('r', 'p')
  and not c.relispartition
  and not c.relrowsecurity
  and n.nspname = any(%(schemas)s::name[])
  and not exists (
    select 1 from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
          and d.refclassid = 'pg_catalog.pg_extension'::regclass)
group by c.oid, c.relforcerowsecurity
order by 1
