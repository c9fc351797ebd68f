"""History store: targets, runs, findings, table sizes, schema objects.

Revision ID: 0001
Revises:
"""

from alembic import op

from pgaudit.store_schema import findings, runs, schema_objects, table_sizes, targets

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The tables as store_schema defines them (with their indexes): none is altered in place.
TABLES = (targets, runs, findings, table_sizes, schema_objects)


def upgrade() -> None:
    for table in TABLES:
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table.name)
