"""History store: each run's JSON document, so a stored run can be re-rendered.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pgaudit_run_documents",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("pgaudit_runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("encoding", sa.String(20), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pgaudit_run_documents")
