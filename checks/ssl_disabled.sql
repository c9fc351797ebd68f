/* pgaudit
id = "ssl_disabled"
title = "SSL/TLS disabled on the server"
section = "6.1"
format = 2
needs = ["catalog"]
detects = "The server setting ssl = off: no connection can be encrypted, whatever the client asks (sslmode=require fails, sslmode=prefer silently falls back to plain text). How much it matters depends on where connections come from, so the rating reads what the server shows: critical when a session is connected right now over TCP from an address other than loopback without encryption (pg_stat_ssl with pg_stat_activity; the audit's own session counts, and other roles' client addresses are visible with pg_read_all_stats), since queries, results and any cleartext or md5 password exchange cross a network in the clear; a warning when listen_addresses accepts connections beyond loopback (or cannot be read); info when the server listens only on loopback and Unix sockets, where no traffic leaves the host."
why = "Without TLS every query, every result row and the authentication exchange travel in clear text: anyone on the path (a shared VLAN, a compromised host, a cloud network tap, a proxy) reads customer data and can hijack or alter sessions. scram-sha-256 does not send the password itself, but md5 and password methods expose it to replay or outright, and nothing protects the data. Compliance regimes (PCI DSS, HIPAA, SOC 2) require encryption in transit."
example = "show ssl;  -- off"
fix = "-- server.crt and server.key in the data directory (or ssl_cert_file / ssl_key_file), then:\nalter system set ssl = on;\nselect pg_reload_conf();\n-- and hostssl instead of host in pg_hba.conf for remote clients"
ignore_when = "The server accepts connections only over Unix sockets or loopback (the application on the same host, or a TLS-terminating proxy or sidecar next to it), or every network path is already encrypted below PostgreSQL (a VPN or service mesh with mutual TLS) and that is documented."
references = ["https://www.postgresql.org/docs/current/ssl-tcp.html", "https://www.postgresql.org/docs/current/runtime-config-connection.html#RUNTIME-CONFIG-CONNECTION-SSL", "https://www.postgresql.org/docs/current/auth-pg-hba-conf.html", "https://www.postgresql.org/docs/current/libpq-ssl.html"]
ok = "SSL is enabled on the server"
impact = "Queries, results and authentication travel in clear text; anyone on the network path can read or alter them."
message = "ssl is off: {_exposure}"
remediation = "Install a certificate and key (from your CA, or a managed service's), point ssl_cert_file and ssl_key_file at them, set ssl = on and reload (no restart needed since PostgreSQL 10; the reload fails and keeps ssl off while the files are missing, and a restart would then fail, so install them first). Then require encryption for remote clients: hostssl lines in pg_hba.conf (and hostnossl ... reject), sslmode=verify-full in clients, and ssl_min_protocol_version = 'TLSv1.2' or later."

[severity]
default = "warning"
# unencrypted sessions from the network right now: data and authentication in the clear
critical = ["remote_plain_sessions > 0"]
info = ["not _beyond_loopback"]

[labels]
listen_addresses = "listen_addresses"
remote_plain_sessions = "Unencrypted sessions from non-loopback addresses now"
own_session_remote = "This audit's own session came over the network"
*/
with s as (
  select (select x.setting from pg_catalog.pg_settings x where x.name = 'ssl') as ssl,
         (select x.setting from pg_catalog.pg_settings x where x.name = 'listen_addresses') as listen
), listen as (
  select s.*,
         -- beyond loopback: any entry other than localhost, 127.x and ::1 ('' = Unix sockets only)
         coalesce(exists (select 1 from pg_catalog.regexp_split_to_table(s.listen, '\s*,\s*') a
                          where a <> '' and a not in ('localhost', '::1') and a !~ '^127\.'), true)
           as beyond_loopback
  from s
), plain as (
  select count(*) as n
  from pg_catalog.pg_stat_ssl l
  join pg_catalog.pg_stat_activity a on a.pid = l.pid
  where not l.ssl and a.client_addr is not null
    and not (a.client_addr <<= inet '127.0.0.0/8' or a.client_addr = inet '::1')
)
select 'ssl' as object,
       'setting' as object_type,
       case when plain.n > 0
            then 'sessions are connected from the network without encryption right now: their queries, results and authentication cross it in clear text'
            when l.beyond_loopback
            then format('the server listens beyond loopback (listen_addresses = %%L): connections from the network cannot be encrypted', coalesce(l.listen, 'hidden'))
            else 'no connection can be encrypted, though the server listens only on loopback and Unix sockets for now'
       end as _exposure,
       l.beyond_loopback as _beyond_loopback,
       l.listen as listen_addresses,
       plain.n as remote_plain_sessions,
       pg_catalog.inet_client_addr() is not null
         and not (pg_catalog.inet_client_addr() <<= inet '127.0.0.0/8' or pg_catalog.inet_client_addr() = inet '::1')
         as own_session_remote,
       E'-- only once server.crt and server.key are in place (ssl_cert_file, ssl_key_file): a restart fails without them\nalter system set ssl = on;\nselect pg_catalog.pg_reload_conf();' as remediation
from listen l cross join plain
where l.ssl = 'off'
