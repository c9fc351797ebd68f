/* pgaudit
id = "json_instead_of_jsonb"
title = "Columns of type json instead of jsonb"
section = "1.1"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Table columns (each partitioned table once, at its parent) of type `json` (the text-preserving type), one finding per table listing the columns."
why = "`json` is stored as text and re-parsed on every access: no GIN indexing, no containment (`@>`) or existence operators, no equality operator (so no DISTINCT, GROUP BY or UNIQUE), and slower field extraction. `jsonb` is what almost every workload wants."
example = "create table webhooks (id bigint primary key, payload json not null);"
fix = "alter table webhooks alter column payload type jsonb using payload::jsonb;"
ignore_when = "The exact input text must be kept byte for byte (signed webhook payloads verified later, duplicate keys or key order that matter), or the column is write-only archive never queried inside."
references = ["https://www.postgresql.org/docs/current/datatype-json.html", "https://www.postgresql.org/docs/current/datatype-json.html#JSON-INDEXING"]
ok = "All JSON columns are jsonb"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  select 1 from scope_tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  where not t.relispartition
    and a.atttypid in ('pg_catalog.json'::regtype, 'pg_catalog.jsonb'::regtype))'''
not_applicable = "no JSON column in scope"
census = '''
exists (select 1 from census_columns c
        where c.atttypid in ('pg_catalog.json'::regtype, 'pg_catalog.jsonb'::regtype))'''
impact = "Every read re-parses the document; the column cannot be indexed with GIN or compared, so JSON queries scan and parse whole tables."
message = "{object} stores {column_list} as json"
remediation = "Convert with ALTER COLUMN … TYPE jsonb USING …::jsonb. This REWRITES the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock: plan a maintenance window on large tables, or add a jsonb column, backfill in batches and swap. jsonb drops insignificant whitespace, duplicate keys (last wins) and key order. Views referencing the columns must be dropped and recreated; a json default keeps working through the assignment cast."

[labels]
count = "json columns"
column_list = "Columns"
estimated_rows = "Estimated rows"
rewrites_table = "The fix rewrites the table"
*/
with cols as (
  select c.oid, c.reltuples, a.attnum, a.attname
  from scope_tables c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid
  where not c.relispartition
    and a.attnum > 0 and not a.attisdropped
    and a.atttypid = 'pg_catalog.json'::regtype
)
select c.oid::regclass::text as object,
       'table' as object_type,
       array_agg(c.attname::text order by c.attnum) as columns,
       count(*) as count,
       string_agg(quote_ident(c.attname), ', ' order by c.attnum) as column_list,
       case when c.reltuples >= 0 then c.reltuples::bigint end as estimated_rows,
       true as rewrites_table,
       format('alter table %%s %%s;  -- rewrites the table: maintenance window',
              c.oid::regclass,
              string_agg(format('alter column %%1$I type jsonb using %%1$I::jsonb', c.attname),
                         ', ' order by c.attnum)) as remediation
from cols c
group by c.oid, c.reltuples
order by 1
