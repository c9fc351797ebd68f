"""History store: targets, runs, findings, table sizes, schema objects.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pgaudit_targets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.String(10), nullable=False),
        sa.Column("database", sa.String(255), nullable=False),
        sa.Column("system_identifier", sa.String(40), nullable=False),
        sa.UniqueConstraint(
            "name",
            "host",
            "port",
            "database",
            "system_identifier",
            name="pgaudit_targets_identity_key",
        ),
    )
    op.create_table(
        "pgaudit_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "target_id",
            sa.Integer,
            sa.ForeignKey("pgaudit_targets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pgaudit_version", sa.String(40), nullable=False),
        sa.Column("server_version", sa.String(80), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("critical", sa.Integer, nullable=False),
        sa.Column("warning", sa.Integer, nullable=False),
        sa.Column("info", sa.Integer, nullable=False),
        sa.Column("ok", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("resolved", sa.Integer, nullable=False),
        sa.Column("schema_fingerprint", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
    )
    op.create_index("ix_pgaudit_runs_target_id", "pgaudit_runs", ["target_id"])
    op.create_index("ix_pgaudit_runs_generated_at", "pgaudit_runs", ["generated_at"])
    op.create_table(
        "pgaudit_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("section", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("index_name", sa.Text),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_index("ix_pgaudit_findings_run_id", "pgaudit_findings", ["run_id"])
    op.create_index("ix_pgaudit_findings_fingerprint", "pgaudit_findings", ["fingerprint"])
    op.create_table(
        "pgaudit_table_sizes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("row_estimate", sa.BigInteger),
    )
    op.create_index("ix_pgaudit_table_sizes_run_id", "pgaudit_table_sizes", ["run_id"])
    op.create_table(
        "pgaudit_schema_objects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("identity", sa.Text, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("definition_md5", sa.String(32), nullable=False),
    )
    op.create_index("ix_pgaudit_schema_objects_run_id", "pgaudit_schema_objects", ["run_id"])


def downgrade() -> None:
    for table in (
        "pgaudit_schema_objects",
        "pgaudit_table_sizes",
        "pgaudit_findings",
        "pgaudit_runs",
        "pgaudit_targets",
    ):
        op.drop_table(table)
