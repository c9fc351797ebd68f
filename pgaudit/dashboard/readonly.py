"""Open a history store for the dashboard without ever writing to it.

``Store()`` creates or upgrades the store's tables (the nightly writer wants that); the
dashboard must not. So the store's Alembic revision is read first, over a read-only
connection: a store missing, empty or older than this pgaudit is an error saying what to do,
and ``Store()`` is only called on a store already at the head revision, where its upgrade has
nothing to do. A PostgreSQL store is then opened with ``default_transaction_read_only`` in
every session; a SQLite store's file must already exist, and it is read over ``mode=ro``
connections.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pgaudit.dsn import redact_text
from pgaudit.errors import PgauditError

if TYPE_CHECKING:
    from pgaudit.store import Store

READ_ONLY_OPTION = "-c default_transaction_read_only=on"
VERSION_TABLE = "pgaudit_alembic_version"  # as pgaudit/store_migrations/env.py names it
HINT = ("the dashboard opens the store read-only and never creates or upgrades it: record a run "
        "into it (pgaudit audit --store URL) or run pgaudit history --store URL once with this "
        "version")


def open_read_only(url: str) -> Store:
    """The store at ``url``, opened so that nothing can write to it (PgauditError otherwise)."""
    from pgaudit.store import Store, normalise_url

    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise PgauditError(f"invalid store URL: {redact_text(url)}") from None
    display = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if "options" in parsed.query:
            raise PgauditError("the store URL sets options: the dashboard sets its own "
                               "(default_transaction_read_only); leave them out")
        url = parsed.update_query_dict({"options": READ_ONLY_OPTION}).render_as_string(
            hide_password=False)
    elif backend != "sqlite":
        raise PgauditError(f"the history store must be SQLite or PostgreSQL, not {backend}")
    _require_head(_probe_engine(url, parsed), display)
    store = Store(url)  # at the head revision: its upgrade reads the version and stops
    # pages and messages name the store as given, not with the option added here
    store.display = display
    if backend == "sqlite":
        # The store's own engine begins every transaction IMMEDIATE (it serialises writers),
        # so a page would queue behind a nightly run's write and hold writers back. The
        # dashboard reads through a mode=ro connection instead, each transaction a deferred
        # BEGIN: a consistent snapshot under WAL that never waits for a writer.
        store.engine.dispose()
        store.engine = _sqlite_reader(Path(parsed.database or "").expanduser())
    return store


def _sqlite_reader(path: Path) -> Engine:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False,
                                                     isolation_level=None, timeout=60))

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("begin")

    return engine


def _probe_engine(url: str, parsed: URL) -> Engine:
    """An engine that can only read: PostgreSQL's read-only sessions, or SQLite's mode=ro."""
    try:
        if parsed.get_backend_name() == "postgresql":
            return create_engine(url)
        database = parsed.database or ""
        path = Path(database).expanduser()
        if database in ("", ":memory:") or not path.is_file():
            raise PgauditError(f"no history store at {database or '(no path)'}: {HINT}")
        return _sqlite_reader(path)
    except (SQLAlchemyError, ImportError) as exc:
        raise PgauditError(f"cannot open the history store: {exc}") from None


def _require_head(engine: Engine, display: str) -> None:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("pgaudit").joinpath("store_migrations")))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            current = set(context.get_current_heads())
    except SQLAlchemyError as exc:
        first = redact_text(str(exc).splitlines()[0])
        raise PgauditError(f"cannot open the history store {display}: {first}") from None
    finally:
        engine.dispose()
    if current != heads:
        state = "empty" if not current else "older (or newer) than this pgaudit"
        raise PgauditError(f"the history store {display} is {state}: {HINT}")
