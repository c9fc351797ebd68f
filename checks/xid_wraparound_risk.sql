/* pgaudit
id = "xid_wraparound_risk"
title = "Transaction ID or multixact age approaching wraparound"
section = "7.1"
severity = "critical"
needs = ["catalog"]
detects = "The current database's age(datfrozenxid) and mxid_age(datminmxid), and the tables in scope (with their TOAST table; a partitioned table once, at its parent, aged by its oldest partition) whose age(relfrozenxid) or mxid_age(relminmxid) is past a warning multiple of autovacuum_freeze_max_age / autovacuum_multixact_freeze_max_age (the per-table reloption when lower), or past a critical share of the 2^31 wraparound horizon. Only the oldest tables (top_tables) are listed individually; the database finding names the oldest relations of the whole database, system catalogs included."
why = "PostgreSQL compares transaction IDs modulo 2^32, so a row's xmin must be frozen before it is 2^31 transactions old. Anti-wraparound autovacuum starts at autovacuum_freeze_max_age; when it cannot keep up (blocked by a long transaction, an abandoned replication slot or prepared transaction, a vacuum that keeps being cancelled, or a table too large to finish), the age keeps climbing. At 40 million transactions from the horizon the server warns, and at 3 million it refuses to assign new transaction IDs: the whole cluster stops accepting writes until a manual VACUUM completes, which on a large table can take many hours."
example = "-- autovacuum cancelled for months on a busy table: select age(relfrozenxid) from pg_class where relname = 'events';  -- 1,600,000,000"
fix = "vacuum (freeze, verbose) public.events;  -- then find out what blocked autovacuum (long transactions, stale replication slots, prepared transactions)"
ignore_when = "Never for the critical level. The warning level can be expected right after a bulk load or a large import, while the anti-wraparound autovacuum that has already started is still running (see pg_stat_progress_vacuum)."
references = ["https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND", "https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-FREEZE-MAX-AGE", "https://www.postgresql.org/docs/current/sql-vacuum.html"]
ok = "Transaction ID and multixact ages are far from wraparound"
impact = "At the wraparound limit PostgreSQL stops assigning transaction IDs: every write in the cluster fails until a manual VACUUM finishes."
message = "{object}: XID age {xid_age} ({xid_share_pct} % of 2^31), multixact age {mxid_age}"
remediation = "Run the VACUUM (FREEZE) shown, oldest relations first, outside peak hours (it reads every page not already frozen and writes heavily; it takes only a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue). Then remove what held autovacuum back: long-running or idle-in-transaction sessions, stale prepared transactions (pg_prepared_xacts), inactive replication slots with an old xmin, or autovacuum_vacuum_cost_limit too low for the table's size. On a replica, run it on the primary."
replica_note = "A standby cannot vacuum: its ages are the primary's, and the remediation must run on the primary."

[params]
# warning: age past this multiple of autovacuum_freeze_max_age (anti-wraparound vacuum overdue)
warning_freeze_factor = 1.5
# critical: age past this share of the 2^31 wraparound horizon
critical_share = 0.5
top_tables = 5
*/
with cfg as (
  select current_setting('autovacuum_freeze_max_age')::numeric as freeze_max,
         current_setting('autovacuum_multixact_freeze_max_age')::numeric as mxid_freeze_max,
         2147483648::numeric as horizon
), rels as (
  -- every relation with its own frozen horizon (tables, matviews, TOAST), attributed to
  -- the table the user sees: TOAST to its owner, partitions to their root
  select c.oid, c.relkind, c.relnamespace,
         coalesce(owner.oid, c.oid) as base_oid,
         age(c.relfrozenxid)::numeric as xid_age,
         mxid_age(c.relminmxid)::numeric as mxid_age,
         case when coalesce(owner.reloptions, c.reloptions) is not null then
           (select o.option_value::numeric from pg_catalog.pg_options_to_table(coalesce(owner.reloptions, c.reloptions)) o
            where o.option_name = 'autovacuum_freeze_max_age') end as rel_freeze_max,
         case when coalesce(owner.reloptions, c.reloptions) is not null then
           (select o.option_value::numeric from pg_catalog.pg_options_to_table(coalesce(owner.reloptions, c.reloptions)) o
            where o.option_name = 'autovacuum_multixact_freeze_max_age') end as rel_mxid_freeze_max
  from pg_catalog.pg_class c
  left join pg_catalog.pg_class owner on c.relkind = 't' and owner.reltoastrelid = c.oid
  where c.relkind in ('r', 'm', 't') and c.relfrozenxid <> '0'::xid
), judged as (
  select r.*,
         least(cfg.freeze_max, coalesce(r.rel_freeze_max, cfg.freeze_max)) * %(warning_freeze_factor)s::numeric as xid_warn,
         least(cfg.mxid_freeze_max, coalesce(r.rel_mxid_freeze_max, cfg.mxid_freeze_max)) * %(warning_freeze_factor)s::numeric as mxid_warn,
         cfg.horizon * %(critical_share)s::numeric as crit
  from rels r cross join cfg
), over as (
  select j.*,
         case when j.xid_age > j.crit or j.mxid_age > j.crit then 'critical'
              when j.xid_age > j.xid_warn or j.mxid_age > j.mxid_warn then 'warning' end as sev
  from judged j
), flagged as (
  -- user tables in scope with a relation over a threshold (usually none), partitions folded
  -- into their root: only their relations are gathered below
  select distinct
         case when b.relispartition
              then (select pt.relid from pg_catalog.pg_partition_ancestors(o.base_oid) pt(relid)
                    join pg_catalog.pg_class pc on pc.oid = pt.relid
                    where not pc.relispartition limit 1)
              else o.base_oid end as top_oid
  from over o
  join pg_catalog.pg_class b on b.oid = o.base_oid
  join pg_catalog.pg_namespace n on n.oid = b.relnamespace
  where o.sev is not null
    and n.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = b.oid and d.deptype = 'e'
            and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), in_scope as (
  -- every in-scope relation of those tables: the table itself and its partition tree
  select f.top_oid, o.*
  from flagged f
  cross join lateral (select f.top_oid as relid
                      union
                      select pt.relid from pg_catalog.pg_partition_tree(f.top_oid) pt) tree
  join over o on o.base_oid = tree.relid
  join pg_catalog.pg_class b on b.oid = o.base_oid
  join pg_catalog.pg_namespace n on n.oid = b.relnamespace
  where n.nspname = any(%(schemas)s::name[])
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = b.oid and d.deptype = 'e'
            and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), tables as (
  select i.top_oid,
         max(i.xid_age) as xid_age, max(i.mxid_age) as mxid_age,
         min(i.xid_warn) as xid_warn, min(i.mxid_warn) as mxid_warn, min(i.crit) as crit,
         case when bool_or(i.sev = 'critical') then 'critical' else 'warning' end as sev,
         array_agg(distinct i.base_oid::regclass::text order by i.base_oid::regclass::text)
           filter (where i.sev is not null) as to_freeze
  from in_scope i
  group by i.top_oid
  having bool_or(i.sev is not null)
), top_tables as (
  select t.* from tables t
  order by greatest(t.xid_age / t.crit, t.mxid_age / t.crit) desc, t.top_oid
  limit %(top_tables)s::int
), db as (
  select d.datname, age(d.datfrozenxid)::numeric as xid_age, mxid_age(d.datminmxid)::numeric as mxid_age,
         cfg.freeze_max * %(warning_freeze_factor)s::numeric as xid_warn,
         cfg.mxid_freeze_max * %(warning_freeze_factor)s::numeric as mxid_warn,
         cfg.horizon * %(critical_share)s::numeric as crit, cfg.freeze_max, cfg.mxid_freeze_max
  from pg_catalog.pg_database d cross join cfg
  where d.datname = current_database()
), db_judged as (
  select db.*,
         case when db.xid_age > db.crit or db.mxid_age > db.crit then 'critical'
              when db.xid_age > db.xid_warn or db.mxid_age > db.mxid_warn then 'warning' end as sev,
         -- the relations holding the database's horizon back, system catalogs included
         (select jsonb_agg(jsonb_build_object('relation', x.base_oid::regclass::text,
                                              'xid_age', x.xid_age, 'mxid_age', x.mxid_age)
                           order by x.xid_age desc, x.base_oid)
          from (select o.base_oid, max(o.xid_age) as xid_age, max(o.mxid_age) as mxid_age
                from over o group by o.base_oid
                order by max(o.xid_age) desc, o.base_oid limit 5) x) as oldest,
         (select count(distinct o.base_oid) from over o
          where o.xid_age > least(db.xid_warn, db.crit) or o.mxid_age > least(db.mxid_warn, db.crit)) as n_over,
         (select string_agg(x.name, ', ' order by x.name)
          from (select distinct o.base_oid::regclass::text as name from over o
                where o.xid_age > least(db.xid_warn, db.crit) or o.mxid_age > least(db.mxid_warn, db.crit)) x)
           as over_list
  from db
)
select quote_ident(d.datname) as object,
       'database' as object_type,
       d.sev as severity,
       format('Database %%s: XID age %%s (%%s %%%% of the 2^31 horizon; autovacuum_freeze_max_age %%s), multixact age %%s (autovacuum_multixact_freeze_max_age %%s); %%s relation(s) over the threshold, oldest %%s',
              quote_ident(d.datname), d.xid_age, round(100 * d.xid_age / d.horizon, 2), d.freeze_max,
              d.mxid_age, d.mxid_freeze_max, d.n_over, d.oldest -> 0 ->> 'relation') as detail,
       jsonb_build_object('xid_age', d.xid_age, 'mxid_age', d.mxid_age,
                          'xid_share_pct', round(100 * d.xid_age / d.horizon, 2),
                          'xid_remaining', d.horizon - d.xid_age,
                          'autovacuum_freeze_max_age', d.freeze_max,
                          'autovacuum_multixact_freeze_max_age', d.mxid_freeze_max,
                          'warning_at', d.xid_warn, 'critical_at', d.crit,
                          'relations_over_threshold', d.n_over, 'oldest_relations', d.oldest) as evidence,
       case when d.n_over between 1 and 50
            then format('vacuum (freeze, verbose) %%s;', d.over_list)
            else 'vacuum (freeze, verbose);' end as remediation
