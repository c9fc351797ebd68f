/* pgaudit
id = "json_instead_of_jsonb"
title = "Columns of type json instead of jsonb"
section = "1.1"
format = 2
severity = "warning"
needs = ["catalog"]
detects = "Table columns (each partitioned table once, at its parent) of type `json` (the text-preserving type), one finding per table listing the columns."
why = "`json` is stored as text and re-parsed on every access: no GIN indexing, no containment (`@>`) or existence operators, no equality operator (so no DISTINCT, GROUP BY or UNIQUE), and slower field extraction. `jsonb` is what almost every workload wants."
example = "create table webhooks (id bigint primary key, payload json not null);"
fix = "alter table webhooks alter column payload type jsonb using payload::jsonb;"
ignore_when = "The exact input text must be kept byte for byte (signed webhook payloads verified later, duplicate keys or key order that matter), or the column is write-only archive never queried inside."
references = ["https://www.postgresql.org/docs/current/datatype-json.html", "https://www.postgresql.org/docs/current/datatype-json.html#JSON-INDEXING"]
ok = "All JSON columns are jsonb"
impact = "Every read re-parses the document; the column cannot be indexed with GIN or compared, so JSON queries scan and parse whole tables."
message = "{object} stores {column_list} as json"
remediation = "Convert with `alter column … type jsonb using …::jsonb`. This REWRITES the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock: plan a maintenance window on large tables, or add a jsonb column, backfill in batches and swap. jsonb drops insignificant whitespace, duplicate keys (last wins) and key order. Views referencing the columns must be dropped and recreated; a json default keeps working through the assignment cast."
*/
with cols as (
  select c.oid, a.attnum, a.attname
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  where c.relkind in ('r', 'p')
    and not c.relispartition
    and a.attnum > 0 and not a.attisdropped
    and a.atttypid = 'pg_catalog.json'::regtype
    and nsp.nspname = any(%(schemas)s::text[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
)
select c.oid::regclass::text as object,
       'table' as object_type,
       array_agg(c.attname::text order by c.attnum) as columns,
       jsonb_build_object(
         'count', count(*),
         'column_list', string_agg(quote_ident(c.attname), ', ' order by c.attnum),
         'estimated_rows', case when t.reltuples >= 0 then t.reltuples::bigint end,
         'rewrites_table', true) as evidence,
       format('alter table %%s %%s;  -- rewrites the table: maintenance window',
              c.oid::regclass,
              string_agg(format('alter column %%1$I type jsonb using %%1$I::jsonb', c.attname),
                         ', ' order by c.attnum)) as remediation
from cols c
join pg_catalog.pg_class t on t.oid = c.oid
group by c.oid, t.reltuples
order by 1
