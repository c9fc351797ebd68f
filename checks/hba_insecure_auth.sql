/* pgaudit
id = "hba_insecure_auth"
title = "pg_hba.conf lines that let clients in without a password, or with a weak one"
section = "6.1"
format = 2
needs = ["catalog", "hba_file_rules"]
detects = "Lines of pg_hba.conf, as the pg_hba_file_rules view reads the file (its current contents, which a reload would load), whose method is: trust (no password at all), for any connection type; password (the password sent in clear text) on a connection that is not local; md5 on a connection from a non-local address (a replayable, fast-to-crack hash exchange, deprecated in PostgreSQL 18). Local means a Unix-socket line, or a host line whose addresses are all loopback (127.0.0.0/8, ::1, localhost) or samehost. Critical for trust on a non-local address while the server listens beyond loopback (anyone who reaches the port logs in as any role, superusers included), and for password on a host (not hostssl) line from a non-local address while ssl is off (passwords cross the network in clear text); a warning for the other non-local lines and for trust on local lines (any user or process on the host can connect as any role: report_local_trust = false accepts that); info for password on local lines. Reading pg_hba_file_rules needs superuser, or both GRANT SELECT ON pg_catalog.pg_hba_file_rules and GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() to the audit role: without them the check is skipped, the missing privilege named."
why = "pg_hba.conf decides who may connect and how they prove who they are. A trust line lets any client that matches it connect as any role it names, superusers included, with no password; one such line reachable from the network gives the whole cluster away. The password method sends the password in clear text, and md5 uses a hash exchange that a captured session or a stolen hash turns into a login. scram-sha-256 (PostgreSQL 10+) proves the password without revealing or replaying it."
example = "host  all  all  0.0.0.0/0  trust\nhost  all  all  10.0.0.0/8  md5"
fix = "hostssl  all  all  10.0.0.0/8  scram-sha-256\n-- then: select pg_reload_conf();"
ignore_when = "A trust line for local connections on a single-purpose host or container where no other user or process runs (the Unix socket directory is private), or an md5 line kept for a client that cannot do SCRAM while its upgrade is planned."
references = ["https://www.postgresql.org/docs/current/auth-pg-hba-conf.html", "https://www.postgresql.org/docs/current/auth-trust.html", "https://www.postgresql.org/docs/current/auth-password.html", "https://www.postgresql.org/docs/current/view-pg-hba-file-rules.html"]
ok = "No pg_hba.conf line admits clients without a password or with a weak method"
impact = "Anyone who matches the line connects without a password (trust), or passwords can be read or replayed from the network (password, md5)."
message = "{object}: {_line}: {_problem}"
remediation = "Edit the lines named: scram-sha-256 instead of trust, password and md5 (set the passwords again first where they are stored as MD5: see \"Passwords hashed with MD5\", section 6.1), hostssl instead of host for remote clients, peer for local administrative access; narrow addresses to the networks that need them. Then reload (SELECT pg_reload_conf()) and check pg_hba_file_rules for errors. No SQL changes pg_hba.conf."

[severity]
default = "warning"
# any role, superusers included, without a password from the network; or passwords in clear text
critical = ["auth_method = 'trust' and not local_only and listens_beyond_loopback", "auth_method = 'password' and not local_only and type = 'host' and ssl = 'off' and listens_beyond_loopback"]
info = ["auth_method = 'password' and local_only"]

[labels]
line_number = "Line"
file_name = "File"
type = "Connection type"
databases = "Databases"
users = "Roles"
address = "Address"
netmask = "Netmask"
auth_method = "Method"
local_only = "Local connections only"
listens_beyond_loopback = "Server listens beyond loopback"
ssl = "ssl"

[params]
# trust on Unix-socket and loopback lines: a warning (true) or accepted (false)
report_local_trust = true
*/
with cfg as (
  select (select x.setting from pg_catalog.pg_settings x where x.name = 'ssl') as ssl,
         coalesce((select exists (select 1 from pg_catalog.regexp_split_to_table(x.setting, '\s*,\s*') a
                                  where a <> '' and a not in ('localhost', '::1') and a !~ '^127\.')
                   from pg_catalog.pg_settings x where x.name = 'listen_addresses'), true) as beyond_loopback
), rules as (
  select h.line_number, to_jsonb(h) ->> 'file_name' as file_name, h.type, h.database, h.user_name,
         h.address, h.netmask, h.auth_method,
         case when h.type = 'local' then true
              when h.address in ('samehost', 'localhost') then true
              when h.address ~ '^[0-9.]+$' and coalesce(h.netmask, '255.255.255.255') ~ '^[0-9.]+$'
              then h.address::inet <<= inet '127.0.0.0/8'
                   and coalesce(h.netmask, '255.255.255.255')::inet >= inet '255.0.0.0'
              when h.address ~ '^[0-9a-fA-F:]+$' and coalesce(h.netmask, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff') ~ '^[0-9a-fA-F:]+$'
              then h.address::inet = inet '::1'
                   and coalesce(h.netmask, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')::inet = inet 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'
              else false end as local_only
  from pg_catalog.pg_hba_file_rules h
  where h.error is null and h.auth_method in ('trust', 'password', 'md5')
)
select format('%%s line %%s', coalesce(r.file_name, 'pg_hba.conf'), r.line_number) as object,
       'pg_hba.conf line' as object_type,
       concat_ws(' ', r.type, array_to_string(r.database, ','), array_to_string(r.user_name, ','),
                 r.address, r.netmask, r.auth_method) as _line,
       case r.auth_method
         when 'trust' then case when r.local_only
                                then 'any user or process on this host connects as any role, superusers included, without a password'
                                else 'any client that reaches the server from these addresses connects as any role, superusers included, without a password' end
         when 'password' then case when r.local_only
                                   then 'the password is sent in clear text (over a local connection)'
                                   when r.type = 'host' and c.ssl = 'off'
                                   then 'the password crosses the network in clear text (host line, ssl off)'
                                   when r.type = 'hostssl'
                                   then 'the password is sent in clear text inside TLS: the server, and whatever terminates TLS, sees it (scram-sha-256 never sends it)'
                                   else 'the password is sent in clear text, protected only where the connection happens to use TLS' end
         else 'md5 from the network: a hash exchange that a captured session or a stolen hash turns into a login (use scram-sha-256)'
       end as _problem,
       r.line_number, r.file_name, r.type,
       array_to_string(r.database, ',') as databases, array_to_string(r.user_name, ',') as users,
       r.address, r.netmask, r.auth_method, r.local_only,
       c.beyond_loopback as listens_beyond_loopback, c.ssl,
       null::text as remediation
from rules r cross join cfg c
where (r.auth_method = 'trust' and (not r.local_only or %(report_local_trust)s::boolean))
   or r.auth_method = 'password'
   or (r.auth_method = 'md5' and not r.local_only)
order by r.file_name nulls first, r.line_number
