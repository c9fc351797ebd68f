/* pgaudit
id = "table_privileges_granted_to_public"
title = "Tables and views with privileges granted to PUBLIC"
section = "6.2"
format = 2
uses = ["scope_relations"]
needs = ["catalog"]
detects = "Tables, partitions, views, materialized views and foreign tables in scope on which PUBLIC (grantee 0 in aclexplode of relacl) holds a privilege, or holds a privilege on some of their columns (attacl). A relation's default ACL gives PUBLIC nothing, so each of these is an explicit GRANT … TO PUBLIC. Critical when PUBLIC may also use the schema and the grant lets every role change data: INSERT, UPDATE or DELETE on a table without row-level security, or TRUNCATE (which row-level security does not filter), or TRIGGER (any role can attach a trigger that runs as whoever writes the table). Warning otherwise: reads by every role, or writes that row-level security filters or that the schema's USAGE keeps out of reach today."
why = "PUBLIC is every role, present and future: the read-only reporting role, the role of a compromised microservice, the login a contractor got for one table. A grant to PUBLIC is usually a shortcut (\"grant select on all tables in schema public to public\") or an ORM's migration, and it bypasses whatever the application's roles were meant to separate. Write privileges for PUBLIC let any connection change or erase the data; TRIGGER for PUBLIC lets any role plant code that runs with the privileges of whoever writes next."
example = "grant select, insert, update, delete on public.customers to public;"
fix = "revoke all on table public.customers from public; grant select, insert, update, delete on public.customers to app_rw;"
ignore_when = "Reference data meant for every role (countries, currencies) granted SELECT only, on a database whose every login role may read it."
references = [
  "https://www.postgresql.org/docs/current/ddl-priv.html",
  "https://www.postgresql.org/docs/current/sql-revoke.html",
  "https://www.postgresql.org/docs/current/sql-createtrigger.html",
]
ok = "No table or view grants a privilege to PUBLIC"
impact = "Every role that can connect, present and future, holds these privileges on the relation."
message = "PUBLIC holds {_granted} on {_kind} {object}{_consequence}"
remediation = "REVOKE ALL ON TABLE … FROM PUBLIC (it revokes the column privileges too), then GRANT what each application role needs to that role. Check the default privileges (ALTER DEFAULT PRIVILEGES … GRANT … TO PUBLIC) that re-create such grants on new tables."

[severity]
default = "warning"
# every role can change or erase the data, or plant a trigger
critical = ["_every_role_writes"]

[labels]
privileges = "Privileges of PUBLIC"
column_privileges = "Column privileges of PUBLIC"
rls_enabled = "Row-level security enabled"
schema_usable_by_public = "PUBLIC may use the schema"
kind = "Kind"
*/
with rels as (
  select r.oid, r.relkind, r.relnamespace, r.relowner
  from scope_relations r
  where r.relkind in ('r', 'p', 'v', 'm', 'f')
), table_privs as (
  select r.oid, array_agg(a.privilege_type::text order by a.privilege_type) as privs
  from rels r
  join pg_catalog.pg_class c on c.oid = r.oid
  cross join lateral aclexplode(c.relacl) a
  where c.relacl is not null and a.grantee = 0
  group by r.oid
), column_privs as (
  select p.oid,
         array_agg(p.privilege_type order by p.privilege_type) as privs,
         string_agg(format('%%s (%%s)', p.privilege_type, p.cols), ', ' order by p.privilege_type) as text
  from (select r.oid, a.privilege_type::text as privilege_type,
               string_agg(quote_ident(att.attname), ', ' order by att.attnum) as cols
        from rels r
        join pg_catalog.pg_attribute att on att.attrelid = r.oid
        cross join lateral aclexplode(att.attacl) a
        where att.attacl is not null and att.attnum > 0 and not att.attisdropped and a.grantee = 0
        group by r.oid, a.privilege_type) p
  group by p.oid
), found as (
  select r.oid, r.relkind, r.relnamespace, t.privs, cp.privs as col_privs, cp.text as col_text,
         c.relrowsecurity,
         exists (select 1 from pg_catalog.pg_namespace n
                 cross join lateral aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                 where n.oid = r.relnamespace and a.grantee = 0 and a.privilege_type = 'USAGE')
           as schema_public
  from rels r
  join pg_catalog.pg_class c on c.oid = r.oid
  left join table_privs t on t.oid = r.oid
  left join column_privs cp on cp.oid = r.oid
  where t.oid is not null or cp.oid is not null
)
select f.oid::regclass::text as object,
       case when f.relkind in ('v', 'm') then 'view' else 'table' end as object_type,
       case f.relkind when 'v' then 'view' when 'm' then 'materialized view'
                      when 'f' then 'foreign table' when 'p' then 'partitioned table' else 'table' end
         as kind,
       case f.relkind when 'v' then 'view' when 'm' then 'materialized view'
                      when 'f' then 'foreign table' else 'table' end as _kind,
       f.privs as privileges,
       f.col_text as column_privileges,
       case when f.relkind in ('r', 'p') then f.relrowsecurity end as rls_enabled,
       f.schema_public as schema_usable_by_public,
       concat_ws(' and ', array_to_string(f.privs, ', '),
                 f.col_text) as _granted,
       f.schema_public
         and (f.privs && array['TRUNCATE', 'TRIGGER']
              or (not f.relrowsecurity
                  and (f.privs && array['INSERT', 'UPDATE', 'DELETE']
                       or f.col_privs && array['INSERT', 'UPDATE']))) as _every_role_writes,
       case when f.privs && array['TRIGGER'] and f.schema_public
              then ': every role can attach a trigger that runs with the privileges of whoever writes the table next'
            when f.schema_public and (f.privs && array['TRUNCATE']
                                      or (not f.relrowsecurity
                                          and (f.privs && array['INSERT', 'UPDATE', 'DELETE']
                                               or f.col_privs && array['INSERT', 'UPDATE'])))
              then ': every role that can connect can change or erase its data'
            when f.schema_public then ': every role that can connect can use these privileges'
            else ' (PUBLIC may not use the schema today, so only roles granted USAGE on it reach them)'
       end as _consequence,
       format(E'revoke all on table %%s from public;\n-- then grant %%s to the roles that need it, not to PUBLIC',
              f.oid::regclass,
              array_to_string(array(select distinct x from unnest(coalesce(f.privs, '{}') || coalesce(f.col_privs, '{}')) x
                                    order by 1), ', ')) as remediation
from found f
order by 1
