/* pgaudit
id = "autovacuum_disabled"
title = "Autovacuum disabled"
section = "3.3"
severity = "warning"
needs = ["catalog"]
detects = "Tables and materialized views with the storage parameter autovacuum_enabled = false (or toast.autovacuum_enabled = false on their TOAST table), and the server-wide setting autovacuum = off (critical: nothing is vacuumed automatically). Each partition carries its own setting and is reported on its own."
why = "Without autovacuum nothing removes dead rows, refreshes planner statistics, sets visibility-map bits for index-only scans, or freezes old transaction ids: tables and indexes bloat, plans go wrong, and the database finally stops accepting writes to avoid transaction-id wraparound (anti-wraparound vacuums still run, at the worst moment)."
example = "alter table events set (autovacuum_enabled = false);  -- set during a bulk load and never reset"
fix = "alter table events reset (autovacuum_enabled);"
ignore_when = "Short-lived staging tables that are truncated or dropped after each load, or tables vacuumed by a scheduled job that is monitored (and the job's existence is documented)."
references = ["https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM", "https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS", "https://www.postgresql.org/docs/current/runtime-config-autovacuum.html"]
ok = "Autovacuum is enabled on the server and on every table"
impact = "Dead rows and stale statistics accumulate; bloat, bad plans and eventually transaction-id wraparound."
message = "{object}: {problem}"
remediation = "Reset the storage parameter so the table follows the server's autovacuum settings (tune autovacuum_vacuum_scale_factor / cost limits on the table instead of disabling it). For the server setting, set autovacuum = on (postgresql.conf or ALTER SYSTEM) and reload; it needs no restart."
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
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  where c.relkind in ('r', 'm')
    and nsp.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
)
select r.oid::regclass::text as object,
       'table' as object_type,
       case when r.heap_off and r.toast_off then 'autovacuum_enabled and toast.autovacuum_enabled are false'
            when r.heap_off then 'autovacuum_enabled is false'
            else 'toast.autovacuum_enabled is false' end as problem,
       jsonb_build_object(
         'reloptions', c.reloptions,
         'toast_reloptions', (select t.reloptions from pg_catalog.pg_class t where t.oid = c.reltoastrelid),
         'estimated_rows', case when c.reltuples >= 0 then c.reltuples::bigint end,
         'pages', c.relpages,
         'relfrozenxid_age', case when c.relkind in ('r', 'm') then pg_catalog.age(c.relfrozenxid) end) as evidence,
       format('%%s %%s reset (%%s);',
              case when r.relkind = 'm' then 'alter materialized view' else 'alter table' end,
              r.oid::regclass,
              concat_ws(', ', case when r.heap_off then 'autovacuum_enabled' end,
                              case when r.toast_off then 'toast.autovacuum_enabled' end)) as remediation,
       null::text as detail,
       null::text as severity
from rel r
join pg_catalog.pg_class c on c.oid = r.oid
where r.heap_off or r.toast_off
union all
select 'autovacuum', 'setting',
       'the server setting autovacuum is off',
       jsonb_build_object('setting', s ->> 'setting', 'source', s ->> 'source', 'boot_val', s ->> 'boot_val'),
       'alter system set autovacuum = on;',
       format('The server runs with autovacuum = off (source: %%s): no table is vacuumed or analyzed automatically. Set it on in postgresql.conf or with ALTER SYSTEM SET autovacuum = on, then SELECT pg_reload_conf() (no restart).',
              s ->> 'source'),
       'critical'   -- nothing vacuums any table: bloat, stale plans, wraparound shutdown
from (select %(session_settings)s::jsonb -> 'autovacuum' as s) x
where %(server_setting)s::boolean and x.s ->> 'setting' = 'off'
order by 1