from (select db_judged.*, 2147483648::numeric as horizon from db_judged) d
where d.sev is not null
union all
select t.top_oid::regclass::text, 'table', t.sev,
       format('%%s: XID age %%s (%%s %%%% of the 2^31 horizon, warning at %%s), multixact age %%s%%s',
              t.top_oid::regclass, t.xid_age, round(100 * t.xid_age / 2147483648, 2), t.xid_warn,
              t.mxid_age,
              case when t.to_freeze <> array[t.top_oid::regclass::text]
                   then format('; oldest partitions: %%s', array_to_string(t.to_freeze[1:10], ', ')) else '' end),
       jsonb_build_object('xid_age', t.xid_age, 'mxid_age', t.mxid_age,
                          'xid_share_pct', round(100 * t.xid_age / 2147483648, 2),
                          'warning_at', t.xid_warn, 'critical_at', t.crit,
                          'relations', to_jsonb(t.to_freeze)),
       format('vacuum (freeze, verbose) %%s;', array_to_string(t.to_freeze, ', '))
from top_tables t
union all
select quote_ident(d.datname), 'database', 'ok',
       format('XID age %%s (%%s %%%% of the 2^31 horizon, autovacuum_freeze_max_age %%s), multixact age %%s; oldest relation %%s',
              d.xid_age, round(100 * d.xid_age / 2147483648, 2), d.freeze_max, d.mxid_age,
              d.oldest -> 0 ->> 'relation'),
       jsonb_build_object('xid_age', d.xid_age, 'mxid_age', d.mxid_age, 'oldest_relations', d.oldest),
       null
from db_judged d
where d.sev is null and not exists (select 1 from top_tables)
order by 2, 1
