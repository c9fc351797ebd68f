"""History store: reviewers' sign-offs of runs.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from pgaudit.store_schema import signoffs

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the table as store_schema defines it: a table no later migration alters
    signoffs.create(op.get_bind())


def downgrade() -> None:
    op.drop_table("pgaudit_signoffs")
