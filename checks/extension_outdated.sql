/* pgaudit
id = "extension_outdated"
title = "Extensions older than the version the server ships"
section = "7.3"
format = 2
severity = "warning"
needs = ["catalog"]
detects = "Extensions installed in this database (pg_extension, database-wide: whatever schema they live in) whose installed version differs from the default version of the extension files installed on the server (pg_available_extensions.default_version) and is older: either ALTER EXTENSION … UPDATE has an update path from it to the default (pg_extension_update_paths), or both versions are dotted numbers and the installed one compares lower. An installed version above the default (a development build) is left out, and so is an extension whose control file is missing. Never critical: the check has no evidence that the missing version fixes a vulnerability here."
why = "A minor or major upgrade of PostgreSQL (and pg_upgrade) replaces an extension's shared library but leaves its SQL objects at the version created long ago: functions, operators and views added or fixed by later versions are missing, some functions run through compatibility shims, and the gap grows with every upgrade until an update must cross many versions at once. Release notes regularly tell users to run ALTER EXTENSION … UPDATE to get fixes (pg_stat_statements columns, pg_trgm and hstore operator fixes, security hardening of extension scripts)."
example = "create extension hstore version '1.4';  -- the server ships 1.8"
fix = "alter extension hstore update;  -- to the default version, through the shipped update scripts"
ignore_when = "An application pins the old version on purpose (it relies on a function a later version dropped or changed) and has tested that; managed services that update extensions in a maintenance window of their own."
references = [
  "https://www.postgresql.org/docs/current/sql-alterextension.html",
  "https://www.postgresql.org/docs/current/view-pg-available-extensions.html",
  "https://www.postgresql.org/docs/current/extend-extensions.html#EXTEND-EXTENSIONS-UPDATES",
]
ok = "Every extension is at the default version of the server's extension files"
impact = "The extension's SQL objects lag its shared library: functions and fixes of the newer versions are missing, and the update gets longer with every server upgrade."
message = "extension {object} is at version {installed_version} while the server ships {default_version}{_path}"
remediation = "ALTER EXTENSION … UPDATE (to the default version) as the extension's owner or a superuser, after reading the extension's release notes for changed functions. It takes locks on the objects the update scripts alter: run it in a quiet moment. Where no update path exists, dump the data that depends on the extension, drop and recreate it."

[labels]
installed_version = "Installed version"
default_version = "Default version available"
update_path = "Update path"
schema = "Schema"
*/
with installed as (
  select e.oid, e.extname, e.extversion, e.extnamespace, a.default_version
  from pg_catalog.pg_extension e
  join pg_catalog.pg_available_extensions a on a.name = e.extname
  where a.default_version is not null and e.extversion <> a.default_version
), pathed as (
  select i.*,
         (select u.path from pg_catalog.pg_extension_update_paths(i.extname) u
          where u.source = i.extversion and u.target = i.default_version) as update_path,
         case when i.extversion ~ '^\d+(\.\d+)*$' and i.default_version ~ '^\d+(\.\d+)*$'
              then string_to_array(i.extversion, '.')::int[] < string_to_array(i.default_version, '.')::int[]
         end as numerically_older
  from installed i
)
select quote_ident(p.extname) as object,
       'extension' as object_type,
       p.extversion::text as installed_version,
       p.default_version::text as default_version,
       p.update_path,
       (select n.nspname::text from pg_catalog.pg_namespace n where n.oid = p.extnamespace) as schema,
       case when p.update_path is not null then format(' (update path %%s)', p.update_path)
            else ': the server ships no update path from this version (dump, drop and recreate)'
       end as _path,
       case when p.update_path is not null
            then format('alter extension %%I update;  -- to %%s', p.extname, p.default_version) end
         as remediation
from pathed p
where p.update_path is not null or p.numerically_older
order by 1
