/* pgaudit
id = "timestamp_without_time_zone"
title = "Columns of type timestamp without time zone or timetz"
section = "1.1"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "Table columns (each partitioned table once, at its parent) of type `timestamp without time zone` or `time with time zone`, one finding per table listing the columns."
why = "`timestamp` stores a wall-clock reading with no zone: the same instant is written differently by clients in different time zones, comparisons across DST changes are wrong, and `now()` is silently converted using the session's TimeZone. `timetz` cannot handle DST at all and the PostgreSQL docs discourage it."
example = "create table events (id bigint primary key, created_at timestamp not null default now());"
fix = "alter table events alter column created_at type timestamptz using created_at at time zone 'UTC';"
ignore_when = "The column deliberately stores a local civil time that must not move with the zone (an appointment in the customer's own zone stored beside a zone name column), or a date-time with no zone semantics at all."
references = ["https://www.postgresql.org/docs/current/datatype-datetime.html", "https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29"]
ok = "All timestamp columns are timestamptz"
# nothing to judge (no row, and this is false): not applicable, no 🟢 line
applies = '''
exists (
  select 1 from scope_tables t
  join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  where not t.relispartition
    and a.atttypid in ('pg_catalog.timestamp'::regtype, 'pg_catalog.timestamptz'::regtype,
                       'pg_catalog.timetz'::regtype))'''
not_applicable = "no timestamp column in scope"
impact = "Instants recorded ambiguously: wrong ordering and arithmetic across time zones and DST changes, and conversion bugs between application servers."
message = "{object} has {count:plural:column} without time zone: {column_list}"
remediation = "Convert to timestamptz, stating the zone the existing values were written in (UTC below; use the application's zone if it wrote local times). The type change REWRITES the table and its indexes under an ACCESS EXCLUSIVE lock: plan a maintenance window on large tables, or add a new timestamptz column, backfill it in batches and swap. Views that reference the columns must be dropped and recreated. `timetz` columns have no timestamptz equivalent: store a timestamptz, or a `time` plus a zone name column. Columns of the partition key cannot be altered (no SQL is given): create a new partitioned table with timestamptz and move the data. Columns named like calendar dates that never hold a time of day are better converted to `date`."

[labels]
count = "Columns without time zone"
column_list = "Columns"
timestamp_columns = "timestamp columns"
timetz_columns = "timetz columns"
estimated_rows = "Estimated rows"
date_named_columns = "Named like calendar dates (date may fit)"
partition_key_columns = "In the partition key (cannot be altered)"
rewrites_table = "The fix rewrites the table"

[params]
# columns named like calendar dates: the evidence suggests `date` rather than timestamptz
date_name_pattern = "(^|_)(date|day|dob|birthday)$|^birth|_on$"
*/
with cols as (
  select c.oid, c.reltuples, a.attnum, a.attname, a.atttypid,
         format_type(a.atttypid, a.atttypmod) as coltype,
         exists (select 1 from pg_catalog.pg_partitioned_table pt
                 where pt.partrelid = c.oid and a.attnum = any(pt.partattrs::int2[])) as partkey
  from scope_tables c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid
  where not c.relispartition
    and a.attnum > 0 and not a.attisdropped
    and a.atttypid in ('pg_catalog.timestamp'::regtype, 'pg_catalog.timetz'::regtype)
)
select c.oid::regclass::text as object,
       'table' as object_type,
       array_agg(c.attname::text order by c.attnum) as columns,
       count(*) as count,
       string_agg(format('%%I %%s', c.attname, c.coltype), ', ' order by c.attnum) as column_list,
       count(*) filter (where c.atttypid = 'pg_catalog.timestamp'::regtype) as timestamp_columns,
       count(*) filter (where c.atttypid = 'pg_catalog.timetz'::regtype) as timetz_columns,
       case when c.reltuples >= 0 then c.reltuples::bigint end as estimated_rows,
       coalesce(array_agg(c.attname::text order by c.attnum)
                filter (where c.attname ~* %(date_name_pattern)s), '{}') as date_named_columns,
       coalesce(array_agg(c.attname::text order by c.attnum) filter (where c.partkey), '{}')
         as partition_key_columns,
       true as rewrites_table,
       case when bool_and(c.atttypid = 'pg_catalog.timestamp'::regtype and not c.partkey) then
         format('alter table %%s %%s;  -- rewrites the table: maintenance window',
                c.oid::regclass,
                string_agg(format('alter column %%1$I type timestamptz using %%1$I at time zone %%2$L',
                                  c.attname, 'UTC'), ', ' order by c.attnum))
       end as remediation
from cols c
group by c.oid, c.reltuples
order by 1
