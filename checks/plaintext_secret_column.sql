/* pgaudit
id = "plaintext_secret_column"
title = "Secrets stored in plain text"
section = "6.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
locks = true
detects = "Text columns that hold a credential, judged by their values, not their names. Candidates are columns named like a credential (password, token, refresh/access/reset token, API key, secret, client secret, private key, PIN, OTP, reset/verification/confirmation/auth codes), not metadata about one (token_type, token_expires_at, api_key_id, api_key_last4, push/device tokens), and also columns whose name says they hold a hash (password_hash, otp_hash, token_digest): the name is trusted neither way. When data reads are allowed, a bounded sample of each candidate (at most sample_rows non-empty values among the first scan_rows rows) is classified by shape; only shapes, counts and lengths are reported, never values. Severity: critical when sampled values are in clear (not a known hash format such as bcrypt $2a$/$2b$/$2y$, argon2, crypt $1$/$5$/$6$/$y$, scrypt, pbkdf2, sha256$, LDAP {SSHA}; not ciphertext; not hex or base64 of a digest's length), whatever the column's name: a password_hash holding 'pw1' is a plaintext password. Warning when the values are hex of 32/40/64/128 characters or base64 of a 20/32/48/64-byte digest (a digest and a random token look the same: verify that the application stores a digest), and when nothing could be sampled (no rows, --no-data, no SELECT privilege): a verdict from the name alone, which says what to verify. Info when the table has encryption columns beside it (<column>_encrypted, encrypted_<column>, <column>_iv, <column>_nonce, encryption_key_id): encrypted at the application level. Columns whose values are in a hash or ciphertext format, or whose name says hash and nothing contradicts it, are listed as 🟢 lines."
why = "Whoever reads the table (a leaked backup, a replica, a read-only analyst, an SQL injection) can use a plain token or password directly: log in as the user, refresh their session, reset their password, call the API as the customer. A hashed token is useless to the reader and costs the application one SHA-256 per lookup."
example = "create table users (id bigint primary key, refresh_token varchar(255), password_reset_token varchar(255));"
fix = "alter table users rename column refresh_token to refresh_token_hash;  -- store encode(sha256(token), 'hex') written by the application; compare hashes on use"
ignore_when = "The column holds a credential the application must present to another system (a third-party client secret, an outbound API key) and the values are encrypted by the application in a format this check does not recognise; or the token is single-use, short-lived and worthless once consumed."
references = [
  "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html",
  "https://cheatsheetseries.owasp.org/cheatsheets/Forgot_Password_Cheat_Sheet.html",
  "https://www.postgresql.org/docs/current/pgcrypto.html",
]
ok = "No credential-like column stored in plain text"
census = '''
exists (select 1 from census_columns c cross join lateral (select lower(regexp_replace(regexp_replace(c.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'), '_+$', '')) as norm) d
        where (d.norm ~ %(secret_pattern)s and d.norm !~ %(exclude_pattern)s)
           or (d.norm ~ %(hashed_pattern)s and d.norm ~ %(hashed_subject_pattern)s))'''
impact = "Anyone who can read the table (backup, replica, SQL injection) can use the credentials directly."
message = "{object}.{_column} ({column_type}) is named like {_a_kind}: {_verdict}"
ok_message = "{_what} not stored in clear: {object}.{_column} ({_ok_basis})"
remediation = "Hash verification secrets in the application (passwords with bcrypt/argon2id; random tokens with SHA-256 of the token, compare hashes on use) and store only the hash, renaming the column so its content is clear. Secrets the application must present to another system cannot be hashed: encrypt them at the application level (KMS/envelope encryption) or with pgcrypto. Then invalidate the plaintext values (force token refresh/reset)."

[severity]
default = "warning"
# values seen in clear: the credential itself is stored
critical = ["value_shape = 'clear' and not encrypted_sibling"]
# encryption columns beside it: encrypted at the application level, info at most
info = [
  "encrypted_sibling and value_shape = 'clear'",
  "encrypted_sibling and not _named_hashed and value_shape != 'hash format' and value_shape != 'ciphertext'",
]
# values in a hash or ciphertext format; or named as a hash with nothing to contradict it
ok = ["value_shape = 'hash format'", "value_shape = 'ciphertext'", "_named_hashed"]

[labels]
column_type = "Column type"
kind = "Named like"
encrypted_sibling = "Encryption columns beside it"
value_shape = "Sampled values"
values_sampled = "Values sampled"
clear_pct = "Sampled values in clear"
value_lengths = "Value lengths (characters)"

[params]
# normalized name: camelCase -> snake_case, trailing underscores dropped; the keyword must end the name
secret_pattern = '(^|_)(password|passwd|passphrase|pwd|secret|secrets|token|api_?key|apikey|api_?secret|private_?key|secret_?key|access_?key|signing_?key|encryption_?key|otp|otp_?code|one_time_?code|one_time_?password|credentials?|pin|pin_?number|(reset|recovery|verification|verify|confirmation|confirm|activation|auth|authorization|authentication|login|magic|unlock|mfa|two_factor|2fa|sms|security|access|backup|totp)_?codes?)(_value|_plain|_plaintext|_raw)?$'
# words that say the column holds a hash/ciphertext, or is metadata about a secret, or is a push/device token
exclude_pattern = '(^|_)(hash|hashed|hashes|digest|crypt|crypted|bcrypt|scrypt|argon2|encrypted|enc|cipher|ciphertext|salt|iv|nonce|expires|expiry|expiration|type|kind|last4|last_four|prefix|hint|length|id|ids|uuid|url|uri|name|scope|status|version|algorithm|used|sent|count|pagination|page|cursor|continuation|sync|stream|csrf|fingerprint|public|publishable|device|push|fcm|apns|gcm|firebase|webpush)(_|$)'
# names that say "this is a hash of a secret": judged by their values too (a password_hash may hold passwords)
hashed_pattern = '(^|_)(hash|hashed|digest|crypt|crypted|bcrypt|scrypt|argon2|encrypted)(_|$)'
hashed_subject_pattern = '(^|_)(password|passwd|passphrase|pass|pwd|token|secret|otp|api_?key|pin|(reset|recovery|verification|confirmation|activation|auth|backup|login|unlock|sms|mfa)_?codes?)(_|$)'
# tables whose "token" is a lock/lease holder id, not a credential
exclude_table_pattern = '(^|_)(locks?|leases?|mutex(es)?|semaphores?|advisory_locks?)$'
# encryption columns beside a candidate: <column><suffix>, <prefix><column>, or a table-wide key/IV column
sibling_suffixes = ["_encrypted", "_enc", "_ciphertext", "_iv", "_nonce", "_encryption_key_id"]
sibling_prefixes = ["encrypted_"]
encryption_column_pattern = '^(encryption_key_id|encryption_key_version|encryption_iv|encryption_nonce|iv|kms_key_id|data_key_id|dek_id)$'
text_types = ["text", "varchar", "bpchar", "citext"]
# rows read per column (first rows of the table), and the non-empty values classified among them
scan_rows = 10000
sample_rows = 200
# a value in a known password/secret hash format; anchored
hash_format_pattern = '^(\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{50,}|\$argon2(id|i|d)\$.+|\$(1|5|6|7|y|gy|sha1|md5|scrypt|pbkdf2[-a-z0-9]*|S|P|H)\$.+|(pbkdf2_sha256|pbkdf2_sha1|bcrypt_sha256|bcrypt|argon2|scrypt|sha1|sha256|sha512|md5|crypt)\$.+|(pbkdf2|scrypt):[a-z0-9:]+\$.+|SCRAM-SHA-256\$.+|\{[A-Za-z0-9-]+\}.+|md5[0-9a-f]{32}|AQAAAA[A-Za-z0-9+/]{60,}={0,2})$'
# ciphertext written by common application-level encryption (Rails encrypts, PGP armor / pgcrypto
# bytea-as-hex, Fernet, Vault transit, Laravel/JSON envelopes); anchored
ciphertext_shape_pattern = '^(\{"p":".*"h":|-----BEGIN PGP MESSAGE|\\xc30d|gAAAAA[A-Za-z0-9_-]{20,}|vault:v[0-9]+:|eyJpdiI6|eyJjaXBoZXJ0ZXh0|enc:|ENC\[)'
# a digest's length: hex of 16/20/32/64 bytes, base64 (standard or URL-safe) of 20/32/48/64 bytes;
# a random token of that length looks the same; anchored
digest_shape_pattern = '^((\\x)?([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})|[A-Za-z0-9+/_-]{27}=?|[A-Za-z0-9+/_-]{43}=?|[A-Za-z0-9+/_-]{64}|[A-Za-z0-9+/_-]{86}(==)?)$'
# values that disable a credential rather than hold one (Django's unusable "!…", a locked "*"); case-insensitive
placeholder_pattern = '^(!.*|\*+|-+|x|none|null|n/a|disabled|locked|invalid|unusable|redacted|\[redacted\]|\[filtered\])$'
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
), named as materialized (  -- plain-named secrets (tables holding lock ids left out) and hash-named ones
  select cols.*, nm.norm, not (nm.secret and lower(cols.relname) !~ %(exclude_table_pattern)s) as hashed,
         has_column_privilege(cols.oid, cols.attnum, 'SELECT') as readable
  from cols
  join text_types tt on tt.oid = cols.atttypid
  join names nm on nm.attname = cols.attname
  where (nm.secret and lower(cols.relname) !~ %(exclude_table_pattern)s) or nm.hashed
), siblings as (  -- encryption columns beside a candidate, in the candidates' tables only
  select n.oid, n.attnum, string_agg(s.attname::text, ', ' order by s.attnum) as names
  from named n
  join cols s on s.oid = n.oid and s.attnum <> n.attnum
  cross join lateral (
    select lower(regexp_replace(regexp_replace(s.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'),
                                '_+$', '')) as norm) sn
  where sn.norm ~ %(encryption_column_pattern)s
     or sn.norm in (select n.norm || x from unnest(%(sibling_suffixes)s::text[]) x
                    union all
                    select x || n.norm from unnest(%(sibling_prefixes)s::text[]) x)
  group by n.oid, n.attnum
), judged as (
  select n.*, sib.names as sibling,
         case  -- by the last word: a password_reset_token is a token, a passwd_reset_code a reset code
           when n.norm ~ '(^|_)tokens?(_value|_plain|_plaintext|_raw)?$' then 'token'
           when n.norm ~ '(^|_)(reset|recovery)_?codes?$' then 'reset code'
           when n.norm ~ '(^|_)pin(_?number)?$' then 'PIN'
           when n.norm ~ '(^|_)(codes?|pin|pin_?number|otp|one_time_?password)(_value|_plain|_plaintext|_raw)?$' then 'one-time code'
           when n.norm ~ '(^|_)(password|passwd|passphrase|pwd|pass)(_|$)' then 'password'
           when n.norm ~ '(^|_)tokens?(_|$)' then 'token'
           when n.norm ~ '(^|_)(api_?key|apikey)(_|$)' then 'API key'
           when n.norm ~ '(^|_)(otp|codes?|pin)(_|$)' then 'one-time code'
           else 'secret' end as kind,
         case when not %(allow_data)s then 'data reads are disabled (--no-data)'
              when not n.readable then 'the audit role may not read it (no SELECT privilege)' end as unsampled
  from named n
  left join siblings sib on sib.oid = n.oid and sib.attnum = n.attnum
), worded as (  -- the sentences of each verdict; the probe picks one by the values' shape
  select j.*,
         case when j.sibling is not null then format('the table has encryption columns beside it (%%s), so it is taken as encrypted at the application level: verify that this column holds ciphertext, not a clear copy', j.sibling) end as v_sibling,
         case when j.hashed
              then format('named as a hash, but sampled values are in clear (no hash or ciphertext format): the %%ss themselves are stored', j.kind)
              else format('sampled values are in clear (no hash or ciphertext format): the %%ss themselves are stored', j.kind) end as v_clear,
         format('sampled values are hex or base64 of a digest''s length, which random tokens have too: verify that the application stores a digest of the %%s (compared on use), not the %%s itself', j.kind, j.kind) as v_digest,
         format('judged by its name alone: verify that the application stores a hash (or ciphertext) of the %%s, not the %%s itself', j.kind, j.kind) as v_name
  from judged j
)
select w.oid::regclass::text as object,
       'table' as object_type,
       array[w.attname::text] as columns,
       quote_ident(w.attname) as _column,
       pg_catalog.format_type(w.atttypid, w.atttypmod) as column_type,
       w.kind,
       case when w.kind ~ '^[AEIOU]' then 'an ' else 'a ' end || w.kind as _a_kind,
       w.hashed as _named_hashed,
       w.sibling as encrypted_sibling,
       'not sampled'::text as value_shape,  -- the probe replaces it with the sampled values' shape
       case when w.sibling is not null then coalesce(w.unsampled, 'values not sampled') || '; ' || w.v_sibling
            else coalesce(w.unsampled, 'values not sampled') || ', so it is ' || w.v_name end as _verdict,
       'named as a hash; values not sampled' as _ok_basis,
       case when w.norm ~ '(^|_)(password|passwd|passphrase|pass|pwd)(_|$)' then 'Passwords' else 'Secrets' end as _what,
       null::text as remediation,
       case when w.readable and %(allow_data)s then format(
         $probe$select true as fires,
  jsonb_build_object('value_shape', k.shape, 'values_sampled', s.sampled,
    'clear_pct', case when s.sampled > 0 then round(100.0 * s.clear / s.sampled, 1) end,
    'value_lengths', case when s.min_len = s.max_len then s.min_len::text else s.min_len || '-' || s.max_len end,
    '_verdict', case k.shape when 'clear' then %%L when 'digest-shaped' then %%L when 'no values' then %%L else '' end,
    '_ok_basis', case k.shape when 'hash format' then 'sampled values are in a hash format'
                              when 'ciphertext' then 'sampled values are ciphertext'
                              when 'digest-shaped' then 'named as a hash; sampled values are digest-shaped'
                              else 'named as a hash; no value to sample' end) as evidence
from (select count(*) as sampled, count(*) filter (where y.cls = 'c') as clear,
             count(*) filter (where y.cls = 'd') as digest, count(*) filter (where y.cls = 'e') as cipher,
             min(y.len) as min_len, max(y.len) as max_len
      from (select case when x.v ~ %%L then 'h' when x.v ~ %%L then 'e' when x.v ~* %%L then 'p'
                        when x.v ~ %%L then 'd' else 'c' end as cls,
                   length(x.v) as len
            from (select r.v from (select %%I::text as v from %%s limit %%s) r
                  where r.v is not null and r.v <> '' limit %%s) x) y) s
cross join lateral (select case when s.sampled = 0 then 'no values' when s.clear > 0 then 'clear'
                                when s.digest > 0 then 'digest-shaped' when s.cipher > 0 then 'ciphertext'
                                else 'hash format' end as shape) k$probe$,
         coalesce('sampled values look like clear text, but ' || w.v_sibling, w.v_clear),
         coalesce(w.v_sibling, w.v_digest),
         coalesce('no non-empty value to sample; ' || w.v_sibling,
                  'no non-empty value to sample, so it is ' || w.v_name),
         %(hash_format_pattern)s::text, %(ciphertext_shape_pattern)s::text,
         %(placeholder_pattern)s::text, %(digest_shape_pattern)s::text,
         w.attname, w.oid::regclass, %(scan_rows)s::int, %(sample_rows)s::int)
       end as probe
from worded w
-- plain-named candidates first: they get the probe budget (max_probes) before hash-named ones
order by w.hashed, 1, 3
