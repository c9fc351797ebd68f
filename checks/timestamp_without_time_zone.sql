/* pgaudit
id = "timestamp_without_time_zone"
title = "Columns of type timestamp without time zone or timetz"
section = "1.1"
severity = "warning"
needs = ["catalog"]
detects = "Table columns (each partitioned table once, at its parent) of type `timestamp without time zone` or `time with time zone`, one finding per table listing the columns."
why = "`timestamp` stores a wall-clock reading with no zone: the same instant is written differently by clients in different time zones, comparisons across DST changes are wrong, and `now()` is silently converted using the session's TimeZone. `timetz` cannot handle DST at all and the PostgreSQL docs discourage it."
example = "create table events (id bigint primary key, created_at timestamp not null default now());"
fix = "alter table events alter column created_at type timestamptz using created_at at time zone 'UTC';"
ignore_when = "The column deliberately stores a local civil time that must not move with the zone (an appointment in the customer's own zone stored beside a zone name column), or a date-time with no zone semantics at all."
references = ["https://www.postgresql.org/docs/current/datatype-datetime.html", "https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29"]
ok = "All timestamp columns are timestamptz"
impact = "Instants recorded ambiguously: wrong ordering and arithmetic across time zones and DST changes, and conversion bugs between application servers."
message = "{object} has {count} column(s) without time zone: {column_list}"
remediation = "Convert to timestamptz, stating the zone the existing values were written in (UTC below; use the application's zone if it wrote local times). The type change REWRITES the table and its indexes under an ACCESS EXCLUSIVE lock: plan a maintenance window on large tables, or add a new timestamptz column, backfill it in batches and swap. Views that reference the columns must be dropped and recreated. `timetz` columns have no timestamptz equivalent: store a timestamptz, or a `time` plus a zone name column."

[params]
# columns named like calendar dates: the detail suggests `date` rather than timestamptz
date_name_pattern = "(^|_)(date|day|dob|birthday)$|^birth|_on$"
*/
with cols as (
  select c.oid, a.attnum, a.attname, a.atttypid,
         format_type(a.atttypid, a.atttypmod) as coltype,
         exists (select 1 from pg_catalog.pg_partitioned_table pt
                 where pt.partrelid = c.oid and a.attnum = any(pt.partattrs::int2[])) as partkey
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  where c.relkind in ('r', 'p')
    and not c.relispartition
    and a.attnum > 0 and not a.attisdropped
    and a.atttypid in ('pg_catalog.timestamp'::regtype, 'pg_catalog.timetz'::regtype)
    and nsp.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
)
select c.oid::regclass::text as object,
       'table' as object_type,
       array_agg(c.attname::text order by c.attnum) as columns,
       jsonb_build_object(
         'count', count(*),
         'column_list', string_agg(format('%%I %%s', c.attname, c.coltype), ', ' order by c.attnum),
         'timestamp_columns', count(*) filter (where c.atttypid = 'pg_catalog.timestamp'::regtype),
         'timetz_columns', count(*) filter (where c.atttypid = 'pg_catalog.timetz'::regtype),
         'estimated_rows', case when t.reltuples >= 0 then t.reltuples::bigint end,
         'date_named_columns', coalesce(array_agg(c.attname::text order by c.attnum)
                                filter (where c.attname ~* %(date_name_pattern)s), '{}'),
         'rewrites_table', true) as evidence,
       case when bool_and(c.atttypid = 'pg_catalog.timestamp'::regtype and not c.partkey) then
         format('alter table %%s %%s;  -- rewrites the table: maintenance window',
                c.oid::regclass,
                string_agg(format('alter column %%1$I type timestamptz using %%1$I at time zone %%2$L',
                                  c.attname, 'UTC'), ', ' order by c.attnum))
       end as remediation,
       format('%%s has %%s column(s) without time zone: %%s.', c.oid::regclass, count(*),
              string_agg(format('%%I %%s', c.attname, c.coltype), ', ' order by c.attnum))
       || coalesce(' ' || string_agg(quote_ident(c.attname), ', ' order by c.attnum)
                    filter (where c.atttypid = 'pg_catalog.timestamp'::regtype
                              and c.attname ~* %(date_name_pattern)s)
                  || ' are named like calendar dates: if they never hold a time of day, convert them to date instead.', '')
       || case when bool_or(c.atttypid = 'pg_catalog.timetz'::regtype) then
            ' timetz cannot be converted mechanically: store a timestamptz, or a time plus a zone name; convert the timestamp columns with ALTER COLUMN … TYPE timestamptz USING … AT TIME ZONE ''UTC'' (rewrites the table).'
          else ' The conversion rewrites the table under an ACCESS EXCLUSIVE lock.' end
       || coalesce(' ' || string_agg(quote_ident(c.attname), ', ' order by c.attnum) filter (where c.partkey)
                   || ' belong(s) to the partition key and cannot be altered: create a new partitioned table with timestamptz and move the data.', '') as detail
from cols c
join pg_catalog.pg_class t on t.oid = c.oid
group by c.oid, t.reltuples
order by 1
