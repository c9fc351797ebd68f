/* pgaudit
id = "ip_address_stored"
title = "IP addresses and user agents stored"
section = "6.1"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Tables that keep client IP addresses or user-agent strings, one finding per table: columns of type inet, and text columns named like ip, ip_address, remote_ip, last_sign_in_ip, creator_ip_addr, user_agent. cidr columns (network ranges, allow-lists) and columns named as hashed, anonymised or truncated are skipped."
why = "An IP address (with a timestamp) identifies a person under GDPR and similar laws, and a full user-agent string is a fingerprinting signal; kept without a purpose and a retention period they turn every backup into a tracking log and every breach into a notifiable one."
example = "create table contact_form (id bigint primary key, message text, ip_address inet, user_agent text, created_at timestamptz);"
fix = "update contact_form set ip_address = set_masklen(ip_address, 24)::inet, user_agent = null where created_at < now() - interval '30 days';  -- and schedule it"
ignore_when = "The addresses are needed for abuse prevention or security forensics, access to them is restricted, and a job already deletes or truncates them after a documented retention period."
references = [
  "https://www.postgresql.org/docs/current/datatype-net-types.html",
  "https://www.postgresql.org/docs/current/functions-net.html",
  "https://gdpr-info.eu/art-5-gdpr/",
]
ok = "No IP address or user-agent columns"
census = '''
exists (select 1 from census_columns c cross join lateral (select lower(regexp_replace(regexp_replace(c.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'), '_+$', '')) as norm) d
        where d.norm !~ %(exclude_pattern)s
          and (d.norm ~ %(name_pattern)s or c.atttypid = 'pg_catalog.inet'::regtype
               -- an array or a domain may hold inet: fail open
               or exists (select 1 from pg_catalog.pg_type t where t.oid = c.atttypid
                          and (t.typtype = 'd' or t.typcategory = 'A'))))'''
impact = "Privacy compliance: personal data (IP, browser fingerprint) kept without a retention limit."
message = "{object} stores {_stored} ({_column_list}) with no sign of anonymisation"
remediation = "Decide the purpose and the retention period; truncate IPs (set_masklen(ip, 24) for IPv4, /48 for IPv6) or store a keyed hash when only equality is needed; reduce user agents to browser family or drop them; and schedule a job that anonymises or deletes rows older than the retention period."

[params]
# normalized text column names (camelCase -> snake_case); the keyword must end the name
name_pattern = '(^|_)(ip|ips|ip_?addr(ess)?|ipaddress|ip_v[46]|ipv[46](_address)?|remote_addr(ess)?|client_addr(ess)?|remote_ip|client_ip|user_?agent|useragent|ua_string|browser_user_agent)$'
# words that say the value is already protected or is not a client address
exclude_pattern = '(^|_)(hash|hashed|digest|anonymi[sz]ed|anon|masked|truncated|prefix|country|city|geo|asn|allowed|permitted|trusted|whitelist|allowlist|blocklist|network|subnet|range|server|host|node|rpc|bind|listen|proxy|gateway|count|id|ids)(_|$)'
text_types = ["text", "varchar", "bpchar", "citext"]
*/
with cols as materialized (  -- in-scope columns first: the name patterns never run over system catalogs
  select c.oid, a.attnum, a.attname, a.atttypid
  from scope_tables c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where not c.relispartition
), types as materialized (  -- the few distinct column types
  select t.oid, bt.typname
  from (select distinct atttypid from cols) x
  join pg_catalog.pg_type t on t.oid = x.atttypid
  -- arrays of inet count too; domains by their base type
  join pg_catalog.pg_type et on et.oid = case when t.typelem <> 0 and t.typcategory = 'A' then t.typelem else t.oid end
  join pg_catalog.pg_type bt on bt.oid = case when et.typtype = 'd' then et.typbasetype else et.oid end
), names as materialized (  -- the name patterns once per distinct column name
  select d.attname,
         d.norm !~ %(exclude_pattern)s as kept,
         d.norm ~ %(name_pattern)s as named,
         case when d.norm ~ '(^|_)(user_?agent|useragent|ua_string)$' then 'user_agent' else 'ip_address' end as kind
  from (select x.attname,
               lower(regexp_replace(regexp_replace(x.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'),
                                    '_+$', '')) as norm
        from (select distinct attname from cols) x) d
), hits as (
  select cols.oid, cols.attnum, cols.attname, nm.kind, ty.typname
  from cols
  join types ty on ty.oid = cols.atttypid
  join names nm on nm.attname = cols.attname
  where nm.kept
    and (ty.typname = 'inet' or (ty.typname = any(%(text_types)s::text[]) and nm.named))
), per_table as (
  select oid,
         array_agg(attname::text order by attnum) as cols,
         array_agg(distinct kind order by kind) as kinds,
         jsonb_object_agg(attname, typname) as types
  from hits
  group by oid
)
select p.oid::regclass::text as object,
       'table' as object_type,
       p.cols as columns,
       p.kinds,
       p.types as column_types,
       array_to_string(array(select case k when 'ip_address' then 'client IP addresses'
                                           else 'user-agent strings' end
                             from unnest(p.kinds) k order by k), ' and ') as _stored,
       array_to_string(p.cols, ', ') as _column_list,
       null::text as remediation
from per_table p
order by 1
