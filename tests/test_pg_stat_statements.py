"""slow_queries and pg_stat_statements_missing on a server that preloads pg_stat_statements.

The case files' ``preload = ["pg_stat_statements"]`` cases are skipped by the generic runner on
servers without the library; here they run, through the same runner, on a throwaway server
that preloads it (tests/pgss_server.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun
from tests.casefile import Case, load_cases
from tests.pgserver import create_database, drop_database, with_db
from tests.pgss_server import pgss_server
from tests.test_check_cases import test_case as run_case

PGSS_CASES = [c for c in load_cases() if "pg_stat_statements" in c.preload]


@pytest.fixture(scope="session")
def pgss_admin() -> Iterator[str]:
    with pgss_server() as dsn:
        yield dsn


@pytest.fixture(scope="module")
def pgss_cases_db(pgss_admin: str) -> Iterator[str]:
    name = create_database(pgss_admin, "pgss_cases")
    try:
        yield with_db(pgss_admin, name)
    finally:
        drop_database(pgss_admin, name)


@pytest.fixture
def pgss_db(pgss_admin: str) -> Iterator[str]:
    name = create_database(pgss_admin, "pgss")
    try:
        yield with_db(pgss_admin, name)
    finally:
        drop_database(pgss_admin, name)


@pytest.fixture(scope="session")
def pgss_major(pgss_admin: str) -> int:
    with psycopg.connect(pgss_admin) as conn:
        row = conn.execute("show server_version_num").fetchone()
    assert row
    return int(row[0]) // 10000


@pytest.mark.parametrize(
    ("case", "schema"),
    [pytest.param(c, s, id=f"{c.check}::{c.name}::{s.replace(' ', '_')}")
     for c in PGSS_CASES for s in c.schemas],
)
def test_preloaded_case(case: Case, schema: str, pgss_cases_db: str,
                        specs: dict[str, CheckSpec], pgss_major: int) -> None:
    run_case(case, schema, pgss_cases_db, specs, pgss_major)


def _run(dsn: str, spec: CheckSpec, **params: object) -> AuditRun:
    overrides = {spec.id: CheckOverride(params=params)} if params else {}
    return audit(dsn, [spec], AuditOptions(overrides=overrides))


def _sql(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt)  # type: ignore[arg-type]


def test_slow_queries_evidence_and_window(pgss_db: str, specs: dict[str, CheckSpec]) -> None:
    spec = specs["slow_queries"]
    _sql(pgss_db, "create extension pg_stat_statements", "select pg_stat_statements_reset()")
    for _ in range(3):
        _sql(pgss_db, "select pg_sleep(0.2)")
    # a fresh collection window: no verdict rather than a vacuous pass
    run = _run(pgss_db, spec)
    assert run.checks[0].status == "skipped", run.checks[0].reason
    assert "no verdict" in (run.checks[0].reason or "")
    run = _run(pgss_db, spec, min_stats_age_s=0, min_mean_ms=150.0, min_calls=3,
               min_total_ms=1e12)
    found = [f for f in run.findings if f.severity != "ok"]
    assert [f.object for f in found] == ["select pg_sleep($1)"], found
    ev = found[0].evidence
    assert ev["calls"] == 3 and ev["mean_ms"] >= 150 and ev["queryid"]
    assert found[0].object_type == "statement" and found[0].remediation is None
