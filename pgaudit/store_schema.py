"""Tables of the history store (SQLAlchemy Core). Changes here need an Alembic migration.

The migrations create tables from these definitions rather than repeating them, so a table a
migration creates here is never altered in place: a change is a new table (or a frozen copy
of the old definition moves into the migration). ``legacy`` holds the per-run tables of
stores before migration 0005, which converts them into the lifecycle tables and drops them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
legacy = MetaData()

targets = Table(
    "pgaudit_targets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("host", String(255), nullable=False),
    Column("port", String(10), nullable=False),
    Column("database", String(255), nullable=False),
    # A restored copy of the cluster has another system identifier: another target.
    Column("system_identifier", String(40), nullable=False),
    UniqueConstraint(
        "name", "host", "port", "database", "system_identifier", name="pgaudit_targets_identity_key"
    ),
)

runs = Table(
    "pgaudit_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "target_id",
        Integer,
        ForeignKey("pgaudit_targets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("generated_at", DateTime(timezone=True), nullable=False, index=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("pgaudit_version", String(40), nullable=False),
    Column("server_version", String(80), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("critical", Integer, nullable=False),
    Column("warning", Integer, nullable=False),
    Column("info", Integer, nullable=False),
    Column("ok", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    Column("schema_fingerprint", String(64), nullable=False),
    # the server settings that changed since the target's previous run (all of them in its
    # first run; a removed one is null); the run's document has them all
    Column("settings", JSON, nullable=False),
)

# the legacy tables' foreign keys name these
targets.to_metadata(legacy)
runs.to_metadata(legacy)

# Before 0005: every finding of every run, detail and evidence included.
findings = Table(
    "pgaudit_findings",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("check_id", String(100), nullable=False),
    Column("section", String(8), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("object", Text, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("index_name", Text),
    Column("fingerprint", String(32), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
)

# Before 0005: every table's size in every run.
table_sizes = Table(
    "pgaudit_table_sizes",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("relation", Text, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("row_estimate", BigInteger),
)

# Before 0005: every schema object's definition hash in every run.
schema_objects = Table(
    "pgaudit_schema_objects",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("identity", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("definition_md5", String(32), nullable=False),
)

# Before 0005: the run's JSON document (zlib-compressed), so ``pgaudit history show``
# re-renders it.
run_documents = Table(
    "pgaudit_run_documents",
    legacy,
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("encoding", String(20), nullable=False),
    Column("document", LargeBinary, nullable=False),
)

# The schema's change log: objects added, dropped or altered since the previous run, as events
# of the run that saw them (``AuditRun.changes``). Never findings: nothing here is new or
# resolved.
schema_changes = Table(
    "pgaudit_schema_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("identity", Text, nullable=False),
    Column("object", Text, nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("change", String(10), nullable=False),
    Column("previous_md5", String(32)),
    Column("current_md5", String(32)),
)

# A reviewer's sign-off of a run: who, when, and the SHA-256 of the run's JSON document as it
# was signed. A signed run is immutable: prune keeps it unless told otherwise.
signoffs = Table(
    "pgaudit_signoffs",
    metadata,
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("signed_by", String(200), nullable=False),
    Column("role", String(200)),
    Column("comment", Text),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),
)

# -- since 0005: cost follows change -------------------------------------------------------
# A nightly run that changed nothing adds its runs row, a small frame delta and nothing else.

# A finding's life on a target: the first run that saw it, the last that did and the first
# that did not (resolved). Open findings have no resolved_run, and their last_seen_run is left
# empty (it is the target's latest run): an unchanged run rewrites no lifecycle. A finding
# fixed and back later is a second lifecycle. Severity, title and detail are the latest ones,
# updated only when they change; the findings as each run reported them, evidence included,
# are in ``finding_versions``.
lifecycles = Table(
    "pgaudit_finding_lifecycles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "target_id",
        Integer,
        ForeignKey("pgaudit_targets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("fingerprint", String(32), nullable=False),
    Column("check_id", String(100), nullable=False),
    Column("section", String(8), nullable=False),
    Column("object", Text, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("index_name", Text),
    Column("severity", String(10), nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("waived", Boolean, nullable=False),
    # run ids without foreign keys: pruning a run keeps the lifecycles that outlive it
    Column("first_seen_run", Integer, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_run", Integer),
    Column("resolved_run", Integer),
    Index("ix_pgaudit_finding_lifecycles_open", "target_id", "resolved_run"),
    Index("ix_pgaudit_finding_lifecycles_first", "target_id", "first_seen_run"),
)

# A finding as a run's document has it (consolidated, ok ones too), stored once for as long as
# it stays the same: a run's frame lists the versions of its findings in order.
finding_versions = Table(
    "pgaudit_finding_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "target_id",
        Integer,
        ForeignKey("pgaudit_targets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("run_id", Integer, nullable=False),  # the first run that had it
    Column("sha1", String(40), nullable=False),
    Column("body", LargeBinary, nullable=False),  # zlib(JSON)
    Index("ix_pgaudit_finding_versions_run", "target_id", "run_id"),
)

# A run's document without its findings' contents (their version ids instead): whole (a key
# frame, base_run null) or as the edits from its target's previous run's frame
# (pgaudit.store_delta). ``depth`` counts the edits since the key frame.
run_frames = Table(
    "pgaudit_run_frames",
    metadata,
    Column(
        "run_id",
        Integer,
        ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("base_run", Integer),
    Column("depth", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),  # zlib(JSON)
)

# Table sizes as a time series of changes: a point when a table's size or row estimate
# changed (bytes null: the table went). Points older than 90 days are thinned to the last
# of each week.
size_points = Table(
    "pgaudit_size_points",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "target_id",
        Integer,
        ForeignKey("pgaudit_targets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("relation", Text, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("bytes", BigInteger),
    Column("row_estimate", BigInteger),
    Index("ix_pgaudit_size_points_target", "target_id", "run_id"),
)

# The schema objects the snapshot saw, each definition from the run that first saw it to the
# first run that did not (gone_run): what schema_drift compares the next run with.
schema_spans = Table(
    "pgaudit_schema_spans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "target_id",
        Integer,
        ForeignKey("pgaudit_targets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("identity", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("definition_md5", String(32), nullable=False),
    Column("first_run", Integer, nullable=False),
    Column("gone_run", Integer),
    Index("ix_pgaudit_schema_spans_open", "target_id", "gone_run"),
)
