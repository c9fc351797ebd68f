/* pgaudit
id = "pii_column_plaintext"
title = "Personal data stored in plain text"
section = "6.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
locks = true
detects = "Tables holding personal data in readable columns, one finding per table: e-mail, phone, person names (first/last/full/contact name; a bare name only beside an e-mail or phone column, as in a contact form, and not in account tables where it is a username), postal address, birth date, national identifiers (SSN, national id, passport, tax id, driver's licence) and bank/card numbers, matched by column name on text, date and numeric types. Columns whose name says they are hashed, encrypted or masked are skipped, as are bytea columns (ciphertext). Names alone never make a critical: for tables with national-identifier or bank/card columns, a bounded sample of their values (at most sample_rows non-empty values among the first scan_rows rows) is tested for the shape of a real identifier (card numbers: 13-19 digits passing the Luhn check; IBANs; account numbers: 6-34 digits; national identifiers: 5-20 letters and digits with at least 4 digits, not masked); only counts are reported, never values. Severity: critical when sampled values have that shape (breach-notifiable on their own; PCI DSS requires card numbers unreadable), outside business tables; warning otherwise, including identifier columns judged by name only (no rows, --no-data, no SELECT privilege), with what to verify; info when the only personal column is an e-mail address (usually the login identifier, which must stay readable: protect it with privileges and retention instead) or when the table describes organisations or places (business_table_pattern: business contact data)."
why = "Personal data in plain columns is exposed to every role, backup, replica and log that can read the table; GDPR-style rules ask for minimisation, protection and a retention period, and a breach of identifiers or card numbers must be notified."
example = "create table contact_form (id bigint primary key, name text, email text, phone text, message text, created_at timestamptz);"
fix = "alter table contact_form add column phone_encrypted bytea;  -- pgp_sym_encrypt(phone, key) from the application, then drop phone; and delete rows after the retention period"
ignore_when = "The data is needed in clear for the product (a CRM's contact list, a shipping address read by the warehouse) and access is already restricted by column privileges, views or RLS, with a retention policy in place."
references = [
  "https://www.postgresql.org/docs/current/encryption-options.html",
  "https://www.postgresql.org/docs/current/pgcrypto.html",
  "https://gdpr-info.eu/art-32-gdpr/",
  "https://cheatsheetseries.owasp.org/cheatsheets/Cryptographic_Storage_Cheat_Sheet.html",
]
ok = "No personal-data columns stored in plain text"
census = '''
exists (select 1 from census_columns c cross join lateral (select lower(regexp_replace(regexp_replace(c.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'), '_+$', '')) as norm) d
        where d.norm ~ %(email_pattern)s or d.norm ~ %(phone_pattern)s or d.norm ~ %(name_pattern)s
           or d.norm ~ %(address_pattern)s or d.norm ~ %(birth_pattern)s
           or d.norm ~ %(national_id_pattern)s or d.norm ~ %(financial_pattern)s
           or d.norm ~ %(bare_name_pattern)s)'''
impact = "GDPR/compliance risk: personal data readable by every role, backup and replica that can read the table."
message = "{object} stores personal data in plain text: {_cols} ({categories}); {_judged}"
remediation = "Keep only what the product needs; encrypt identifiers and other sensitive fields at the application level (or with pgcrypto pgp_sym_encrypt, keys outside the database); restrict the remaining clear columns with column privileges or a view; delete or anonymise rows after a retention period (e.g. contact-form submissions after 90 days)."

[severity]
default = "warning"
# evidence, not names: sampled values shaped like real identifiers or card numbers
critical = ["identifier_values > 0 and not _business_table"]
info = ["_email_only", "_business_table"]

[labels]
columns_by_category = "Columns by category"
identifier_values = "Sampled values shaped like identifiers"
values_sampled = "Identifier values sampled"

[params]
# normalized name (camelCase -> snake_case, trailing underscores dropped) per category; anchored at the end
email_pattern = '(^|_)e_?mail(_address|_addr)?$'
phone_pattern = '(^|_)(phone|mobile|telephone|tel|cellphone|cell_phone|msisdn|fax)(_number|_no|_num)?$'
name_pattern = '(^|_)(first|last|full|given|family|middle|maiden|legal|contact)_?name$|^(surname|forename|firstname|lastname|fullname)$'
address_pattern = '(^|_)(address|street|street_address|address_line_?[0-9]*|address[0-9]|postal_code|zip_code|zipcode|postcode)$'
birth_pattern = '(^|_)(birth_?date|date_of_birth|dob|birthday|birth_day|born_on)$'
national_id_pattern = '(^|_)(ssn|social_security(_number|_no)?|national_id(_number|_no)?|national_insurance(_number)?|nin|passport(_number|_no)?|tax_id(_number)?|tax_number|drivers?_licen[cs]e(_number|_no)?|id_card(_number|_no)?|personal_id_number)$'
financial_pattern = '(^|_)(iban|bank_account(_number|_no)?|account_number|card_number|credit_card(_number)?|routing_number|sort_code)$'
# addresses that are not postal addresses, and names that say the value is protected
exclude_pattern = '(^|_)(ip|mac|wallet|web|url|remote|server|host|rpc|grpc|broadcast|listen|bind|node|peer|socket|smtp|endpoint|network|bitcoin|btc|eth|contract|hash|hashed|digest|encrypted|enc|cipher|masked|mask|last4|last_four|hint|domain|template|format|verified|confirmed|type|status|id|ids|count)(_|$)'
# a person's name only when the table also holds an e-mail or phone column
bare_name_pattern = '^(name|sender_name|submitter_name|customer_name|client_name)$'
# account tables: their bare "name" is a username, not a person's name
account_table_pattern = '(^|_)(users?|editors?|accounts?|members?|logins?)$'
# tables of organisations, businesses and places: their contact data is mostly not personal (info)
business_table_pattern = '(^|_)(organi[sz]ations?|orgs?|compan(y|ies)|shippers?|suppliers?|vendors?|places?|venues?|stores?|shops?|warehouses?|branch(es)?|offices?|locations?|billing_entities|merchants?|tenants?|labels?|businesses)$'
# a bare "address" column in these tables holds an e-mail address
email_table_pattern = '(e_?mail|threepid)'
# financial columns holding card numbers (Luhn-checked) and IBANs; the others are account numbers
card_pattern = '(^|_)(card|credit_card)(_number|_no)?$'
iban_pattern = '(^|_)iban$'
# rows read per table (its first rows), and the non-empty identifier values tested among them
scan_rows = 10000
sample_rows = 200
*/
with cols as materialized (  -- in-scope columns first: the name patterns never run over system catalogs
  select c.oid, a.attnum, a.attname, lower(c.relname) as tname, a.atttypid
  from scope_tables c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where not c.relispartition and c.oid <> all(%(locked)s::oid[])
), types as materialized (  -- the few distinct column types, domains by their base type
  select t.oid, bt.typcategory as cat, bt.typname
  from (select distinct atttypid from cols) x
  join pg_catalog.pg_type t on t.oid = x.atttypid
  join pg_catalog.pg_type bt on bt.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
), names as materialized (  -- the name patterns once per distinct column name
  select d.attname, d.norm,
         -- the exclusions name metadata (email_id, address_type); a national_id or tax_id is no such
         d.norm ~ %(exclude_pattern)s and d.norm !~ %(national_id_pattern)s as excluded,
         d.norm ~ %(email_pattern)s as email,
         d.norm ~ '^(normalized_)?address$' as bare_address,
         d.norm ~ %(birth_pattern)s as birth,
         d.norm ~ %(national_id_pattern)s or d.norm ~ %(financial_pattern)s
           or d.norm ~ %(phone_pattern)s as number_like,
         case
           when d.norm ~ %(national_id_pattern)s then 'national_id'
           when d.norm ~ %(financial_pattern)s then 'financial'
           when d.norm ~ %(birth_pattern)s then 'birth_date'
           when d.norm ~ %(phone_pattern)s then 'phone'
           when d.norm ~ %(name_pattern)s then 'name'
           when d.norm ~ %(address_pattern)s then 'address'
           when d.norm ~ %(bare_name_pattern)s then 'bare_name'
         end as other_category,
         -- how an identifier column's values are tested
         case when d.norm ~ %(card_pattern)s then 'card' when d.norm ~ %(iban_pattern)s then 'iban'
              when d.norm ~ %(financial_pattern)s then 'account' else 'national_id' end as shape
  from (select x.attname,
               lower(regexp_replace(regexp_replace(x.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g'),
                                    '_+$', '')) as norm
        from (select distinct attname from cols) x) d
), classified as (
  select cols.oid, cols.attnum, cols.attname, cols.tname, nm.shape,
         case
           when nm.email then 'email'
           when nm.bare_address and cols.tname ~ %(email_table_pattern)s then 'email'
           else nm.other_category
         end as category
  from cols
  join types ty on ty.oid = cols.atttypid
  join names nm on nm.attname = cols.attname
  where not nm.excluded
    -- text for everything; dates for birth dates; numbers for identifiers and phones
    and (ty.cat = 'S' or ty.typname = 'citext'
         or (ty.cat = 'D' and nm.birth)
         or (ty.cat = 'N' and nm.number_like))
), contact as (
  -- a bare "name" is a person's name only beside an e-mail or phone column (a contact form)
  select oid, attnum, attname, tname, shape,
         case when category = 'bare_name' then 'name' else category end as category
  from (select cl.*, bool_or(category in ('email', 'phone')) over (partition by oid) as has_contact
        from classified cl where category is not null) x
  where category <> 'bare_name' or (has_contact and tname !~ %(account_table_pattern)s)
), per_table as (
  select oid, min(tname) as tname,
         array_agg(attname::text order by attnum) as cols,
         array_agg(distinct category order by category) as categories,
         jsonb_object_agg(attname, category) as by_column,
         -- the identifier columns whose values can earn a critical
         string_agg(quote_ident(attname), ', ' order by attnum)
           filter (where category in ('national_id', 'financial')) as id_cols,
         string_agg(quote_ident(attname), ', ' order by attnum)
           filter (where category in ('national_id', 'financial')) as id_select,
         string_agg(quote_literal(shape), ', ' order by attnum)
           filter (where category in ('national_id', 'financial')) as id_shapes,
         string_agg(format('r.%%I::text', attname), ', ' order by attnum)
           filter (where category in ('national_id', 'financial')) as id_values,
         bool_and(has_column_privilege(oid, attnum, 'SELECT'))
           filter (where category in ('national_id', 'financial')) as id_readable
  from contact
  group by oid
)
select p.oid::regclass::text as object,
       'table' as object_type,
       p.cols as columns, p.cols as _cols,
       p.categories,
       p.by_column as columns_by_category,
       p.categories = array['email'] as _email_only,
       p.tname ~ %(business_table_pattern)s as _business_table,
       case when p.id_cols is null
            then 'judged by column names: verify which of them the product needs in clear, who can read them and for how long'
            else format('judged by column names only (%%s): verify whether %%s hold real identifiers in clear',
                        case when not %(allow_data)s then 'data reads are disabled (--no-data)'
                             when not p.id_readable then 'the audit role may not read them'
                             else 'values not sampled' end,
                        p.id_cols) end as _judged,
       null::text as remediation,
       case when p.id_cols is not null and p.id_readable and %(allow_data)s then format(
         $probe$select true as fires,
  jsonb_build_object('values_sampled', s.sampled, 'identifier_values', s.shaped,
    '_judged', case when s.sampled = 0 then %%L when s.shaped > 0 then %%L else %%L end) as evidence
from (select count(*) as sampled,
             count(*) filter (where case x.shape
               when 'card' then case when x.v ~ '^[0-9]{13,19}$' then
                 (select mod(sum(case when mod(length(x.v) - i, 2) = 1
                                      then (substr(x.v, i, 1)::int * 2) / 10 + mod(substr(x.v, i, 1)::int * 2, 10)
                                      else substr(x.v, i, 1)::int end), 10) = 0
                  from generate_series(1, length(x.v)) i) else false end
               when 'iban' then upper(x.v) ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$'
               when 'account' then x.v ~ '^[0-9]{6,34}$' and x.v !~ '^(.)\1*$'
               else x.v ~ '^[A-Za-z0-9]{5,20}$' and x.v ~ '([0-9][^0-9]*){4}' and x.v !~ '^(.)\1*$'
                    and x.v !~* '(x{3}|\*)'
             end) as shaped
      from (select u.shape, regexp_replace(u.v, '[[:space:]./-]', '', 'g') as v
            from (select %%s from %%s limit %%s) r
            cross join lateral unnest(array[%%s], array[%%s]) u(shape, v)
            where u.v is not null and u.v <> '' limit %%s) x) s$probe$,
         format('no value of %%s to sample, so it is judged by column names only: verify whether they hold real identifiers in clear', p.id_cols),
         format('sampled values of %%s have the shape of real identifiers or card numbers (values not reported)', p.id_cols),
         format('no sampled value of %%s has the shape of a real identifier or card number (masked, hashed or encrypted?): verify that none is kept in clear', p.id_cols),
         p.id_select, p.oid::regclass, %(scan_rows)s::int, p.id_shapes, p.id_values, %(sample_rows)s::int)
       end as probe
from per_table p
order by 1
