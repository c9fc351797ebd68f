/* pgaudit
id = "security_definer_view"
title = "Views that bypass the row-level security of their tables"
section = "6.2"
format = 2
uses = ["scope_relations"]
min_server_version = 15
needs = ["catalog"]
detects = "Views (and materialized views) in scope that read a table with row-level security enabled (directly, or through views declared security_invoker, whose reads are checked as this view's owner) while the view's owner bypasses that table's policies: the owner is a superuser or has BYPASSRLS, or owns the table (or has the privileges of its owner) and the table is not FORCE ROW LEVEL SECURITY; and the view is not declared security_invoker. Without security_invoker a view reads its tables with its owner's privileges, and policies are applied as for its owner (PostgreSQL 15 added security_invoker; older servers are skipped). Critical when a role that does not bypass row-level security itself (PUBLIC, or a role without SUPERUSER or BYPASSRLS) may SELECT from the view: that role then reads rows the policies hide from it. Warning otherwise (only the owner or roles that bypass RLS anyway may read the view today)."
why = "Row-level security filters rows by the role the policy sees. A view without security_invoker shows that role its owner, usually the migration role that owns the tables or a superuser, so the policies never apply: whoever may select from the view sees every tenant's rows. Views are the usual way to expose tables to an API role, which makes this the classic hole in Supabase/PostgREST-style setups."
example = "create view public.invoice_summary as select tenant_id, sum(total) from public.invoices group by 1;  -- invoices has RLS; the view is owned by the migration role"
fix = "alter view public.invoice_summary set (security_invoker = on);  -- callers then need SELECT on invoices, and their policies apply"
ignore_when = "The view is deliberately a privileged window (an aggregate that exposes no row, a report for an admin role) and is granted only to roles that may see every row; a materialized view is refreshed for one role only."
references = [
  "https://www.postgresql.org/docs/current/sql-createview.html",
  "https://www.postgresql.org/docs/current/ddl-rowsecurity.html",
  "https://www.postgresql.org/docs/release/15.0/",
]
ok = "No view reads a table with row-level security through an owner who bypasses it"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_relations v where v.relkind in ('v', 'm'))
and exists (select 1 from pg_catalog.pg_class t where t.relrowsecurity and t.relkind in ('r', 'p'))'''
not_applicable = "no view in scope, or no table with row-level security"
impact = "Every role that may select from the view reads rows the table's policies hide from it."
message = "{object} reads {rls_tables} (row-level security enabled) with the privileges of its owner {owner}, who {_bypass}: the policies do not apply to rows read through the view{_readers}"
remediation = "ALTER VIEW … SET (security_invoker = on): the view then reads its tables with the caller's privileges and the caller's policies apply, so the roles that select from it also need SELECT on the tables (and policies that let them see their rows). Otherwise have the view owned by a role that is subject to the policies (not the table owner, no BYPASSRLS), or FORCE ROW LEVEL SECURITY on the table when the owner is its owner. A materialized view has no security_invoker: its rows were read as its owner at refresh; grant it only to roles that may see every row, or replace it with a view."

[severity]
default = "warning"
# a role that does not bypass RLS itself may read the view: a leak, not a latent one
critical = ["exposed_readers > 0"]

[labels]
rls_tables = "Tables with row-level security read"
owner = "View owner"
owner_bypasses = "Owner bypasses the policies because"
readers = "May select from the view"
exposed_readers = "Readers subject to row-level security"
kind = "Kind"
*/
with recursive views as (
  select v.oid, v.relkind, v.relowner
  from scope_relations v
  where v.relkind in ('v', 'm')
    and not coalesce((select o.option_value::boolean
                      from pg_catalog.pg_options_to_table(v.reloptions) o
                      where o.option_name = 'security_invoker'), false)
), reads(view_oid, rel_oid) as (
  -- what the view's rewrite rule references ...
  select v.oid, d.refobjid
  from views v
  join pg_catalog.pg_rewrite rw on rw.ev_class = v.oid
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = rw.oid
   and d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid <> v.oid
  union
  -- ... and, through views whose reads are checked as the caller (security_invoker), theirs
  select r.view_oid, d.refobjid
  from reads r
  join pg_catalog.pg_class c on c.oid = r.rel_oid and c.relkind = 'v'
   and coalesce((select o.option_value::boolean
                 from pg_catalog.pg_options_to_table(c.reloptions) o
                 where o.option_name = 'security_invoker'), false)
  join pg_catalog.pg_rewrite rw on rw.ev_class = c.oid
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = rw.oid
   and d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid <> c.oid
), bypassed as (
  select v.oid, v.relkind, v.relowner, t.oid as table_oid,
         case when o.rolsuper then 'is a superuser'
              when o.rolbypassrls then 'has BYPASSRLS'
              else 'owns the table, which is not FORCE ROW LEVEL SECURITY' end as reason
  from views v
  join (select distinct view_oid, rel_oid from reads) r on r.view_oid = v.oid
  join pg_catalog.pg_class t on t.oid = r.rel_oid and t.relkind in ('r', 'p') and t.relrowsecurity
  join pg_catalog.pg_roles o on o.oid = v.relowner
  where o.rolsuper or o.rolbypassrls
     or (not t.relforcerowsecurity and pg_catalog.pg_has_role(v.relowner, t.relowner, 'USAGE'))
), readers as (
  select b.oid,
         array_agg(case when a.grantee = 0 then 'PUBLIC' else quote_ident(g.rolname) end
                   order by a.grantee <> 0, g.rolname) as readers,
         count(*) filter (where a.grantee = 0 or not (g.rolsuper or g.rolbypassrls)) as exposed
  from (select distinct oid, relowner from bypassed) b
  join pg_catalog.pg_class v on v.oid = b.oid
  cross join lateral aclexplode(coalesce(v.relacl, acldefault('r', v.relowner))) a
  left join pg_catalog.pg_roles g on g.oid = a.grantee
  where a.privilege_type = 'SELECT' and a.grantee <> b.relowner
  group by b.oid
)
select b.oid::regclass::text as object,
       'view' as object_type,
       case b.relkind when 'm' then 'materialized view' else 'view' end as kind,
       array_agg(b.table_oid::regclass::text order by b.table_oid::regclass::text) as rls_tables,
       pg_catalog.pg_get_userbyid(b.relowner)::text as owner,
       string_agg(distinct b.reason, '; ') as owner_bypasses,
       string_agg(distinct b.reason, ' and ') as _bypass,
       r.readers,
       coalesce(r.exposed, 0) as exposed_readers,
       case when r.readers is null then ' (today only its owner may select from it)'
            else format(', and %%s may select from it', array_to_string(r.readers, ', ')) end
         as _readers,
       case when b.relkind = 'v'
            then format(E'alter view %%s set (security_invoker = on);\n-- the roles selecting from the view then need SELECT on its tables, and their own policies apply',
                        b.oid::regclass) end as remediation
from bypassed b
left join readers r on r.oid = b.oid
group by b.oid, b.relkind, b.relowner, r.readers, r.exposed
order by 1
