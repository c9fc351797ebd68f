/* pgaudit
id = "rls_policy_always_true"
title = "Row-level security policies that let every row be written"
section = "6.2"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Permissive policies for a write command (ALL, INSERT, UPDATE, DELETE) on tables in scope with row-level security enabled whose USING or WITH CHECK expression is always true: the expression as pg_get_expr prints it, lowercased, without spaces and parentheses, is true or 1=1, alone or joined by AND. USING (true) on ALL, UPDATE or DELETE lets the policy's roles update and delete every row; WITH CHECK (true) on ALL, INSERT or UPDATE lets them write rows for anyone (an UPDATE or ALL policy without WITH CHECK uses its USING). Left out: SELECT policies (reading every row may be the intent), restrictive policies (true restricts nothing), and policies narrowed by a restrictive policy for the same command and roles whose expression is not always true. One finding per table. Critical when a role the policy applies to, other than the table's owner and roles with SUPERUSER or BYPASSRLS, holds the matching write privilege on the table (PUBLIC included): that role can write any row today. Warning otherwise."
why = "A permissive policy ORs with the others: one policy that is always true makes every other policy for that command moot. `USING (true)` on a FOR ALL policy is the typical shortcut of a prototype (\"allow everything, tighten later\") that reaches production, and with the table granted to an API role it lets any user rewrite or delete every tenant's rows while the table still shows row-level security enabled."
example = "create policy anything_goes on public.documents for all to authenticated using (true);"
fix = "begin; drop policy anything_goes on public.documents; create policy anything_goes on public.documents for select to authenticated using (true); commit;  -- then write policies with real predicates: for update using (owner_id = current_setting('app.user_id')::bigint)"
ignore_when = "The table is meant to be writable by every role the policy names (a shared scratch table, a public guestbook); reading every row is fine and a FOR SELECT policy says so."
references = [
  "https://www.postgresql.org/docs/current/sql-createpolicy.html",
  "https://www.postgresql.org/docs/current/ddl-rowsecurity.html",
  "https://supabase.com/docs/guides/database/postgres/row-level-security",
]
ok = "No permissive write policy is always true"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from pg_catalog.pg_policy p join scope_tables t on t.oid = p.polrelid)'''
not_applicable = "no row-level security policy in scope"
impact = "The policy's roles can modify or delete every row of the table; the other policies for that command no longer restrict anything."
message = "{object}: {_what}{_writers}"
remediation = "Give each write policy the predicate it was meant to have (the tenant or owner column against the session's identity) in USING and WITH CHECK. The SQL here fails closed: where the policy has one real expression it is used for both sides; an always-true FOR ALL policy is narrowed to FOR SELECT (reads stay as they were); an always-true INSERT, UPDATE or DELETE policy is dropped, so those writes are refused until a policy with a real predicate is created. Check which roles write the table first."

[severity]
default = "warning"
# a role subject to the policy holds the write privilege: it can write any row today
critical = ["exposed_writers > 0"]

[labels]
policies = "Always-true policies"
writers = "Roles that may write through them (subject to row-level security)"
exposed_writers = "Writers subject to the policies"
*/
with pols as (
  select p.oid, p.polname, p.polrelid, p.polcmd, p.polroles, t.relowner,
         pg_catalog.pg_get_expr(p.polqual, p.polrelid) as using_expr,
         pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as check_expr
  from scope_tables t
  join pg_catalog.pg_class c on c.oid = t.oid
  join pg_catalog.pg_policy p on p.polrelid = t.oid
  where c.relrowsecurity
    and p.polpermissive
    and p.polcmd in ('*', 'a', 'w', 'd')
), judged as (
  select p.*,
         regexp_replace(lower(coalesce(p.using_expr, '')), '[[:space:]()]', '', 'g')
           ~ '^(true|1=1)(and(true|1=1))*$' as using_true,
         regexp_replace(lower(coalesce(p.check_expr, '')), '[[:space:]()]', '', 'g')
           ~ '^(true|1=1)(and(true|1=1))*$' as check_true
  from pols p
), opened as (
  select j.*,
         case j.polcmd when '*' then 'ALL' when 'a' then 'INSERT' when 'w' then 'UPDATE' else 'DELETE' end
           as command,
         case when 0 = any(j.polroles) then 'public'
              else (select string_agg(quote_ident(r.rolname), ', ' order by r.rolname)
                    from pg_catalog.pg_roles r where r.oid = any(j.polroles)) end as role_list
  from judged j
  where (j.polcmd in ('*', 'w', 'd') and j.using_true)
     or (j.polcmd in ('*', 'a', 'w') and j.check_true)
     -- ALL and UPDATE without WITH CHECK check new rows with USING
     or (j.polcmd in ('*', 'w') and j.check_expr is null and j.using_true)
), unrestricted as (
  select o.* from opened o
  where not exists (
    select 1 from pg_catalog.pg_policy rp
    where rp.polrelid = o.polrelid and not rp.polpermissive
      and (rp.polcmd = '*' or rp.polcmd = o.polcmd)
      and (0 = any(rp.polroles) or rp.polroles @> o.polroles)
      -- and it restricts something: an expression that is not always true
      and exists (select 1
                  from unnest(array[pg_catalog.pg_get_expr(rp.polqual, rp.polrelid),
                                    pg_catalog.pg_get_expr(rp.polwithcheck, rp.polrelid)]) e
                  where e is not null
                    and regexp_replace(lower(e), '[[:space:]()]', '', 'g')
                        !~ '^(true|1=1)(and(true|1=1))*$'))
), grants as (
  -- table and column write privileges, by grantee
  select u.oid as policy_oid, a.grantee
  from unrestricted u
  join pg_catalog.pg_class c on c.oid = u.polrelid
  cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
  where a.privilege_type = any(case u.polcmd when '*' then array['INSERT', 'UPDATE', 'DELETE']
                                             when 'a' then array['INSERT'] when 'w' then array['UPDATE']
                                             else array['DELETE'] end)
  union
  select u.oid, a.grantee
  from unrestricted u
  join pg_catalog.pg_attribute att on att.attrelid = u.polrelid and att.attnum > 0
   and not att.attisdropped and att.attacl is not null
  cross join lateral aclexplode(att.attacl) a
  where a.privilege_type = any(case u.polcmd when '*' then array['INSERT', 'UPDATE']
                                             when 'a' then array['INSERT'] when 'w' then array['UPDATE']
                                             else array[]::text[] end)
), writers as (
  -- grantees the policy applies to (PUBLIC, the grantee, or a role whose privileges it has)
  -- that are subject to row-level security: not the table's owner, no SUPERUSER or BYPASSRLS
  select u.oid,
         array_agg(distinct case when g.grantee = 0 then 'PUBLIC' else quote_ident(r.rolname) end)
           as writers
  from unrestricted u
  join grants g on g.policy_oid = u.oid
  left join pg_catalog.pg_roles r on r.oid = g.grantee
  where g.grantee <> u.relowner
    and (g.grantee = 0 or not (r.rolsuper or r.rolbypassrls))
    and case when 0 = any(u.polroles) then true
             when g.grantee = 0 then false
             else exists (select 1 from unnest(u.polroles) pr
                          where pg_catalog.pg_has_role(g.grantee, pr, 'USAGE')) end
  group by u.oid
), described as (
  select u.*, w.writers,
         format('policy %%I (FOR %%s, to %%s) has %%s', u.polname, u.command, u.role_list,
                case when u.using_true and u.check_true then 'USING (true) and WITH CHECK (true)'
                     when u.using_true then 'USING (true)'
                     else 'WITH CHECK (true)' end)
         || case when u.polcmd = 'a' then ', so its roles may insert any row'
                 when u.polcmd = 'd' then ', so its roles may delete every row'
                 when u.using_true and u.polcmd = 'w' then ', so its roles may update every row'
                 when u.using_true then ', so its roles may read, update and delete every row'
                 else ', so its roles may write rows with any value (another tenant''s, another owner''s)' end as what,
         case
           when u.polcmd in ('a', 'd')
             or (u.polcmd = 'w' and u.using_true and (u.check_expr is null or u.check_true))
             then format(E'drop policy %%I on %%s;\n-- %%s by the policy''s roles is then refused unless another permissive policy allows it: create one with the predicate they need',
                         u.polname, u.polrelid::regclass, u.command)
           when u.polcmd = '*' and u.using_true and (u.check_expr is null or u.check_true)
             then format(E'begin;\ndrop policy %%1$I on %%2$s;\ncreate policy %%1$I on %%2$s as permissive for select to %%3$s using (true);\ncommit;\n-- writes by the policy''s roles are then refused unless another permissive policy allows them: create policies with the predicate they need',
                         u.polname, u.polrelid::regclass, u.role_list)
           when u.using_true
             then format(E'alter policy %%I on %%s using (%%s);\n-- rows were readable whatever the predicate: if every row should stay readable, add a FOR SELECT policy using (true)',
                         u.polname, u.polrelid::regclass, u.check_expr)
           else format('alter policy %%I on %%s with check (%%s);', u.polname, u.polrelid::regclass, u.using_expr)
         end as fix
  from unrestricted u
  left join writers w on w.oid = u.oid
)
select d.polrelid::regclass::text as object,
       'table' as object_type,
       array_agg(d.polname::text order by d.polname) as policies,
       w.writers,
       coalesce(cardinality(w.writers), 0) as exposed_writers,
       string_agg(d.what, '; ' order by d.polname) as _what,
       case when w.writers is not null
            then format('; roles it applies to that hold the write privilege: %%s',
                        array_to_string(w.writers, ', '))
            else '' end as _writers,
       string_agg(d.fix, E'\n' order by d.polname) as remediation
from described d
left join lateral (select array_agg(x order by x) as writers
                   from (select distinct unnest(d2.writers) x
                         from described d2 where d2.polrelid = d.polrelid) y) w on true
group by d.polrelid, w.writers
order by 1
