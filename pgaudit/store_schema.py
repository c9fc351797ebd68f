"""Tables of the history store (SQLAlchemy Core). Changes here need an Alembic migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

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
    Column("settings", JSON, nullable=False),
)

findings = Table(
    "pgaudit_findings",
    metadata,
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

table_sizes = Table(
    "pgaudit_table_sizes",
    metadata,
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

schema_objects = Table(
    "pgaudit_schema_objects",
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
    Column("kind", String(40), nullable=False),
    Column("definition_md5", String(32), nullable=False),
)

# The run's JSON document (zlib-compressed), so ``pgaudit history show`` re-renders it. Its
# ``history`` block is rebuilt from the store as of that run when it is read back.
run_documents = Table(
    "pgaudit_run_documents",
    metadata,
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
