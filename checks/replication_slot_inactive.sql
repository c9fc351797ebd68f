/* pgaudit
id = "replication_slot_inactive"
title = "Inactive replication slots retaining WAL"
section = "7.2"
format = 2
needs = ["catalog"]
detects = "Replication slots, cluster-wide, with no consumer connected (active = false) that retain WAL: restart_lsn set and at least min_retained_bytes behind the current WAL position, or wal_status 'unreserved' (past max_wal_size, about to be lost) or 'lost' (the consumer can no longer resume). Each finding gives the bytes retained and, where the slot holds an xmin or catalog_xmin, its age. Temporary slots are left out (they die with their session). Critical when the slot retains at least critical_retained_bytes and nothing caps it (max_slot_wal_keep_size = -1, the default: pg_wal grows until the disk is full), or when its xmin or catalog_xmin is older than critical_xmin_age transactions (vacuum cannot remove dead rows, in the catalogs too, and freezing stalls toward wraparound); a warning otherwise. Read with guards so the query runs on a primary, a standby and managed services (Aurora has no WAL position functions: the retained bytes are then unknown and only wal_status is judged)."
why = "A slot keeps every WAL segment its consumer has not confirmed, and keeps the oldest transaction id it needs, until someone drops it. When the consumer goes away (a decommissioned replica, a CDC connector removed, a backup tool uninstalled) nothing drops the slot: pg_wal grows until the disk is full and the primary stops, and vacuum cannot clean up behind the slot's xmin. It is one of the most common causes of a full disk on PostgreSQL."
example = "select pg_create_logical_replication_slot('debezium', 'pgoutput');  -- the connector was removed, the slot stayed"
fix = "select pg_drop_replication_slot('debezium');  -- once no consumer will use it again; then alter system set max_slot_wal_keep_size = '50GB';"
ignore_when = "The consumer is down briefly and known (a replica being rebuilt, a connector paused for maintenance) and the retained WAL fits the disk until it returns."
references = ["https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS", "https://www.postgresql.org/docs/current/view-pg-replication-slots.html", "https://www.postgresql.org/docs/current/runtime-config-replication.html#GUC-MAX-SLOT-WAL-KEEP-SIZE", "https://www.postgresql.org/docs/current/logicaldecoding-explanation.html#LOGICALDECODING-REPLICATION-SLOTS"]
ok = "No inactive replication slot retains WAL"
impact = "pg_wal grows until the disk is full and the server stops; vacuum cannot clean up behind the slot's xmin."
message = "{object}: inactive {slot_type} replication slot {_retains}"
ok_message = "{slots:plural:replication slot}, none inactive while retaining WAL"
remediation = "Find the slot's consumer (a replica's primary_slot_name, a CDC connector, pg_receivewal or a backup tool). If it is gone for good, drop the slot: pg_drop_replication_slot, run in the slot's own database for a logical slot. Then cap what any slot may retain with max_slot_wal_keep_size (PostgreSQL 13+; a slot past it is invalidated instead of filling the disk) and alert on pg_replication_slots.active."
replica_note = "On a standby the slots listed are the standby's own (for cascading replicas or failover slots), and WAL positions are the standby's replay position."

[severity]
default = "warning"
# nothing caps the slot and it already holds a lot: the disk fills; or vacuum is held back
critical = ["retained_bytes >= critical_retained_bytes and _unbounded", "xmin_age >= critical_xmin_age", "catalog_xmin_age >= critical_xmin_age"]
ok = ["_kind = 'summary'"]

[labels]
retained_bytes = "WAL retained"
slot_type = "Slot type"
wal_status = "WAL status"
safe_wal_size_bytes = "WAL left before the slot is invalidated"
xmin_age = "Slot xmin age (transactions)"
catalog_xmin_age = "Slot catalog_xmin age (transactions)"
inactive_since = "Inactive since"
max_slot_wal_keep_size = "max_slot_wal_keep_size"

[params]
min_retained_bytes = 1073741824
critical_retained_bytes = 10737418240
critical_xmin_age = 500000000
*/
with pos as (
  select case when to_regproc('pg_catalog.aurora_version') is not null then null  -- no WAL functions
              when pg_catalog.pg_is_in_recovery()
              then coalesce(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())
              else pg_catalog.pg_current_wal_lsn() end as lsn,
         (select s.setting from pg_catalog.pg_settings s where s.name = 'max_slot_wal_keep_size') as keep_size
), slots as (
  select s.slot_name, s.slot_type, s.database, s.plugin, s.active, s.restart_lsn,
         to_jsonb(s) ->> 'wal_status' as wal_status,
         (to_jsonb(s) ->> 'safe_wal_size')::bigint as safe_wal_size,
         to_jsonb(s) ->> 'inactive_since' as inactive_since,
         pg_catalog.age(s.xmin) as xmin_age, pg_catalog.age(s.catalog_xmin) as catalog_xmin_age,
         case when pos.lsn is not null and s.restart_lsn is not null
              then pg_catalog.pg_wal_lsn_diff(pos.lsn, s.restart_lsn)::bigint end as retained_bytes,
         pos.keep_size
  from pg_catalog.pg_replication_slots s cross join pos
  where not s.temporary
), bad as (
  select s.* from slots s
  where not s.active
    and (s.wal_status in ('lost', 'unreserved')
         or (s.restart_lsn is not null and coalesce(s.retained_bytes, 0) >= %(min_retained_bytes)s::numeric))
)
select quote_ident(b.slot_name) as object,
       'server' as object_type,
       'slot' as _kind,
       case when b.wal_status = 'lost'
            then 'whose WAL is already lost: its consumer can no longer resume from it'
            -- the bytes retained grow between two runs: evidence, not the sentence
            else concat('retaining WAL',
                        case when b.keep_size = '-1' then ', with nothing capping it (max_slot_wal_keep_size = -1)'
                             else ', up to max_slot_wal_keep_size' end,
                        case when b.xmin_age is not null or b.catalog_xmin_age is not null
                             then ', and holding back vacuum' end) end as _retains,
       b.keep_size = '-1' as _unbounded,
       b.retained_bytes, b.slot_type, b.database, b.plugin, b.wal_status,
       b.safe_wal_size as safe_wal_size_bytes, b.inactive_since, b.xmin_age, b.catalog_xmin_age,
       b.keep_size as max_slot_wal_keep_size,
       null::bigint as slots,
       case when b.slot_type = 'physical' or b.database = current_database()
            then format(E'-- only once no consumer (replica, CDC connector, backup tool) will use it again\nselect pg_catalog.pg_drop_replication_slot(%%L);',
                        b.slot_name) end as remediation
from bad b
union all
-- the 🟢 row with the count when nothing is wrong
select quote_ident(current_database()), 'database', 'summary', null, null, null, null, null, null,
       null, null, null, null, null, null, (select count(*) from slots), null
where not exists (select 1 from bad)
order by 1
