/* pgaudit
id = "security_definer_executable_by_public"
title = "SECURITY DEFINER functions every role may execute"
section = "6.2"
format = 2
uses = ["scope_functions"]
needs = ["catalog"]
detects = "Functions and procedures declared SECURITY DEFINER (outside extensions; trigger and event-trigger functions, which no role can call directly, left out) on which PUBLIC holds EXECUTE. That is the default: a function's ACL is NULL until a GRANT or REVOKE touches it, and a NULL ACL gives PUBLIC EXECUTE, so the ACL is read with aclexplode over proacl or acldefault('f', owner). Critical when the owner is a superuser, PUBLIC may also use the function's schema (so every role that can connect can call it), and the function pins no search_path of its own: every role can then run code as a superuser through names the caller's search_path resolves. Info when only the schema's owner may use the schema (nobody else reaches the function today); warning otherwise."
why = "A SECURITY DEFINER function runs with its owner's privileges whoever calls it. It is written for a few roles (a signup helper for the web role, a purge for the operator), yet unless EXECUTE is revoked from PUBLIC every role that can connect may call it, with arguments of its choosing: a bug in its checks, an unqualified name the caller can shadow or a dynamic SQL string becomes privilege escalation for everyone, not only for the role it was written for."
example = "create function public.reset_password(uid bigint, pw text) returns void language sql security definer as 'update users set password_hash = crypt(pw, gen_salt(''bf'')) where id = uid';"
fix = "revoke execute on function public.reset_password(bigint, text) from public; grant execute on function public.reset_password(bigint, text) to web;"
ignore_when = "The function is meant for every role and safe for any argument (it checks the caller itself, e.g. a current_user-scoped helper), or the database has a single login role; revoking from PUBLIC still documents the intent."
references = [
  "https://www.postgresql.org/docs/current/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY",
  "https://www.postgresql.org/docs/current/ddl-priv.html#PRIVILEGES-SUMMARY-TABLE",
  "https://www.postgresql.org/docs/current/sql-alterdefaultprivileges.html",
]
ok = "No SECURITY DEFINER function is executable by PUBLIC"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_functions p
        join pg_catalog.pg_proc pp on pp.oid = p.oid
        where p.prosecdef
          and pp.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype))'''
not_applicable = "no SECURITY DEFINER function in scope"
impact = "Every role that can connect may call the function and run it with its owner's privileges."
message = "{object} is SECURITY DEFINER (owner {owner}) and PUBLIC may EXECUTE it{_reach}{_risk}"
remediation = "REVOKE EXECUTE ON FUNCTION … FROM PUBLIC, then GRANT EXECUTE to the roles that need it. New functions get PUBLIC EXECUTE again unless the default privileges of their creating role say otherwise: ALTER DEFAULT PRIVILEGES FOR ROLE <owner> REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC. Pin the function's search_path too (see \"SECURITY DEFINER functions without a safe search_path\", section 6.2)."

[severity]
default = "warning"
# every role can call it, it runs as a superuser, and it resolves names with the caller's path
critical = ["owner_is_superuser and schema_usable_by_public and not search_path_pinned"]
# nobody but the schema's owner may use the schema: nobody reaches the function today
info = ["not reachable"]

[labels]
owner_is_superuser = "Owner is a superuser"
schema_usable_by_public = "PUBLIC may use the schema"
schema_users = "Roles that may use the schema"
search_path_pinned = "Pins its own search_path"
acl = "Function ACL"
*/
with funcs as (
  select p.oid, p.nspname, p.pronamespace, p.prokind, p.proowner, p.proacl,
         exists (select 1 from unnest(p.proconfig) cfg where cfg like 'search\_path=%%') as pinned
  from scope_functions p
  join pg_catalog.pg_proc pp on pp.oid = p.oid
  where p.prosecdef
    and pp.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
    and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                where a.grantee = 0 and a.privilege_type = 'EXECUTE')
), reach as (
  select f.oid,
         exists (select 1 from aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                 where a.grantee = 0 and a.privilege_type = 'USAGE') as public_usage,
         (select array_agg(pg_catalog.pg_get_userbyid(a.grantee)::text order by 1)
          from aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
          where a.privilege_type = 'USAGE' and a.grantee <> 0 and a.grantee <> n.nspowner) as users
  from funcs f
  join pg_catalog.pg_namespace n on n.oid = f.pronamespace
)
select f.oid::regprocedure::text as object,
       'function' as object_type,
       pg_catalog.pg_get_userbyid(f.proowner)::text as owner,
       coalesce((select r.rolsuper from pg_catalog.pg_roles r where r.oid = f.proowner), false)
         as owner_is_superuser,
       r.public_usage as schema_usable_by_public,
       r.users as schema_users,
       r.public_usage or r.users is not null as reachable,
       f.pinned as search_path_pinned,
       coalesce(f.proacl::text, 'default: ' || acldefault('f', f.proowner)::text) as acl,
       case when r.public_usage then ': every role that can connect can call it'
            when r.users is not null
              then ', so every role that may use its schema can call it, not only the roles it was written for'
            else ' (only the owner of its schema may use the schema today, so nobody else reaches it yet)'
       end as _reach,
       case when r.public_usage and not f.pinned
                 and (select r2.rolsuper from pg_catalog.pg_roles r2 where r2.oid = f.proowner)
            then '; it runs as a superuser and resolves names through the caller''s search_path'
            else '' end as _risk,
       format(E'revoke execute on %%s %%s from public;\n%%s',
              case when f.prokind = 'p' then 'procedure' else 'function' end, f.oid::regprocedure,
              -- a comment line: a newline in the name would end it, so continue with '-- '
              regexp_replace(format('-- then grant it to the roles that need it:  grant execute on %%s %%s to <role>;',
                                    case when f.prokind = 'p' then 'procedure' else 'function' end,
                                    f.oid::regprocedure),
                             E'(?!^)[\\r\\n]+', E'\\&-- ', 'g'))
         as remediation
from funcs f
join reach r on r.oid = f.oid
order by 1
