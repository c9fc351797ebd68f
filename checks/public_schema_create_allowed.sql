/* pgaudit
id = "public_schema_create_allowed"
title = "Schemas where every role may create objects"
section = "6.2"
format = 2
uses = ["scope_schemas"]
severity = "warning"
needs = ["catalog"]
detects = "Schemas in scope on which PUBLIC (every role, present and future) holds the CREATE privilege, read with aclexplode over the schema's ACL or its default when the ACL is NULL. Above all the public schema on databases created before PostgreSQL 15 (or upgraded from one), where CREATE for PUBLIC was the default."
why = "Any role that can connect can create tables, functions and operators in the schema. With the schema on everyone's search_path, a low-privilege role can plant a function or operator that shadows one used by another role's queries or by a SECURITY DEFINER function and have it executed with that role's rights (CVE-2018-1058); it can also fill the disk or squat on names a migration will need."
example = "grant create on schema public to public;  -- the default before PostgreSQL 15"
fix = "revoke create on schema public from public;  -- grant CREATE only to the roles that run migrations"
ignore_when = "A single-user database where the only roles that can connect are trusted administrators."
references = [
  "https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATTERNS",
  "https://www.postgresql.org/docs/release/15.0/",
  "https://wiki.postgresql.org/wiki/A_Guide_to_CVE-2018-1058:_Protect_Your_Search_Path",
]
ok = "No schema in scope lets PUBLIC create objects"
impact = "Any connecting role can plant objects that other roles' queries (and SECURITY DEFINER functions) pick up."
message = "PUBLIC may CREATE in schema {object} (owner {owner}){_origin}: every role that can connect can create objects there"
remediation = "REVOKE CREATE ON SCHEMA … FROM PUBLIC, then GRANT CREATE ON SCHEMA … TO the migration/owner role only. Check first that the application role does not create objects at runtime (temporary tables are unaffected: they live in pg_temp)."

[labels]
acl = "Schema ACL"
pre_15_default = "PostgreSQL 14 or older default"
*/
select quote_ident(n.nspname) as object,
       'schema' as object_type,
       pg_catalog.pg_get_userbyid(n.nspowner)::text as owner,
       coalesce(n.nspacl::text, 'default: ' || acldefault('n', n.nspowner)::text) as acl,
       n.nspname = 'public' and %(server_version_num)s::int < 150000 as pre_15_default,
       case when n.nspname = 'public' and %(server_version_num)s::int < 150000
            then ', the default on PostgreSQL 14 and older'
            when n.nspname = 'public'
            then ', the pre-15 default, typically carried over by a dump/restore or pg_upgrade'
            else '' end as _origin,
       format('revoke create on schema %%I from public;', n.nspname) as remediation
from scope_schemas n
where exists (select 1 from aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
              where a.grantee = 0 and a.privilege_type = 'CREATE')
order by 1
