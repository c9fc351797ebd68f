/* pgaudit
id = "superuser_roles"
title = "Login roles with superuser or BYPASSRLS"
section = "6.2"
format = 2
severity = "warning"
needs = ["catalog"]
detects = "Roles that can log in and hold SUPERUSER or BYPASSRLS, directly or by membership in a role that holds it (a member can SET ROLE to it), other than the bootstrap superuser (oid 10, usually postgres) and cloud providers' internal roles (exclude_roles). role_pattern narrows the roles examined (a regular expression on the name; default: all)."
why = "A superuser bypasses every privilege check, row-level security policy and many safety rails (it can read files, run programs, change settings); BYPASSRLS ignores every policy. Each extra login role with these powers is another password, key or connection string whose leak gives away the whole cluster, and an application connecting as one makes every SQL injection a full compromise and every RLS policy decoration."
example = "create role app login password '…' superuser;"
fix = "alter role app nosuperuser;  -- then grant only what it needs: ownership of its schema, pg_read_all_data, pg_monitor …"
ignore_when = "A named break-glass administrator role with a strong credential, used only interactively and audited; managed services' own administrator roles."
references = [
  "https://www.postgresql.org/docs/current/role-attributes.html",
  "https://www.postgresql.org/docs/current/predefined-roles.html",
  "https://www.postgresql.org/docs/current/ddl-rowsecurity.html",
]
ok = "No login role other than the bootstrap superuser has SUPERUSER or BYPASSRLS"
impact = "A leaked credential of this role gives away the whole cluster (superuser) or every row protected by RLS (BYPASSRLS)."
message = "login role {object} has {_powers}{_expired}"
remediation = "Remove the attribute (ALTER ROLE … NOSUPERUSER / NOBYPASSRLS) or the membership (REVOKE … FROM …) and grant what the role actually needs: ownership of its schema, predefined roles such as pg_monitor, pg_read_all_data, pg_signal_backend. Keep one break-glass superuser, not one per person or service."

[labels]
superuser = "SUPERUSER"
bypassrls = "BYPASSRLS"
via_roles = "Reaches through membership in"
effective_superuser = "Effectively superuser"
effective_bypassrls = "Effectively BYPASSRLS"
valid_until = "Password valid until"

[params]
# regular expression on role names to examine (default: every role)
role_pattern = '.*'
# cloud providers' internal administrator roles: not the user's to change
exclude_roles = ["rdsadmin", "rds_superuser", "azuresu", "azure_superuser", "cloudsqladmin", "cloudsqlsuperuser", "alloydbadmin", "supabase_admin"]
*/
with login_roles as (
  select r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolvaliduntil
  from pg_catalog.pg_roles r
  where r.rolcanlogin
    and r.oid <> 10                                   -- the bootstrap superuser
    and r.rolname !~ '^pg_'
    and r.rolname ~ %(role_pattern)s
    and r.rolname <> all(%(exclude_roles)s::text[])
), privileged as (
  select r.oid, r.rolname, r.rolsuper, r.rolbypassrls
  from pg_catalog.pg_roles r
  where r.rolsuper or r.rolbypassrls
), via as (
  -- a member can SET ROLE to a superuser/BYPASSRLS role (attributes are not inherited, SET ROLE is)
  select l.oid,
         array_agg(p.rolname::text order by p.rolname) as via_roles,
         bool_or(p.rolsuper) as via_super,
         bool_or(p.rolbypassrls) as via_bypass,
         string_agg(case when exists (select 1 from pg_catalog.pg_auth_members m
                                      where m.member = l.oid and m.roleid = p.oid)
                         then format('revoke %%I from %%I;', p.rolname, l.rolname)
                         -- a comment line: a newline in a role name would end it
                         else regexp_replace(format('-- %%I reaches %%I through another role: revoke that membership',
                                                    l.rolname, p.rolname), E'[\\r\\n]+', E'\\&-- ', 'g')
                    end, E'\n' order by p.rolname) as revokes
  from login_roles l
  join privileged p on p.oid <> l.oid
  where not l.rolsuper                                -- pg_has_role is always true for a superuser
    and pg_catalog.pg_has_role(l.oid, p.oid, 'MEMBER')
  group by l.oid
), judged as (
  select l.*, v.via_roles, v.revokes,
         l.rolsuper or coalesce(v.via_super, false) as eff_super,
         l.rolbypassrls or coalesce(v.via_bypass, false) as eff_bypass
  from login_roles l
  left join via v on v.oid = l.oid
  where l.rolsuper or l.rolbypassrls or v.oid is not null
)
select quote_ident(j.rolname) as object,
       'role' as object_type,
       concat_ws(' and ',
                 case when j.rolsuper then 'SUPERUSER' end,
                 case when j.rolbypassrls then 'BYPASSRLS' end,
                 case when j.via_roles is not null
                      then format('membership in %%s (reachable with SET ROLE)', array_to_string(j.via_roles, ', ')) end) as _powers,
       case when j.rolvaliduntil is not null and j.rolvaliduntil < now()
            then ' (its password has expired, but other authentication methods still let it in)' else '' end as _expired,
       j.rolsuper as superuser,
       j.rolbypassrls as bypassrls,
       j.via_roles,
       j.eff_super as effective_superuser,
       j.eff_bypass as effective_bypassrls,
       j.rolvaliduntil as valid_until,
       concat_ws(E'\n',
                 case when j.rolsuper then format('alter role %%I nosuperuser;', j.rolname) end,
                 case when j.rolbypassrls then format('alter role %%I nobypassrls;', j.rolname) end,
                 j.revokes) as remediation
from judged j
order by 1
