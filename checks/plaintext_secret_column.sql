/* pgaudit
id = "plaintext_secret_column"
title = "Secrets stored in plain text"
section = "6.1"
format = 2
uses = ["scope_tables"]
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
message = "{object}.{_column} ({column_type}) is named like a {kind}, not like a hash"
ok_message = "{_what} stored as hashes: {object}.{_column}"
remediation = "Hash verification secrets in the application (passwords with bcrypt/argon2id; random tokens with SHA-256 of the token, compare hashes on use) and store only the hash, renaming the column so its content is clear. Secrets the application must present to another system cannot be hashed: encrypt them at the application level (KMS/envelope encryption) or with pgcrypto. Then invalidate the plaintext values (force token refresh/reset)."

[severity]
default = "critical"
# a secret the application may have to present elsewhere cannot be hashed and is often
# encrypted by the application under its plain name: warning until values are seen
warning = ["kind = 'secret'"]
ok = ["_hashed"]

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
  from scope_tables c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where not c.relispartition and c.oid <> all(%(locked)s::oid[])
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
), named as (  -- plain secrets (tables holding lock ids left out), and hashed ones for the 🟢 lines
  select cols.*, nm.norm, not (nm.secret and lower(cols.relname) !~ %(exclude_table_pattern)s) as hashed,
         has_column_privilege(cols.oid, cols.attnum, 'SELECT') as readable
  from cols
  join text_types tt on tt.oid = cols.atttypid
  join names nm on nm.attname = cols.attname
  where (nm.secret and lower(cols.relname) !~ %(exclude_table_pattern)s) or nm.hashed
)
select n.oid::regclass::text as object,
       'table' as object_type,
       array[n.attname::text] as columns,
       quote_ident(n.attname) as _column,
       pg_catalog.format_type(n.atttypid, n.atttypmod) as column_type,
       case when n.hashed then null  -- by the last word: a password_reset_token is a token
         when n.norm ~ '(^|_)token(_value|_plain|_plaintext|_raw)?$' then 'token'
         when n.norm ~ '(^|_)(password|passwd|passphrase|pwd)(_|$)' then 'password'
         when n.norm ~ '(^|_)(api_?key|apikey)(_|$)' then 'API key'
         when n.norm ~ '(^|_)(otp|otp_?code|one_time_?code|pin_?code)(_|$)' then 'one-time code'
         else 'secret' end as kind,
       n.hashed as _hashed,
       case when n.norm ~ '(^|_)(password|passwd|passphrase|pass|pwd)(_|$)' then 'Passwords' else 'Secrets' end as _what,
       case when n.hashed then null
            when n.readable then 'column name and type (values sampled when data reads are allowed)'
            else 'column name and type only (no SELECT privilege to sample values)' end as verdict_from,
       null::text as remediation,
       case when n.readable and not n.hashed then format(
         $probe$select (s.sampled = 0 or s.hashed + s.encrypted < s.sampled) as fires,
  jsonb_build_object('values_sampled', s.sampled, 'values_looking_hashed', s.hashed,
                     'values_looking_encrypted', s.encrypted, 'min_length', s.min_len, 'max_length', s.max_len,
                     'verdict_from', case when s.sampled = 0 then 'column name only: no non-empty value to sample'
                                          else 'column name and sampled value shapes (values not reported)' end) as evidence
from (select count(*) as sampled, count(*) filter (where v ~ %%L) as hashed,
             count(*) filter (where v !~ %%L and v ~ %%L) as encrypted,
             min(length(v)) as min_len, max(length(v)) as max_len
      from (select %%I::text as v from %%s where %%I is not null and %%I::text <> '' limit %%s) x) s$probe$,
         %(hash_shape_pattern)s::text, %(hash_shape_pattern)s::text, %(ciphertext_shape_pattern)s::text,
         n.attname, n.oid::regclass, n.attname, n.attname, %(sample_rows)s::int)
       end as probe
from named n
order by 1, 3
