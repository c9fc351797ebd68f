/* pgaudit
id = "function_search_path_mutable"
title = "Functions that resolve names with the caller's search_path"
section = "6.2"
format = 2
uses = ["scope_functions"]
severity = "info"
needs = ["catalog"]
detects = "Functions and procedures in scope (extension members left out) that are not SECURITY DEFINER and have no search_path in their own SET clause (proconfig), so every unqualified table, function, type or operator in their body is looked up through the search_path of the session that calls them. Left out: SECURITY DEFINER functions (security_definer_search_path reports those, so a function is never reported by both), C and internal functions (no SQL body), aggregates, and SQL functions with a standard body (BEGIN ATOMIC or RETURN, PostgreSQL 14+), whose names are bound when the function is created. Info only: an invoker's function runs with the caller's own privileges."
why = "A function that runs with the caller's privileges is still a trap when a more privileged role calls it (a trigger fired by the migration role, a maintenance job, a SECURITY DEFINER function calling it, an index expression evaluated by VACUUM or REINDEX) with a search_path that includes a schema a less privileged role can create objects in: a same-named function or operator planted there runs with the privileged role's rights (CVE-2018-1058). It also makes the function's behaviour depend on the session (a tenant schema first on the path silently changes which table it reads). PostgreSQL runs maintenance operations with a safe search_path since version 17 for this reason."
example = "create function public.order_total(oid bigint) returns numeric language sql stable as 'select sum(amount) from order_lines where order_id = oid';"
fix = "alter function public.order_total(bigint) set search_path = pg_catalog, public, pg_temp;"
ignore_when = "The function relies on the caller's search_path on purpose (one schema per tenant, the same code for each); a hot SQL function that must stay inlinable (a SET clause stops the planner from inlining it): qualify the names in its body instead; procedures that COMMIT or ROLLBACK (a SET clause forbids transaction control, so the fix is to qualify names)."
references = [
  "https://www.postgresql.org/docs/current/sql-createfunction.html",
  "https://wiki.postgresql.org/wiki/A_Guide_to_CVE-2018-1058:_Protect_Your_Search_Path",
  "https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATH",
]
ok = "Every function pins its search_path or binds its names at creation"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (select 1 from scope_functions p
        join pg_catalog.pg_proc pp on pp.oid = p.oid
        join pg_catalog.pg_language l on l.oid = pp.prolang
        where not p.prosecdef and p.prokind <> 'a' and l.lanname not in ('c', 'internal'))'''
not_applicable = "no function with a SQL or procedural body in scope"
impact = "Names in the function resolve through whatever search_path the caller has; a privileged caller with a writable schema on its path can be made to run planted code."
message = "{object} ({language}) has no search_path of its own: it resolves names with the caller's{_note}"
remediation = "Pin the search_path in the function definition (ALTER FUNCTION … SET search_path = pg_catalog, <schemas it uses>, pg_temp), or schema-qualify every name in its body, or rewrite a SQL function with a standard body (BEGIN ATOMIC … END, PostgreSQL 14+), whose names are bound at creation. A SET clause stops SQL functions from being inlined and forbids COMMIT/ROLLBACK in procedures: for those, qualify the names instead."

[labels]
language = "Language"
transaction_control = "Commits or rolls back"
*/
with funcs as (
  select p.oid, p.nspname, p.prokind, l.lanname, pp.prosrc
  from scope_functions p
  join pg_catalog.pg_proc pp on pp.oid = p.oid
  join pg_catalog.pg_language l on l.oid = pp.prolang
  where not p.prosecdef
    and p.prokind <> 'a'
    and l.lanname not in ('c', 'internal')
    and not exists (select 1 from unnest(p.proconfig) cfg where cfg like 'search\_path=%%')
), candidates as (
  select f.*,
         f.prokind = 'p' and f.prosrc ~* '\m(commit|rollback)\M' as transaction_control
  from funcs f
  -- a standard SQL body binds its names at creation (prosqlbody, PostgreSQL 14+)
  where not (f.lanname = 'sql'
             and (select to_jsonb(x) ->> 'prosqlbody' from pg_catalog.pg_proc x where x.oid = f.oid)
                 is not null)
)
select c.oid::regprocedure::text as object,
       'function' as object_type,
       c.lanname::text as language,
       case when c.transaction_control then true end as transaction_control,
       case when c.transaction_control
            then ' (it commits or rolls back, which a SET clause forbids: qualify the names in its body instead)'
            else '' end as _note,
       case when not c.transaction_control
            then format('alter %%s %%s set search_path = pg_catalog, %%I, pg_temp;',
                        case when c.prokind = 'p' then 'procedure' else 'function' end,
                        c.oid::regprocedure, c.nspname) end as remediation
from candidates c
order by 1
