/* pgaudit
id = "password_encryption_md5"
title = "Passwords hashed with MD5"
section = "6.1"
format = 2
needs = ["catalog"]
detects = "Three things: (1) password_encryption = md5 (or 'on', its old alias) as the audit's session sees it, set in postgresql.conf, for the database or for the audit role: every password set from now on is stored as an MD5 hash; (2) roles with their own ALTER ROLE ... SET password_encryption = md5 (all of them, or in this database), read from pg_db_role_setting; (3) login roles whose stored password is an MD5 hash, read from pg_authid, which only superusers (or roles granted SELECT on it) can read. Where pg_authid cannot be read, part (3) is not judged: the check reports what it did judge when the setting is md5, and gives no verdict, saying why, when the setting is fine. A warning; never critical on its own: a stored MD5 hash is an exposure once it leaks (a backup, a dump with --roles, a role that can read pg_authid) or when md5 or password lines in pg_hba.conf accept it over an unencrypted network, which hba_insecure_auth and ssl_disabled report."
why = "An MD5 password hash in PostgreSQL is md5(password || user name): unsalted beyond the user name, fast to brute-force on a GPU, and password-equivalent for md5 authentication (whoever holds the hash can log in without knowing the password). SCRAM-SHA-256, the default since PostgreSQL 14, stores a salted, iterated hash that cannot be replayed. PostgreSQL 18 deprecates MD5 passwords and warns when one is set; a later release will remove them. An old hash stays MD5 until the password is set again, even after password_encryption changes."
example = "set password_encryption = 'md5';\ncreate role app login password 's3cret';  -- stored as md5..."
fix = "alter system set password_encryption = 'scram-sha-256';\nselect pg_reload_conf();\n-- then set each MD5 password again (psql: \\password app), and use scram-sha-256 in pg_hba.conf"
ignore_when = "A client that cannot do SCRAM (a very old driver) still connects, and its upgrade is planned and tracked."
references = ["https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-PASSWORD-ENCRYPTION", "https://www.postgresql.org/docs/current/auth-password.html", "https://www.postgresql.org/docs/current/catalog-pg-authid.html", "https://www.postgresql.org/docs/18/release-18.html"]
ok = "Passwords are stored as SCRAM-SHA-256 hashes and new ones will be too"
ok_message = "password_encryption is {setting}{_roles_note}"
impact = "MD5 hashes are fast to crack and work as the password itself for md5 authentication."
message = "{object}: {_problem}"
remediation = "Set password_encryption = 'scram-sha-256' where it is md5 (server, database or role level), then set every MD5 password again so it is stored as SCRAM (ALTER ROLE ... PASSWORD, or psql's \\password, which hashes on the client): a hash cannot be converted without the password. Once no MD5 hash is left, switch md5 lines in pg_hba.conf to scram-sha-256. Clients need SCRAM support (libpq 10+, JDBC 42.2+, most current drivers)."

[severity]
default = "warning"
ok = ["_kind = 'summary'"]

[labels]
setting = "password_encryption"
source = "Set at"
superuser = "Superuser"
roles_with_password = "Login roles with a password"

[params]
# regular expression on role names to examine (default: every role)
role_pattern = '.*'
*/
with authid as (
  -- pg_authid is readable only by superusers (or by an explicit grant): read it through a query
  -- string, so that the statement still runs for roles that cannot read it (a plain reference
  -- fails the whole check with permission denied); ts_stat runs the string as the audit role
  select pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT') as readable
), hashes as (
  select h.* from (
  select left(w.word, 1) as kind, substr(w.word, 3) as rolname
  from authid a
  cross join lateral pg_catalog.ts_stat(
    case when a.readable
         then 'select pg_catalog.array_to_tsvector(array_agg(case when rolpassword like ''md5%%'' then ''m'' else ''s'' end || '':'' || rolname::text))'
              ' from pg_catalog.pg_authid where rolcanlogin and rolpassword is not null'
         else 'select null::pg_catalog.tsvector' end) w
  ) h where h.rolname ~ %(role_pattern)s::text
), setting as (
  select x.setting, x.source from pg_catalog.pg_settings x where x.name = 'password_encryption'
), role_level as (
  -- roles switching it to md5 for themselves, everywhere or in this database
  select r.rolname, s.setdatabase
  from pg_catalog.pg_db_role_setting s
  cross join lateral unnest(s.setconfig) e(entry)
  join pg_catalog.pg_roles r on r.oid = s.setrole
  where s.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))
    and r.rolname ~ %(role_pattern)s::text
    and split_part(e.entry, '=', 1) = 'password_encryption'
    and lower(trim(substr(e.entry, strpos(e.entry, '=') + 1))) in ('md5', 'on', 'true')
), found as (
  select 'password_encryption' as object, 'setting' as object_type, 'setting' as _kind,
         format('md5 (set at %%s level): every password set from now on is stored as an MD5 hash',
                case st.source when 'database' then 'database'
                               when 'user' then 'role'
                               when 'database user' then 'role-in-database'
                               when 'default' then 'built-in default'
                               else 'server (' || st.source || ')' end) as _problem,
         st.setting, st.source, null::boolean as superuser,
         case st.source
           when 'database' then format('alter database %%I set password_encryption = ''scram-sha-256'';', current_database())
           when 'user' then format('alter role %%I set password_encryption = ''scram-sha-256'';', current_user)
           when 'database user' then format('alter role %%I in database %%I set password_encryption = ''scram-sha-256'';', current_user, current_database())
           else E'alter system set password_encryption = ''scram-sha-256'';\nselect pg_catalog.pg_reload_conf();' end as remediation
  from setting st
  where st.setting in ('md5', 'on')
    -- a role-level value of the audit role itself is reported below, with the other roles
    and st.source not in ('user', 'database user')
  union all
  select quote_ident(rl.rolname), 'role', 'role_setting',
         format('ALTER ROLE ... %%sSET password_encryption = md5: passwords this role sets are stored as MD5 hashes',
                case when rl.setdatabase <> 0 then 'IN DATABASE ... ' else '' end),
         'md5', case when rl.setdatabase <> 0 then 'database user' else 'user' end, null,
         case when rl.setdatabase <> 0
              then format('alter role %%I in database %%I reset password_encryption;', rl.rolname, current_database())
              else format('alter role %%I reset password_encryption;', rl.rolname) end
  from role_level rl
  union all
  select quote_ident(h.rolname), 'role', 'hash',
         'its password is stored as an MD5 hash: set it again to store it as SCRAM-SHA-256 (the hash cannot be converted)',
         null, null, r.rolsuper,
         null
  from hashes h
  left join pg_catalog.pg_roles r on r.rolname = h.rolname
  where h.kind = 'm'
)
select f.*, null::bigint as roles_with_password, null::text as no_verdict, null::text as _roles_note
from found f
union all
-- nothing found: the 🟢 summary where the hashes were read, no verdict where they were not
select 'password_encryption', 'setting', 'summary', null, st.setting, st.source, null, null,
       h.n,
       case when not (select readable from authid)
            then format('password_encryption is %%s, but the stored password hashes are in pg_authid, which only superusers can read: grant SELECT on pg_catalog.pg_authid to the audit role, or run this check as a superuser', st.setting) end,
       -- never "none of the 0 login roles": with no password stored there is nothing to judge
       case h.n when 0 then ' and no login role has a password stored'
                when 1 then ' and the 1 login role with a password has no MD5 hash'
                else format(' and none of the %%s login roles with a password has an MD5 hash', h.n) end
from setting st
cross join (select count(*) as n from hashes) h
where not exists (select 1 from found)
order by 3, 1
