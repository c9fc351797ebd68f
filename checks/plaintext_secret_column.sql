/* pgaudit
id = "plaintext_secret_column"
title = "Secrets stored in plain text"
section = "6.1"
severity = "critical"
needs = ["catalog"]
locks = true
detects = "Text columns named like a credential (password, token, refresh/reset token, api key, secret, client secret, private key, OTP) whose name does not say they hold a hash or ciphertext (password_hash, otp_hash, encrypted_password, token_digest) and that are not metadata about a secret (token_type, token_expires_at, api_key_id, api_key_last4). When data reads are allowed, a bounded sample of each candidate column (at most sample_rows non-null values) is tested for hash shapes (bcrypt, argon2, scrypt/pbkdf2/crypt, LDAP {SCHEME}, hex of 40/64/128 characters, padded base64 of a SHA-1/256/512 digest); the finding is kept when some sampled value does not look hashed or when nothing could be sampled. Only shapes and counts are reported, never values. Hashed-looking columns are listed as 🟢 lines."
why = "Whoever reads the table (a leaked backup, a replica, a read-only analyst, an SQL injection) can use a plain token or password directly: log in as the user, refresh their session, reset their password, call the API as the customer. A hashed token is useless to the reader and costs the application one SHA-256 per lookup."
example = "create table users (id bigint primary key, refresh_token varchar(255), password_reset_token varchar(255));"
fix = "alter table users rename column refresh_token to refresh_token_hash;  -- store encode(sha256(token), 'hex') written by the application; compare hashes on use"
ignore_when = "The column holds a credential the application must present to another system (a third-party client secret, an outbound API key) and the values are encrypted by the application (e.g. Rails encrypts, envelope encryption with a KMS) under a name that does not say so; or the token is single-use, short-lived and worthless once consumed."
references = [
  "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html",
  "https://cheatsheetseries.owasp.org/cheatsheets/Forgot_Password_Cheat_Sheet.html",
  "https://www.postgresql.org/docs/current/pgcrypto.html",
]
ok = "No credential-like column stored in plain text"
impact = "Anyone who can read the table (backup, replica, SQL injection) can use the credentials directly."
message = "{object}: {columns} looks like a plaintext secret"
remediation = "Hash verification secrets in the application (passwords with bcrypt/argon2id; random tokens with SHA-256 of the token, compare hashes on use) and store only the hash, renaming the column so its content is clear. Secrets the application must present to another system cannot be hashed: encrypt them at the application level (KMS/envelope encryption) or with pgcrypto. Then invalidate the plaintext values (force token refresh/reset)."

[params]
# normalized name: camelCase -> snake_case, trailing underscores dropped; the keyword must end the name
secret_pattern = '(^|_)(password|passwd|passphrase|pwd|secret|secrets|token|api_?key|apikey|private_?key|secret_?key|access_?key|signing_?key|encryption_?key|otp|otp_?code|one_time_?code|credentials?|pin_?code)(_value|_plain|_plaintext|_raw)?$'
# words that say the column holds a hash/ciphertext, or is metadata about a secret
exclude_pattern = '(^|_)(hash|hashed|hashes|digest|crypt|crypted|bcrypt|scrypt|argon2|encrypted|enc|cipher|ciphertext|salt|iv|nonce|expires|expiry|expiration|type|kind|last4|last_four|prefix|hint|length|id|ids|uuid|url|uri|name|scope|status|version|algorithm|used|sent|count|pagination|page|cursor|continuation|sync|stream|csrf|fingerprint|public|publishable)(_|$)'
# names that say "this is a hash of a secret": the 🟢 lines
hashed_pattern = '(^|_)(hash|hashed|digest|crypt|crypted|bcrypt|scrypt|argon2|encrypted)(_|$)'
hashed_subject_pattern = '(^|_)(password|passwd|passphrase|pass|pwd|token|secret|otp|api_?key|pin)(_|$)'
# tables whose "token" is a lock/lease holder id, not a credential
exclude_table_pattern = '(^|_)(locks?|leases?|mutex(es)?|semaphores?|advisory_locks?)$'
text_types = ["text", "varchar", "bpchar", "citext"]
sample_rows = 200
# one value of a hashed shape; anchored
hash_shape_pattern = '^(\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$argon2(id|i|d)\$.+|\$(1|5|6|7|y|gy|scrypt|pbkdf2[-a-z0-9]*)\$.+|(pbkdf2_sha256|pbkdf2_sha1|bcrypt_sha256|bcrypt|argon2|scrypt|sha1|sha256|md5)\$.+|SCRAM-SHA-256\$.+|\{[A-Za-z0-9-]+\}.+|md5[0-9a-f]{32}|(\\x)?[0-9a-fA-F]{40}|(\\x)?[0-9a-fA-F]{64}|(\\x)?[0-9a-fA-F]{128}|[A-Za-z0-9+/]{27}=|[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{86}==)$'
# ciphertext written by common application-level encryption (Rails encrypts, PGP armor / pgcrypto
# bytea-as-hex, Fernet, Vault transit, Laravel/JSON envelopes); anchored
ciphertext_shape_pattern = '^(\{"p":".*"h":|-----BEGIN PGP MESSAGE|\\xc30d|gAAAAA[A-Za-z0-9_-]{20,}|vault:v[0-9]+:|eyJpdiI6|eyJjaXBoZXJ0ZXh0|enc:|ENC\[)'
*/
with cols as materialized (  -- in-scope columns first: the name patterns never run over system catalogs
  select c.oid, c.relname, a.attnum, a.attname, a.atttypid, a.atttypmod
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where c.relkind in ('r', 'p')
    and not c.relispartition
    and n.nspname = any(%(schemas)s::name[])
    and c.oid <> all(%(locked)s::oid[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
            and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), text_types as materialized (  -- the few distinct column types that hold text, domains by their base type
  select t.oid
  from (select distinct atttypid from cols) x
  join pg_catalog.pg_type t on t.oid = x.atttypid
  join pg_catalog.pg_type bt on bt.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
  where bt.typname = any(%(text_types)s::text[])
), names as materialized (  -- the name patterns once per distinct column name
  select d.attname, d.norm,
         d.norm ~ %(secret_pattern)s and d.norm !~ %(exclude_pattern)s as secret,
         d.norm ~ %(hashed_pattern)s and d.norm ~ %(hashed_subject_pattern)s as hashed
  from (select x.attname,
               lower(regexp_replace(regexp_replace(x.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'),
                                    '_+$', '')) as norm
        from (select distinct cols.attname from cols join text_types tt on tt.oid = cols.atttypid) x) d
), named as (
  select cols.oid, cols.relname, cols.attnum, cols.attname,
         pg_catalog.format_type(cols.atttypid, cols.atttypmod) as coltype,
         nm.norm, nm.secret, nm.hashed
  from cols
  join text_types tt on tt.oid = cols.atttypid
  join names nm on nm.attname = cols.attname
  where nm.secret or nm.hashed
), candidates as (
  select named.*,
         case
           -- by the last word: a password_reset_token is a token, not a password
           when norm ~ '(^|_)token(_value|_plain|_plaintext|_raw)?$' then 'token'
           when norm ~ '(^|_)(password|passwd|passphrase|pwd)(_|$)' then 'password'
           when norm ~ '(^|_)(api_?key|apikey)(_|$)' then 'API key'
           when norm ~ '(^|_)(otp|otp_?code|one_time_?code|pin_?code)(_|$)' then 'one-time code'
           else 'secret'
         end as kind
  from named
  where secret
    and lower(relname) !~ %(exclude_table_pattern)s
), hashed as (
  select named.* from named
  where hashed
)
select c.oid::regclass::text as object,
       'table' as object_type,
       array[c.attname::text] as columns,
       -- a secret the application may have to present elsewhere cannot be hashed and is often
       -- encrypted by the application under its plain name: warning until values are seen
       case when c.kind = 'secret' then 'warning' else 'critical' end as severity,
       format('%%s.%%I (%%s) is named like a %%s, not like a hash: %%s',
              c.oid::regclass, c.attname, c.coltype, c.kind,
              case c.kind
                when 'password' then 'store a slow password hash (argon2id or bcrypt) computed by the application, never the password.'
                when 'secret' then 'if the application only verifies it, hash it in the application (e.g. SHA-256 of the token, compare hashes); if it must present it to another system, encrypt it in the application (KMS/envelope encryption) or with pgcrypto.'
                else 'hash the token in the application (e.g. SHA-256 of the token, compare hashes).'
              end) as detail,
       jsonb_build_object(
         'column_type', c.coltype,
         'kind', c.kind,
         'name_pattern', %(secret_pattern)s,
         'verdict_from', case when has_column_privilege(c.oid, c.attnum, 'SELECT')
                              then 'column name and type (values sampled when data reads are allowed)'
                              else 'column name and type only (no SELECT privilege to sample values)' end) as evidence,
       null::text as remediation,
       case when has_column_privilege(c.oid, c.attnum, 'SELECT') then format(
         $probe$select (s.sampled = 0 or s.hashed + s.encrypted < s.sampled) as fires,
  jsonb_build_object('values_sampled', s.sampled, 'values_looking_hashed', s.hashed,
                     'values_looking_encrypted', s.encrypted,
                     'min_length', s.min_len, 'max_length', s.max_len, 'sample_limit', %%s,
                     'verdict_from', case when s.sampled = 0 then 'column name only: no non-empty value to sample'
                                          else 'column name and sampled value shapes (values not reported)' end) as evidence
from (select count(*) as sampled, count(*) filter (where v ~ %%L) as hashed,
             count(*) filter (where v !~ %%L and v ~ %%L) as encrypted,
             min(length(v)) as min_len, max(length(v)) as max_len
      from (select %%I::text as v from %%s where %%I is not null and %%I::text <> '' limit %%s) x) s$probe$,
         %(sample_rows)s::int, %(hash_shape_pattern)s::text, %(hash_shape_pattern)s::text,
         %(ciphertext_shape_pattern)s::text, c.attname, c.oid::regclass,
         c.attname, c.attname, %(sample_rows)s::int)
       end as probe
from candidates c
union all
select h.oid::regclass::text, 'table', array[h.attname::text], 'ok',
       format('%%s stored as hashes: %%s.%%I',
              case when h.norm ~ '(^|_)(password|passwd|passphrase|pass|pwd)(_|$)' then 'Passwords'
                   else 'Secrets' end,
              h.oid::regclass, h.attname),
       jsonb_build_object('column_type', h.coltype, 'name_pattern', %(hashed_pattern)s),
       null, null
from hashed h
order by 1, 3
