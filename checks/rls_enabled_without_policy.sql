/* pgaudit
id = "rls_enabled_without_policy"
title = "Row-level security enabled without an effective policy"
section = "6.2"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Tables (partitioned tables at the parent) with row-level security enabled and (a) no policy at all, or only RESTRICTIVE policies, so no row is visible to any role subject to RLS; or (b) permissive policies but RLS not FORCEd while the table's owner is a login role that is neither superuser nor BYPASSRLS, i.e. most likely the application or migration role, which then bypasses every policy."
why = "(a) With RLS on and no permissive policy the default is deny: every query by a normal role returns nothing and every write fails, while the owner, superusers and BYPASSRLS roles still see everything, so the table looks fine in development and empty in production, or RLS was switched on as a gesture and protects nothing the owner does. (b) Table owners are exempt from RLS unless it is FORCEd; when the application connects as the owner, the policies are decoration."
example = "alter table documents enable row level security;  -- no create policy; the app connects as the owner"
fix = "create policy tenant_isolation on documents using (tenant_id = current_setting('app.current_tenant_id', true)::bigint); alter table documents force row level security;"
ignore_when = "(a) Deny-all is intended: the table is reached only through SECURITY DEFINER functions or by a service role that bypasses RLS (e.g. Supabase tables hidden from the anon/authenticated roles). (b) The owning login role is used only for migrations and the application connects as another role."
references = [
  "https://www.postgresql.org/docs/current/ddl-rowsecurity.html",
  "https://www.postgresql.org/docs/current/sql-createpolicy.html",
  "https://www.postgresql.org/docs/current/sql-altertable.html",
]
ok = "Every table with row-level security has a permissive policy, and is forced where a login role owns it"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_tables t join pg_catalog.pg_class c on c.oid = t.oid
        where c.relrowsecurity and not t.relispartition)'''
not_applicable = "no table in scope has row-level security enabled"
impact = "Either every row is hidden from the application roles, or the owning application role bypasses the policies."
message = "{object} has row-level security enabled ({policies} polic(ies), {permissive_policies} permissive; owner {owner}): {_consequence}"
remediation = "(a) Write the permissive policy the table needs (CREATE POLICY … USING (…) WITH CHECK (…)); restrictive policies only narrow what permissive ones allow. If RLS was switched on by mistake, ALTER TABLE … DISABLE ROW LEVEL SECURITY. (b) ALTER TABLE … FORCE ROW LEVEL SECURITY, or better, have the application connect as a role that does not own the tables."

[labels]
forced = "FORCE ROW LEVEL SECURITY"
owner = "Table owner"
owner_can_login = "Owner can log in"
*/
with tables as (
  select c.oid, cl.relforcerowsecurity, c.relowner,
         count(p.oid) as policies,
         count(p.oid) filter (where p.polpermissive) as permissive
  from scope_tables c
  join pg_catalog.pg_class cl on cl.oid = c.oid
  left join pg_catalog.pg_policy p on p.polrelid = c.oid
  where not c.relispartition
    and cl.relrowsecurity
  group by c.oid, cl.relforcerowsecurity, c.relowner
), judged as (
  select t.*, r.rolname, r.rolcanlogin,
         case when t.policies = 0 then 'no_policy'
              when t.permissive = 0 then 'restrictive_only'
              else 'owner_bypasses' end as problem
  from tables t
  join pg_catalog.pg_roles r on r.oid = t.relowner
  where t.permissive = 0
     or (not t.relforcerowsecurity and r.rolcanlogin and not r.rolsuper and not r.rolbypassrls)
)
select j.oid::regclass::text as object,
       'table' as object_type,
       j.problem,
       j.policies,
       j.permissive as permissive_policies,
       j.relforcerowsecurity as forced,
       j.rolname::text as owner,
       j.rolcanlogin as owner_can_login,
       case j.problem
         when 'no_policy' then
           case when j.relforcerowsecurity
                then 'RLS is forced and no policy exists, so every row is hidden from every role, the owner included, except superusers and BYPASSRLS roles; create a permissive policy, or disable RLS if it was switched on by mistake'
                else 'no policy exists, so every row is hidden from roles subject to RLS, while the owner, superusers and BYPASSRLS roles see everything; create a permissive policy, or disable RLS if it was switched on by mistake' end
         when 'restrictive_only' then 'restrictive policies only narrow permissive ones, so without a permissive policy no row is visible; add a permissive policy'
         else 'RLS is not forced and the owner is a login role (not superuser, no BYPASSRLS): if the application connects as the owner, every policy is bypassed' end as _consequence,
       case when j.problem = 'owner_bypasses'
            then format('alter table %%s force row level security;', j.oid::regclass) end as remediation
from judged j
order by 1
