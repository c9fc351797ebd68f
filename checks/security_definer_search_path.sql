/* pgaudit
id = "security_definer_search_path"
title = "SECURITY DEFINER functions without a safe search_path"
section = "6.2"
format = 2
uses = ["scope_functions"]
severity = "warning"
needs = ["catalog"]
detects = "Functions and procedures declared SECURITY DEFINER (outside extensions) that either have no search_path in their own SET clause (proconfig), so they resolve names with the caller's search_path, or pin a search_path that names a schema where PUBLIC has the CREATE privilege (including public on PostgreSQL 14 and older, or any schema granted CREATE to PUBLIC)."
why = "A SECURITY DEFINER function runs with its owner's privileges. If it resolves an unqualified table, function or operator through a search_path the caller controls, or through a schema anyone can create objects in, the caller can plant an object with the same name (or a better-matching overload) and have it executed with the owner's rights: a classic privilege escalation, often to superuser."
example = "create function public.delete_user(uid bigint) returns void language sql security definer as 'delete from users where id = uid';"
fix = "alter function public.delete_user(bigint) set search_path = pg_catalog, public, pg_temp;  -- after revoking CREATE on public from PUBLIC"
ignore_when = "The function body qualifies every name, including operators (OPERATOR(pg_catalog.=)), and calls no unqualified function; pinning the search_path is still cheaper than proving that."
references = [
  "https://www.postgresql.org/docs/current/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY",
  "https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATTERNS",
  "https://wiki.postgresql.org/wiki/A_Guide_to_CVE-2018-1058:_Protect_Your_Search_Path",
]
ok = "Every SECURITY DEFINER function pins a search_path without PUBLIC-writable schemas"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_functions p where p.prosecdef)'''
not_applicable = "no SECURITY DEFINER function in scope"
impact = "A caller can hijack names the function resolves and run code with the owner's privileges."
message = "{object} is SECURITY DEFINER and {_problem}: a caller can plant a same-named object and run it with the privileges of {owner}"
remediation = "Pin the search_path in the function definition: ALTER FUNCTION … SET search_path = pg_catalog, <schemas it uses>, pg_temp (pg_temp last, or it is searched first for relations), and make sure none of those schemas allows CREATE to PUBLIC or to untrusted roles. Also REVOKE EXECUTE … FROM PUBLIC where only some roles should call it."

[labels]
search_path = "search_path"
public_writable_schemas = "Schemas where PUBLIC may CREATE"
*/
with funcs as (
  select p.oid, p.nspname, p.proowner, p.prokind,
         (select substr(cfg, length('search_path=') + 1)
          from unnest(p.proconfig) cfg where cfg like 'search\_path=%%' limit 1) as search_path
  from scope_functions p
  where p.prosecdef
), public_writable as (
  select ns.nspname
  from pg_catalog.pg_namespace ns
  cross join lateral aclexplode(coalesce(ns.nspacl, acldefault('n', ns.nspowner))) acl
  where acl.grantee = 0 and acl.privilege_type = 'CREATE'
), parsed as (
  select f.*,
         (select array_agg(s order by ord) from (
            select trim(both '"' from trim(e)) as s, ord
            from unnest(string_to_array(f.search_path, ',')) with ordinality x(e, ord)) y
          where s <> '') as path_schemas
  from funcs f
), judged as (
  select pr.*,
         (select array_agg(w order by w) from unnest(pr.path_schemas) w
          where w in (select nspname from public_writable)
             or (w = '$user' and exists (select 1 from public_writable pw
                                         join pg_catalog.pg_roles r on r.rolname = pw.nspname
                                         where r.oid = pr.proowner))) as writable
  from parsed pr
)
select j.oid::regprocedure::text as object,
       'function' as object_type,
       case when j.search_path is null then 'has no search_path of its own (it resolves names with the caller''s)'
            else format('pins search_path = %%s, which includes %%s where PUBLIC may CREATE',
                        j.search_path, array_to_string(j.writable, ', '))
       end as _problem,
       j.search_path,
       j.writable as public_writable_schemas,
       pg_catalog.pg_get_userbyid(j.proowner)::text as owner,
       (select r.rolsuper from pg_catalog.pg_roles r where r.oid = j.proowner) as owner_is_superuser,
       format('alter %%s %%s set search_path = pg_catalog, %%I, pg_temp;%%s',
              case when j.prokind = 'p' then 'procedure' else 'function' end,
              j.oid::regprocedure, j.nspname,
              case when j.nspname in (select nspname from public_writable)
                   -- a comment line: a newline in the name would end it, so continue with '-- '
                   then regexp_replace(format(E'\n-- %%I itself allows CREATE to PUBLIC: also run  revoke create on schema %%I from public;',
                                              j.nspname, j.nspname),
                                       E'(?!^)[\\r\\n]+', E'\\&-- ', 'g')
                   else '' end) as remediation
from judged j
where j.search_path is null or j.writable is not null
order by 1
