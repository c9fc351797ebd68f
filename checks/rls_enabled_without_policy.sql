/* pgaudit
id = "rls_enabled_without_policy"
title = "Row-level security enabled without an effective policy"
section = "6.2"
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
impact = "Either every row is hidden from the application roles, or the owning application role bypasses the policies."
message = "{object}: row-level security enabled without an effective policy"
remediation = "(a) Write the permissive policy the table needs (CREATE POLICY … USING (…) WITH CHECK (…)); restrictive policies only narrow what permissive ones allow. If RLS was switched on by mistake, ALTER TABLE … DISABLE ROW LEVEL SECURITY. (b) ALTER TABLE … FORCE ROW LEVEL SECURITY, or better, have the application connect as a role that does not own the tables."
*/
with tables as (
  select c.oid, c.relforcerowsecurity, c.relowner,
         count(p.oid) as policies,
         count(p.oid) filter (where p.polpermissive) as permissive,
         array_agg(p.polname::text order by p.polname) filter (where p.oid is not null) as policy_names
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_policy p on p.polrelid = c.oid
  where c.relkind in ('r', 'p')
    and not c.relispartition
    and c.relrowsecurity
    and n.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
            and d.refclassid = 'pg_catalog.pg_extension'::regclass)
  group by c.oid, c.relforcerowsecurity, c.relowner
)
select t.oid::regclass::text as object,
       'table' as object_type,
       case when t.policies = 0
            then format('%%s has row-level security enabled and no policy: %%s Create a permissive policy, or disable RLS if it was switched on by mistake.',
                        t.oid::regclass,
                        case when t.relforcerowsecurity
                             then format('RLS is forced, so every row is hidden from every role, the owner %%s included, except superusers and BYPASSRLS roles.', quote_ident(r.rolname))
                             else format('every row is hidden from roles subject to RLS, while the owner %%s, superusers and BYPASSRLS roles see everything.', quote_ident(r.rolname))
                        end)
            else format('%%s has row-level security enabled and only RESTRICTIVE policies (%%s): restrictive policies narrow permissive ones, so without a permissive policy no row is visible. Add a permissive policy.',
                        t.oid::regclass, array_to_string(t.policy_names, ', '))
       end as detail,
       jsonb_build_object('problem', case when t.policies = 0 then 'no_policy' else 'restrictive_only' end,
                          'policies', t.policies, 'permissive_policies', t.permissive,
                          'forced', t.relforcerowsecurity, 'owner', r.rolname::text) as evidence,
       null::text as remediation
from tables t
join pg_catalog.pg_roles r on r.oid = t.relowner
where t.permissive = 0
union all
select t.oid::regclass::text, 'table',
       format('%%s has row-level security with %%s permissive polic%%s but not FORCEd, and its owner %%s is a login role (not superuser, no BYPASSRLS): if the application connects as %%s, every policy is bypassed.',
              t.oid::regclass, t.permissive, case when t.permissive = 1 then 'y' else 'ies' end,
              quote_ident(r.rolname), quote_ident(r.rolname)),
       jsonb_build_object('problem', 'owner_bypasses', 'policies', t.policies,
                          'permissive_policies', t.permissive, 'forced', false,
                          'owner', r.rolname::text, 'owner_can_login', true),
       format('alter table %%s force row level security;', t.oid::regclass)
from tables t
join pg_catalog.pg_roles r on r.oid = t.relowner
where t.permissive > 0
  and not t.relforcerowsecurity
  and r.rolcanlogin and not r.rolsuper and not r.rolbypassrls
order by 1
