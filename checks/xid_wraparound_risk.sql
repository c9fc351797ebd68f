/* pgaudit
id = "xid_wraparound_risk"
title = "Transaction ID or multixact age approaching wraparound"
section = "7.1"
format = 2
uses = ["scope_relations"]
needs = ["catalog"]
detects = "The current database's age(datfrozenxid) and mxid_age(datminmxid), and the tables in scope (with their TOAST table; a partitioned table once, at its parent, aged by its oldest partition) whose age(relfrozenxid) or mxid_age(relminmxid) is past a warning multiple of autovacuum_freeze_max_age / autovacuum_multixact_freeze_max_age (the per-table reloption when lower), or past a critical share of the 2^31 wraparound horizon. Only the oldest tables (top_tables) are listed individually; the database finding names the oldest relations of the whole database, system catalogs included."
why = "PostgreSQL compares transaction IDs modulo 2^32, so a row's xmin must be frozen before it is 2^31 transactions old. Anti-wraparound autovacuum starts at autovacuum_freeze_max_age; when it cannot keep up (blocked by a long transaction, an abandoned replication slot or prepared transaction, a vacuum that keeps being cancelled, or a table too large to finish), the age keeps climbing. At 40 million transactions from the horizon the server warns, and at 3 million it refuses to assign new transaction IDs: the whole cluster stops accepting writes until a manual VACUUM completes, which on a large table can take many hours."
example = "-- autovacuum cancelled for months on a busy table: select age(relfrozenxid) from pg_class where relname = 'events';  -- 1,600,000,000"
fix = "vacuum (freeze, verbose) public.events;  -- then find out what blocked autovacuum (long transactions, stale replication slots, prepared transactions)"
ignore_when = "Never for the critical level. The warning level can be expected right after a bulk load or a large import, while the anti-wraparound autovacuum that has already started is still running (see pg_stat_progress_vacuum)."
references = ["https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND", "https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-FREEZE-MAX-AGE", "https://www.postgresql.org/docs/current/sql-vacuum.html"]
ok = "Transaction ID and multixact ages are far from wraparound"
impact = "At the wraparound limit PostgreSQL stops assigning transaction IDs: every write in the cluster fails until a manual VACUUM finishes."
message = "{object}: transaction ID or multixact age past the anti-wraparound threshold ({relations_over_threshold:plural:relation} over it, the oldest {oldest_relation})"
ok_message = "Transaction ID and multixact ages are far from wraparound: each at most {_age_share} of the 2-billion limit"
remediation = "Run the VACUUM (FREEZE) shown, oldest relations first, outside peak hours (it reads every page not already frozen and writes heavily; it takes only a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue). Then remove what held autovacuum back: long-running or idle-in-transaction sessions, stale prepared transactions (pg_prepared_xacts), inactive replication slots with an old xmin, or autovacuum_vacuum_cost_limit too low for the table's size. On a replica, run it on the primary."
replica_note = "A standby cannot vacuum: its ages are the primary's, and the remediation must run on the primary."

[severity]
default = "critical"
# thresholds per row: autovacuum_freeze_max_age (or a lower reloption) x warning_freeze_factor; critical_share of 2^31
critical = ["xid_age > _critical_at", "mxid_age > _critical_at"]
warning = ["xid_age > _xid_warning_at", "mxid_age > _mxid_warning_at"]
ok = ["xid_age <= _xid_warning_at and mxid_age <= _mxid_warning_at"]
[labels]
relations = "Relations to freeze"
oldest_relations = "Oldest relations of the database (system catalogs included)"
[params]
warning_freeze_factor = 1.5  # warning: age past this multiple of autovacuum_freeze_max_age (anti-wraparound vacuum overdue)
critical_share = 0.5  # critical: age past this share of the 2^31 wraparound horizon
top_tables = 5
*/
with recursive cfg as (
  select current_setting('autovacuum_freeze_max_age')::numeric as freeze_max,
         current_setting('autovacuum_multixact_freeze_max_age')::numeric as mxid_freeze_max,
         %(warning_freeze_factor)s::numeric as f, 2147483648 * %(critical_share)s::numeric as crit
), rels as (
  -- every relation with its own frozen horizon (tables, matviews, TOAST), attributed to the table the user sees:
  -- TOAST to its owner (partitions to their root below)
  select coalesce(owner.oid, c.oid) as base_oid, cfg.crit,
         age(c.relfrozenxid)::numeric as xid_age, mxid_age(c.relminmxid)::numeric as mxid_age,
         least(cfg.freeze_max, coalesce(o.freeze_max, cfg.freeze_max)) * cfg.f as xid_warn,
         least(cfg.mxid_freeze_max, coalesce(o.mxid_freeze_max, cfg.mxid_freeze_max)) * cfg.f as mxid_warn
  from pg_catalog.pg_class c cross join cfg
  left join pg_catalog.pg_class owner on c.relkind = 't' and owner.reltoastrelid = c.oid
  left join lateral (
    select max(x.option_value::numeric) filter (where x.option_name = 'autovacuum_freeze_max_age') as freeze_max,
           max(x.option_value::numeric) filter (where x.option_name = 'autovacuum_multixact_freeze_max_age') as mxid_freeze_max
    from pg_catalog.pg_options_to_table(coalesce(owner.reloptions, c.reloptions)) x
    where coalesce(owner.reloptions, c.reloptions) is not null) o on true
  where c.relkind in ('r', 'm', 't') and c.relfrozenxid <> '0'::xid
), over as (
  select r.*, r.xid_age > least(r.xid_warn, r.crit) or r.mxid_age > least(r.mxid_warn, r.crit) as over from rels r
), tree (top_oid, relid) as (
  -- in-scope tables with a relation over a threshold (usually none), partitions folded into their root, then every
  -- relation of their partition tree through pg_inherits
  select distinct r.top, r.top from over o join scope_relations b on b.oid = o.base_oid
  cross join lateral (select case when b.relispartition then pg_catalog.pg_partition_root(b.oid) else b.oid end as top) r
  where o.over
  union
  select t.top_oid, i.inhrelid from tree t
  join pg_catalog.pg_class pc on pc.oid = t.relid and pc.relkind = 'p'  -- partitions, not inheritance
  join pg_catalog.pg_inherits i on i.inhparent = t.relid
), tables as (
  select t.top_oid, max(o.xid_age) as xid_age, max(o.mxid_age) as mxid_age,
         min(o.xid_warn) as xid_warn, min(o.mxid_warn) as mxid_warn, min(o.crit) as crit,
         array_agg(distinct o.base_oid::regclass::text order by o.base_oid::regclass::text)
           filter (where o.over) as to_freeze,
         (array_agg(o.base_oid::regclass::text order by o.xid_age desc, o.base_oid) filter (where o.over))[1] as oldest
  from tree t join over o on o.base_oid = t.relid join scope_relations b on b.oid = o.base_oid
  group by t.top_oid having bool_or(o.over)
), db as (
  select d.datname, a.*, n.*, cfg.freeze_max, cfg.mxid_freeze_max,
         a.xid_age > least(a.xid_warn, a.crit) or a.mxid_age > least(a.mxid_warn, a.crit) as over,
         -- the relations holding the database's horizon back, system catalogs included
         (select jsonb_agg(jsonb_build_object('relation', x.base_oid::regclass::text, 'xid_age', x.xid_age, 'mxid_age', x.mxid_age)
                           order by x.xid_age desc, x.base_oid)
          from (select o.base_oid, max(o.xid_age) as xid_age, max(o.mxid_age) as mxid_age from over o group by o.base_oid
                order by max(o.xid_age) desc, o.base_oid limit 5) x) as oldest
  from pg_catalog.pg_database d cross join cfg
  cross join lateral (select age(d.datfrozenxid)::numeric as xid_age, mxid_age(d.datminmxid)::numeric as mxid_age,
                             cfg.freeze_max * cfg.f as xid_warn, cfg.mxid_freeze_max * cfg.f as mxid_warn, cfg.crit) a
  cross join lateral (
    select count(*) as n_over, string_agg(r.name, ', ' order by r.name) as over_list
    from (select distinct o.base_oid::regclass::text as name from over o
          where o.xid_age > least(a.xid_warn, a.crit) or o.mxid_age > least(a.mxid_warn, a.crit)) r) n
  where d.datname = current_database()
)
-- the database: over a threshold, or the 🟢 row when no table is
select quote_ident(d.datname) as object, 'database' as object_type,
       d.xid_age::bigint as xid_age, d.mxid_age::bigint as mxid_age,
       d.n_over as relations_over_threshold, d.oldest -> 0 ->> 'relation' as oldest_relation,
       null::text[] as relations, d.oldest as oldest_relations,
       d.freeze_max::bigint as autovacuum_freeze_max_age, d.mxid_freeze_max::bigint as autovacuum_multixact_freeze_max_age,
       d.xid_warn::float8 as _xid_warning_at, d.mxid_warn::float8 as _mxid_warning_at, d.crit::float8 as _critical_at,
       -- the 🟢 line's measure: a share of the horizon, never a system catalog's name
       -- rounded up to a tenth of a percent: "at most" stays true
       (ceil(1000 * greatest(d.xid_age, d.mxid_age, 1) / 2147483648) / 10)::numeric(5, 1) || '%%' as _age_share,
       case when not d.over then null
            when d.n_over between 1 and 50 then format('vacuum (freeze, verbose) %%s;', d.over_list)
            else 'vacuum (freeze, verbose);' end as remediation
from db d
where d.over or not exists (select 1 from tables)
union all
-- the oldest tables in scope
select t.top_oid::regclass::text, 'table', t.xid_age::bigint, t.mxid_age::bigint,
       cardinality(t.to_freeze), t.oldest, t.to_freeze, null, null, null,
       t.xid_warn::float8, t.mxid_warn::float8, t.crit::float8, null,
       format('vacuum (freeze, verbose) %%s;', array_to_string(t.to_freeze, ', '))
from (select * from tables order by greatest(xid_age / crit, mxid_age / crit) desc, top_oid limit %(top_tables)s::int) t
order by 2, 1
