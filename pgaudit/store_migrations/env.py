"""Alembic environment for the history store; always run through pgaudit.store.upgrade()."""

from __future__ import annotations

from alembic import context

from pgaudit.store_schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="pgaudit_alembic_version",
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
