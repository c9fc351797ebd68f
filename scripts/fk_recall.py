"""missing_foreign_key against a ground truth: recall on the corpus, precision on a sample.

    python scripts/fk_recall.py [--dsn-template 'postgresql://postgres@127.0.0.1:5432/{db}']
                                [--only NAME ...] [--sample 20] [--seed 13] [--misses] [--extras]

Recall: for each corpus database with single-column foreign keys, a scratch copy
(``create database ... template corpus_<name>``) loses every single-column foreign key (the
ground truth: which column referenced which table; a partition's own key counts once, at its
partitioned parent), is audited with ``missing_foreign_key`` alone, and a dropped key is
rediscovered when a finding names the same column and the same referenced table (a pattern
finding counts for every table it lists). The scratch copy is dropped again. The claims on the
copies are also counted by rule (the finding's matched_by): how many are dropped keys.

Precision: on the unmodified corpus databases, every relationship the check claims (one per
table and column: a pattern finding claims one per table listed) is pooled and a seeded random
sample drawn; each is judged by hand against ``../shared/corpus/<name>/schema.sql`` (JUDGED
below; a claim not judged yet is printed as such).

The check comes from the pgaudit on the path: to measure another version, run it from a
worktree (``PYTHONPATH=/tmp/mfk_old python scripts/fk_recall.py``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

import psycopg
from psycopg import sql

from pgaudit.api import load_checks
from pgaudit.engine import AuditOptions, audit
from pgaudit.resources import checks_dir

NAMES = [
    "chinook",
    "northwind",
    "pagila",
    "temporal",
    "openstreetmap",
    "flowable",
    "danbooru",
    "synapse",
    "lago",
    "musicbrainz",
]
CHECK = "missing_foreign_key"

# Hand judgments, (database, table, column, referenced table) -> (real?, why): the seeded samples
# (20 and 40) of the check before and after issue 13 and its link-table and extension-key rules,
# and every claim the reworked check adds on the unmodified corpus. A claim is real when the
# schema file (its comments, the code that writes the column, the same column's foreign key
# elsewhere) shows the column holds keys of that table.
JUDGED: dict[tuple[str, str, str, str], tuple[bool, str]] = {
    ("danbooru", "public.ai_tags", "media_asset_id", "public.media_assets"): (
        True,
        "the tagged media asset",
    ),
    ("danbooru", "public.good_job_executions", "process_id", "public.good_job_processes"): (
        True,
        "GoodJob: the worker process",
    ),
    ("danbooru", "public.pool_versions", "updater_id", "public.users"): (
        True,
        "role name: the user who made the version",
    ),
    ("danbooru", "public.post_versions", "parent_id", "public.post_versions"): (
        False,
        "copies posts.parent_id: a post, not another version",
    ),
    ("danbooru", "public.post_versions", "post_id", "public.posts"): (True, "the versioned post"),
    ("danbooru", "public.post_versions", "updater_id", "public.users"): (
        True,
        "role name: the user who made the version",
    ),
    ("danbooru", "public.reactions", "creator_id", "public.users"): (
        True,
        "role name: the user who reacted",
    ),
    (
        "flowable",
        "public.act_cmmn_deployment",
        "parent_deployment_id_",
        "public.act_cmmn_deployment",
    ): (
        False,
        "the parent deployment of another engine (the app or BPMN deployment), not this table",
    ),
    ("flowable", "public.act_cmmn_hi_case_inst", "case_def_id_", "public.act_cmmn_casedef"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_cmmn_hi_case_inst", "parent_id_", "public.act_cmmn_hi_case_inst"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_cmmn_hi_mil_inst", "case_def_id_", "public.act_cmmn_casedef"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_cmmn_hi_mil_inst", "case_inst_id_", "public.act_cmmn_hi_case_inst"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_cmmn_hi_plan_item_inst", "case_def_id_", "public.act_cmmn_casedef"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    (
        "flowable",
        "public.act_cmmn_hi_plan_item_inst",
        "case_inst_id_",
        "public.act_cmmn_hi_case_inst",
    ): (True, "Flowable keeps these unconstrained (history, runtime cleanup)"),
    ("flowable", "public.act_cmmn_ru_case_inst", "parent_id_", "public.act_cmmn_ru_case_inst"): (
        True,
        "the parent case instance",
    ),
    ("flowable", "public.act_dmn_decision", "deployment_id_", "public.act_dmn_deployment"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    (
        "flowable",
        "public.act_dmn_deployment",
        "parent_deployment_id_",
        "public.act_dmn_deployment",
    ): (
        False,
        "the parent deployment of another engine (the app or BPMN deployment), not this table",
    ),
    (
        "flowable",
        "public.act_dmn_hi_decision_execution",
        "deployment_id_",
        "public.act_dmn_deployment",
    ): (True, "Flowable keeps these unconstrained (history, runtime cleanup)"),
    ("flowable", "public.act_hi_actinst", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_attachment", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_comment", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_detail", "act_inst_id_", "public.act_hi_actinst"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_hi_detail", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_identitylink", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_taskinst", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_tsk_log", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_hi_varinst", "proc_inst_id_", "public.act_hi_procinst"): (
        True,
        "the historic process instance",
    ),
    ("flowable", "public.act_id_info", "parent_id_", "public.act_id_info"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_id_info", "user_id_", "public.act_id_user"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_id_priv_mapping", "group_id_", "public.act_id_group"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_id_priv_mapping", "user_id_", "public.act_id_user"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_id_token", "user_id_", "public.act_id_user"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_re_deployment", "parent_deployment_id_", "public.act_re_deployment"): (
        False,
        "the parent deployment of another engine (the app or BPMN deployment), not this table",
    ),
    ("flowable", "public.act_re_procdef", "deployment_id_", "public.act_re_deployment"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_ru_actinst", "execution_id_", "public.act_ru_execution"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_ru_actinst", "task_id_", "public.act_ru_task"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_ru_external_job", "execution_id_", "public.act_ru_execution"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_ru_task", "parent_task_id_", "public.act_ru_task"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.act_ru_variable", "task_id_", "public.act_ru_task"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    ("flowable", "public.flw_event_definition", "deployment_id_", "public.flw_event_deployment"): (
        True,
        "Flowable keeps these unconstrained (history, runtime cleanup)",
    ),
    (
        "flowable",
        "public.flw_event_deployment",
        "parent_deployment_id_",
        "public.flw_event_deployment",
    ): (
        False,
        "the parent deployment of another engine (the app or BPMN deployment), not this table",
    ),
    ("lago", "public.adjusted_fees", "charge_filter_id", "public.charge_filters"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.applied_coupons", "coupon_id", "public.coupons"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.applied_coupons", "customer_id", "public.customers"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.cached_aggregations", "charge_filter_id", "public.charge_filters"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.cached_aggregations", "organization_id", "public.organizations"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.coupons", "organization_id", "public.organizations"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.enriched_events", "charge_filter_id", "public.charge_filters"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.enriched_events", "organization_id", "public.organizations"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.enriched_events", "plan_id", "public.plans"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.enriched_events", "subscription_id", "public.subscriptions"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.fixed_charges", "parent_id", "public.fixed_charges"): (
        True,
        "as charges.parent_id -> charges",
    ),
    (
        "lago",
        "public.payments",
        "payment_provider_customer_id",
        "public.payment_provider_customers",
    ): (True, "Rails belongs_to without add_foreign_key"),
    ("lago", "public.quantified_events", "billable_metric_id", "public.billable_metrics"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.quantified_events", "charge_filter_id", "public.charge_filters"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.roles", "organization_id", "public.organizations"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("lago", "public.subscriptions", "previous_subscription_id", "public.subscriptions"): (
        True,
        "the subscription it replaced",
    ),
    (
        "musicbrainz",
        "musicbrainz.artist_release_group_pending_update",
        "release_group",
        "musicbrainz.release_group",
    ): (True, "a queue of ids to recompute, unconstrained so deletes need not wait"),
    (
        "musicbrainz",
        "musicbrainz.artist_release_pending_update",
        "release",
        "musicbrainz.release",
    ): (True, "a queue of ids to recompute, unconstrained so deletes need not wait"),
    (
        "musicbrainz",
        "musicbrainz.editor_subscribe_collection",
        "collection",
        "musicbrainz.editor_collection",
    ): (True, "the subscribed collection"),
    ("musicbrainz", "json_dump.area_json", "id", "musicbrainz.area"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.artist_json", "id", "musicbrainz.artist"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.event_json", "id", "musicbrainz.event"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.instrument_json", "id", "musicbrainz.instrument"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.label_json", "id", "musicbrainz.label"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.place_json", "id", "musicbrainz.place"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.recording_json", "id", "musicbrainz.recording"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.release_group_json", "id", "musicbrainz.release_group"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.release_json", "id", "musicbrainz.release"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.series_json", "id", "musicbrainz.series"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("musicbrainz", "json_dump.work_json", "id", "musicbrainz.work"): (
        True,
        "1:1 extension: the entity's JSON dump, keyed by its id (and replication_sequence)",
    ),
    ("synapse", "public.stream_ordering_to_exterm", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.batch_events", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.event_relations", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.insertion_event_extremities", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.room_memberships", "event_id", "public.events"): (
        True,
        "the membership event, keyed by event_id",
    ),
    ("synapse", "public.event_auth_chain_to_calculate", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.event_search", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.room_stats_current", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("temporal", "public.timer_tasks", "shard_id", "public.shards"): (
        True,
        "rows live in a history shard",
    ),
    ("lago", "public.payments", "customer_id", "public.customers"): (
        True,
        "Rails belongs_to without add_foreign_key",
    ),
    ("openstreetmap", "public.noticed_notifications", "event_id", "public.noticed_events"): (
        True,
        "noticed gem: the event",
    ),
    ("synapse", "public.access_tokens", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.current_state_delta_stream", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.current_state_delta_stream", "prev_event_id", "public.events"): (
        True,
        "the state event it replaced",
    ),
    ("synapse", "public.current_state_delta_stream", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.current_state_events", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.dehydrated_devices", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.device_auth_providers", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.device_inbox", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.device_lists_changes_in_room", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.device_lists_changes_in_room", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.device_lists_outbound_pokes", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.device_lists_remote_cache", "device_id", "public.devices"): (
        False,
        "remote users' devices: devices holds local ones only",
    ),
    ("synapse", "public.device_lists_stream", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.e2e_device_keys_json", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.e2e_fallback_keys_json", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.e2e_one_time_keys_json", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.e2e_room_keys", "version", "public.e2e_room_keys_versions"): (
        True,
        "the backup version",
    ),
    ("synapse", "public.event_auth", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.event_edges", "prev_event_id", "public.events"): (
        True,
        "the event's predecessor in the DAG",
    ),
    ("synapse", "public.event_forward_extremities", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.event_push_actions", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.event_push_actions_staging", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.event_push_summary", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.event_reports", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.event_search", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.federation_inbound_events_staging", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.insertion_event_edges", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.insertion_event_extremities", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.local_current_membership", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.pusher_throttle", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.receipts_linearized", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("synapse", "public.redactions", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    ("synapse", "public.refresh_tokens", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.rejections", "event_id", "public.events"): (
        True,
        "an event, keyed by event_id",
    ),
    (
        "synapse",
        "public.threepid_validation_token",
        "session_id",
        "public.threepid_validation_session",
    ): (True, "the session"),
    ("synapse", "public.user_daily_visits", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.user_ips", "device_id", "public.devices"): (
        True,
        "a local device, (user_id, device_id)",
    ),
    ("synapse", "public.users_who_share_private_rooms", "room_id", "public.rooms"): (
        True,
        "a room of this server, keyed by room_id",
    ),
    ("temporal", "public.activity_info_maps", "shard_id", "public.shards"): (
        True,
        "rows live in a history shard",
    ),
    ("temporal", "public.current_chasm_executions", "shard_id", "public.shards"): (
        True,
        "rows live in a history shard",
    ),
    ("temporal", "public.replication_tasks_dlq", "task_id", "public.replication_tasks"): (
        False,
        "a dead-letter copy of a task removed from the queue",
    ),
    ("temporal", "public.signal_info_maps", "shard_id", "public.shards"): (
        True,
        "rows live in a history shard",
    ),
    ("temporal", "public.signals_requested_sets", "shard_id", "public.shards"): (
        True,
        "rows live in a history shard",
    ),
    ("temporal", "public.transfer_tasks", "shard_id", "public.shards"): (
        True,
        "rows live in a history shard",
    ),
}

# the ground truth: every single-column foreign key, at the root of a partition tree
TRUTH_SQL = """
with recursive fk as (
  select f.oid, f.conname, f.conrelid, f.conkey[1] as att, f.confrelid, c.relispartition
  from pg_catalog.pg_constraint f
  join pg_catalog.pg_class c on c.oid = f.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where f.contype = 'f' and f.conparentid = 0 and cardinality(f.conkey) = 1
    and n.nspname not in ('pg_catalog', 'information_schema')
), up(oid, rel) as (
  select fk.oid, fk.conrelid from fk
  union all
  select up.oid, i.inhparent from up join pg_catalog.pg_inherits i on i.inhrelid = up.rel
)
select fk.conrelid::regclass::text as con_table, fk.conname,
       (select u.rel from up u where u.oid = fk.oid
        and not exists (select 1 from pg_catalog.pg_inherits i where i.inhrelid = u.rel)) as root,
       a.attname, fk.confrelid
