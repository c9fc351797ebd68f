"""History store: each run's JSON document, so a stored run can be re-rendered.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from pgaudit.store_schema import run_documents

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_documents.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("pgaudit_run_documents")
