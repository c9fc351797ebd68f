"""Fixtures: a real server for the whole session, a throwaway database per test module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgaudit.checkfile import CheckSpec, discover
from pgaudit.resources import checks_dir
from tests import chromium
from tests.pgserver import admin_dsn, create_database, drop_database, with_db

_server: tuple[str, str] | None = None
_ctx = None


def _server_dsn() -> tuple[str, str]:
    global _server, _ctx
    if _server is None:
        _ctx = admin_dsn()
        try:
            _server = _ctx.__enter__()
        except Exception as exc:  # no server at all: stop, loudly
            pytest.exit(f"no PostgreSQL server for the tests: {exc}", returncode=2)
    return _server


def pytest_report_header(config: pytest.Config) -> str:
    dsn, how = _server_dsn()
    with psycopg.connect(dsn) as conn:
        version = conn.execute("show server_version").fetchone()
    return f"PostgreSQL {version[0] if version else '?'} via {how}"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``browser`` skip, with one line, where no chromium is on PATH; with
    PGAUDIT_REQUIRE_BROWSER=1 (``.ci/run``) that is a failure instead."""
    if item.get_closest_marker("browser") is None or chromium.find() is not None:
        return
    if chromium.required():
        pytest.fail(f"{chromium.MISSING}, and {chromium.REQUIRE} is set", pytrace=False)
    pytest.skip(chromium.MISSING)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _ctx is not None:
        _ctx.__exit__(None, None, None)


@pytest.fixture(scope="session")
def admin() -> str:
    """DSN of a maintenance database on the test server (superuser)."""
    return _server_dsn()[0]


@pytest.fixture(scope="session")
def server_major(admin: str) -> int:
    with psycopg.connect(admin) as conn:
        row = conn.execute("show server_version_num").fetchone()
    assert row
    return int(row[0]) // 10000


@pytest.fixture(scope="module")
def db(admin: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """DSN of a database that exists only for this test module."""
    stem = re.sub(r"[^a-z0-9]+", "_", Path(str(request.node.path)).stem.lower())
    name = create_database(admin, stem[:30])
    try:
        yield with_db(admin, name)
    finally:
        drop_database(admin, name)


@pytest.fixture(scope="session")
def specs() -> dict[str, CheckSpec]:
    return discover([checks_dir()])