from fk
join pg_catalog.pg_attribute a on a.attrelid = fk.conrelid and a.attnum = fk.att
order by 1, 2
"""


@dataclass(frozen=True)
class Claim:
    table: str  # regclass text
    column: str
    referenced: str  # regclass text
    severity: str
    rule: str = ""  # how the name matched (the finding's matched_by)


def claims_of(run_findings: list) -> list[Claim]:  # type: ignore[type-arg]
    out: list[Claim] = []
    for f in run_findings:
        if f.check != CHECK or f.severity == "ok" or not f.columns:
            continue
        referenced = str(f.evidence.get("referenced") or "")
        tables = f.evidence.get("tables") or [f.object]
        rule = str(f.evidence.get("matched_by") or "")
        out.extend(Claim(str(t), f.columns[0], referenced, f.severity, rule) for t in tables)
    return out


def run_check(dsn: str) -> tuple[list[Claim], float]:
    specs = load_checks()
    run = audit(dsn, [specs[CHECK]], AuditOptions(connections=1))
    result = next(c for c in run.checks if c.id == CHECK)
    if result.status == "error":
        raise RuntimeError(f"{CHECK} failed: {result.reason}")
    return claims_of(run.findings), result.duration_ms


def copy_database(admin: str, source: str, target: str) -> None:
    """``create database ... template``: fails while others are connected to the source."""
    for attempt in range(60):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("create database {} template {}").format(
                        sql.Identifier(target), sql.Identifier(source)
                    )
                )
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 59:
                raise
            time.sleep(1)


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


# per rule (matched_by), on the scratch copies: [claims, claims that are dropped keys]
RULES: dict[str, list[int]] = defaultdict(lambda: [0, 0])


def recall(template: str, name: str, show_misses: bool, show_extras: bool) -> tuple[int, int, int]:
    admin = template.format(db="postgres")
    scratch = f"fk_recall_{name}_{os.getpid()}"
    copy_database(admin, f"corpus_{name}", scratch)
    try:
        dsn = template.format(db=scratch)
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = conn.execute(TRUTH_SQL).fetchall()
            for con_table, conname, _root, _att, _ref in rows:
                conn.execute(
                    sql.SQL("alter table {} drop constraint {}").format(
                        sql.SQL(con_table), sql.Identifier(conname)
                    )
                )
            truth = {(root, att, ref) for _t, _c, root, att, ref in rows}
            if not truth:
                return 0, 0, 0
            claims, _ms = run_check(dsn)

            def oid(regclass: str) -> int | None:
                row = conn.execute("select to_regclass(%s)::oid", [regclass]).fetchone()
                return int(row[0]) if row and row[0] is not None else None

            found = {(oid(c.table), c.column, oid(c.referenced)) for c in claims}
            hit = truth & found
            for c in set(claims):
                RULES[c.rule][0] += 1
                RULES[c.rule][1] += (oid(c.table), c.column, oid(c.referenced)) in truth
            names = dict(
                conn.execute(
                    "select c.oid, c.oid::regclass::text from pg_catalog.pg_class c"
                    " where c.oid = any(%s)",
                    [[x for t in truth | found for x in (t[0], t[2]) if x is not None]],
                ).fetchall()
            )
            if show_misses:
                for rel, att, ref in sorted(truth - found, key=lambda t: (names[t[0]], t[1])):
                    print(f"  miss  {names[rel]}.{att} -> {names[ref]}")
            if show_extras:
                for rel, att, ref in sorted(
                    found - truth, key=lambda t: (str(names.get(t[0])), t[1])
                ):
                    print(f"  extra {names.get(rel)}.{att} -> {names.get(ref)}")
            return len(truth), len(hit), len(found - truth)
    finally:
        drop_database(admin, scratch)


def precision(template: str, names: list[str], sample: int, seed: int, show_all: bool) -> None:
    pool: list[tuple[str, Claim]] = []
    per_db: dict[str, int] = defaultdict(int)
    timing = ""
    for name in names:
        claims, ms = run_check(template.format(db=f"corpus_{name}"))
        per_db[name] = len(claims)
        pool.extend((name, c) for c in sorted(set(claims), key=lambda c: (c.table, c.column)))
        if name == "musicbrainz":
            timing = f"; {CHECK} on musicbrainz {ms:.0f} ms"
    print(f"claims on the unmodified corpus: {dict(per_db)}, {len(pool)} in all{timing}")
    if show_all:
        for name, c in pool:
            print(f"  claim {name}\t{c.table}\t{c.column}\t{c.referenced}\t{c.severity}")
    picked = random.Random(seed).sample(pool, min(sample, len(pool)))
    real = judged = 0
    for name, c in picked:
        verdict = JUDGED.get((name, c.table, c.column, c.referenced))
        if verdict is None:
            mark = "??? "
        else:
            judged += 1
            real += verdict[0]
            mark = "real" if verdict[0] else "NOT "
        note = f"  ({verdict[1]})" if verdict else ""
        print(f"  {mark} {name}: {c.table}.{c.column} -> {c.referenced} [{c.severity}]{note}")
    known = [
        JUDGED[(n, c.table, c.column, c.referenced)]
        for n, c in pool
        if (n, c.table, c.column, c.referenced) in JUDGED
    ]
    print(
        f"all claims: {len(known)} of {len(pool)} judged, {sum(k[0] for k in known)} of them real"
    )
    if judged:
        print(
            f"precision: {real} of {judged} judged claims are real relations"
            f" ({100 * real / judged:.0f}%), {len(picked) - judged} not judged"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn-template", default="postgresql://postgres@127.0.0.1:5432/{db}")
    ap.add_argument("--only", nargs="*", default=NAMES)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--misses", action="store_true", help="list the keys not rediscovered")
    ap.add_argument("--extras", action="store_true", help="list claims outside the ground truth")
    ap.add_argument("--no-precision", action="store_true")
    ap.add_argument("--no-recall", action="store_true")
    ap.add_argument(
        "--claims", action="store_true", help="list every claim on the unmodified corpus"
    )
    args = ap.parse_args()
    print(f"check from {checks_dir() / (CHECK + '.sql')}")
    print("| database | dropped | rediscovered | recall | other claims |")
    print("|---|---:|---:|---:|---:|")
    total = hits = others = 0
    for name in [] if args.no_recall else args.only:
        n, h, x = recall(args.dsn_template, name, args.misses, args.extras)
        if not n:
            print(f"| {name} | 0 | - | - | {x} |")
            continue
        total, hits, others = total + n, hits + h, others + x
        print(f"| {name} | {n} | {h} | {100 * h / n:.0f}% | {x} |", flush=True)
    if total:
        print(f"| **all** | {total} | {hits} | {100 * hits / total:.0f}% | {others} |")
        print("\nclaims on the copies by rule (how the name matched):")
        print("| rule | claims | dropped keys | other claims |")
        print("|---|---:|---:|---:|")
        for rule, (n, h) in sorted(RULES.items(), key=lambda kv: -kv[1][0]):
            print(f"| {rule or '(a pattern of many tables)'} | {n} | {h} | {n - h} |")
    if not args.no_precision:
        precision(args.dsn_template, args.only, args.sample, args.seed, args.claims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
