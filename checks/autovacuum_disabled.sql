/* pgaudit
id = "autovacuum_disabled"
title = "Autovacuum disabled"
section = "3.3"
format = 2
uses = ["scope_relations"]
needs = ["catalog"]
detects = "Tables and materialized views with the storage parameter autovacuum_enabled = false (or toast.autovacuum_enabled = false on their TOAST table), and the server-wide setting autovacuum = off (critical: nothing is vacuumed automatically). Each partition carries its own setting and is reported on its own."
why = "Without autovacuum nothing removes dead rows, refreshes planner statistics, sets visibility-map bits for index-only scans, or freezes old transaction ids: tables and indexes bloat, plans go wrong, and the database finally stops accepting writes to avoid transaction-id wraparound (anti-wraparound vacuums still run, at the worst moment)."
example = "alter table events set (autovacuum_enabled = false);  -- set during a bulk load and never reset"
fix = "alter table events reset (autovacuum_enabled);"
ignore_when = "Short-lived staging tables that are truncated or dropped after each load, or tables vacuumed by a scheduled job that is monitored (and the job's existence is documented)."
references = ["https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM", "https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS", "https://www.postgresql.org/docs/current/runtime-config-autovacuum.html"]
ok = "Autovacuum is enabled on the server and on every table"
impact = "Dead rows and stale statistics accumulate; bloat, bad plans and eventually transaction-id wraparound."
message = "{object}: {_problem}"
remediation = "Reset the storage parameter so the table follows the server's autovacuum settings (tune autovacuum_vacuum_scale_factor / cost limits on the table instead of disabling it). For the server setting, set autovacuum = on (postgresql.conf or ALTER SYSTEM) and reload; it needs no restart."

[severity]
default = "warning"
# nothing vacuums any table: bloat, stale plans, wraparound shutdown
critical = ["_server_wide"]

[labels]
reloptions = "Storage parameters"
toast_reloptions = "TOAST storage parameters"
pages = "Heap pages"
relfrozenxid_age = "Age of relfrozenxid (transactions)"

[params]
server_setting = true
*/
with rel as (
  select c.oid, c.relkind,
         exists (select 1 from unnest(c.reloptions) o
                 where o ~* '^autovacuum_enabled=(f|fa|fal|fals|false|n|no|of|off|0)$') as heap_off,
         exists (select 1 from pg_catalog.pg_class t cross join unnest(t.reloptions) o
                 where t.oid = c.reltoastrelid
                   and t.reloptions is not null   -- cheap: most toast tables have none
                   and o ~* '^autovacuum_enabled=(f|fa|fal|fals|false|n|no|of|off|0)$') as toast_off
  -- scope_relations carries reloptions and reltoastrelid: no pg_class self-join (a second
  -- pg_class scan and a hash join); the final join to pg_class touches only the candidates
  from scope_relations c
  where c.relkind in ('r', 'm')
)
select r.oid::regclass::text as object,
       'table' as object_type,
       case when r.heap_off and r.toast_off then 'autovacuum_enabled and toast.autovacuum_enabled are false'
            when r.heap_off then 'autovacuum_enabled is false'
            else 'toast.autovacuum_enabled is false' end as _problem,
       false as _server_wide,
       c.reloptions,
       (select t.reloptions from pg_catalog.pg_class t where t.oid = c.reltoastrelid) as toast_reloptions,
       case when c.reltuples >= 0 then c.reltuples::bigint end as estimated_rows,
       c.relpages as pages,
       pg_catalog.age(c.relfrozenxid) as relfrozenxid_age,
       null::text as setting_source,
       format('%%s %%s reset (%%s);',
              case when r.relkind = 'm' then 'alter materialized view' else 'alter table' end,
              r.oid::regclass,
              concat_ws(', ', case when r.heap_off then 'autovacuum_enabled' end,
                              case when r.toast_off then 'toast.autovacuum_enabled' end)) as remediation
from rel r
join pg_catalog.pg_class c on c.oid = r.oid
where r.heap_off or r.toast_off
union all
select 'autovacuum', 'setting',
       'off server-wide: no table is vacuumed or analyzed automatically (set it on, then reload; no restart)',
       true, null, null, null, null, null,
       x.s ->> 'source',
       'alter system set autovacuum = on;'
from (select %(session_settings)s::jsonb -> 'autovacuum' as s) x
where %(server_setting)s::boolean and x.s ->> 'setting' = 'off'
order by 1
