"""Whole-database fixtures: the clean schema reports only 🟢; the planted one fires every check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.config import Assumptions
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun
from tests.casefile import execute_script
from tests.pgserver import create_database, drop_database, with_db

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tests" / "schemas"

# Verdicts about the server, not the schema: the test server decides them, not clean.sql.
SERVER_LEVEL = {
    "pg_stat_statements_missing",  # the library must be preloaded server-wide
    "superuser_roles",  # CI servers may carry extra superusers
    "connection_usage",
    "replication_overview",
    "replication_slot_inactive",  # slots are cluster-wide: other tests' slots show here
    # the server's files, settings and version (tests/test_server_checks.py plants them)
    "hba_insecure_auth",
    "ssl_disabled",
    "wal_archiving_disabled",
    "data_checksums_disabled",
    "server_version_unsupported",
    "memory_settings_default",
    "password_encryption_md5",  # roles are cluster-wide: other tests' MD5 hashes show here
}

# Checks that cannot fire on a database created seconds ago, and why.
NOT_PLANTABLE = {
    "long_running_transactions": "needs a concurrent open transaction (test_activity_checks)",
    "deadlocks_observed": "needs a statistics window of a day",
    "slow_queries": "needs pg_stat_statements preloaded (tests/test_pg_stat_statements.py)",
    "schema_drift": "needs a previous stored run (tests/test_store.py)",
    "replication_overview": "needs a replica, or a day of read-heavy statistics",
    "replication_slot_inactive": "a slot is cluster-wide and would retain WAL on the shared test"
    " server after the fixture's database is dropped (its case file plants one and drops it)",
    "table_never_analyzed": "the fixture loader runs ANALYZE on the whole database after loading"
    " (its case file plants both never-analyzed and stale tables)",
    "hba_insecure_auth": "reads pg_hba.conf, a server file (tests/test_server_checks.py)",
    "ssl_disabled": "a server setting (tests/test_server_checks.py)",
    "wal_archiving_disabled": "archive_mode needs a restart (tests/test_server_checks.py)",
    "data_checksums_disabled": "fixed at initdb (tests/test_server_checks.py)",
    "server_version_unsupported": "judges the server's version; its case file moves the date",
    "memory_settings_default": "needs a database of gigabytes or a day of checkpoint statistics"
    " (its case file lowers the size; tests/test_server_checks.py)",
    "unused_index": "needs a statistics window of days",
    "unused_table": "needs a statistics window of days",
    "seq_scan_heavy_table": "needs a statistics window",
    "dead_tuples_accumulating": "needs an hour of statistics (its case file lowers the window)",
    "hot_row_contention": "needs an hour of statistics (its case file lowers the window)",
    "xid_wraparound_risk": "needs two billion transactions",
    "connection_usage": "needs the server near max_connections",
    "superuser_roles": "cluster-wide; covered by its case file",
    "pg_stat_statements_missing": "fires or not by server configuration",
    "table_growth": "needs history for a projection",
}


def _roles(admin: str) -> set[str]:
    with psycopg.connect(admin) as conn:
        return {r[0] for r in conn.execute("select rolname from pg_catalog.pg_roles")}


def _load(admin: str, sql_file: Path, prefix: str) -> Iterator[str]:
    """A database loaded from the file; roles the file created (cluster-wide) are dropped after."""
    before = _roles(admin)
    name = create_database(admin, prefix)
    dsn = with_db(admin, name)
    try:
        execute_script(dsn, sql_file.read_text(encoding="utf-8"))
        execute_script(dsn, "analyze")
        yield dsn
    finally:
        drop_database(admin, name)
        for role in sorted(_roles(admin) - before):
            execute_script(admin, f'drop role if exists "{role}"')


@pytest.fixture(scope="module")
def clean_run(admin: str, specs: dict[str, CheckSpec]) -> Iterator[AuditRun]:
    for dsn in _load(admin, SCHEMAS / "clean.sql", "clean"):
        yield audit(
            dsn,
            list(specs.values()),
            AuditOptions(assumptions=Assumptions(multi_tenant=True, high_traffic=True)),
        )


@pytest.fixture(scope="module")
def planted_run(admin: str, specs: dict[str, CheckSpec]) -> Iterator[AuditRun]:
    for dsn in _load(admin, SCHEMAS / "planted.sql", "planted"):
        yield audit(
            dsn,
            list(specs.values()),
            AuditOptions(assumptions=Assumptions(multi_tenant=True, high_traffic=True)),
        )


def test_planted_sql_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_planted.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_clean_schema_reports_only_well_designed(clean_run: AuditRun) -> None:
    errors = {c.id: c.reason for c in clean_run.checks if c.status == "error"}
    assert not errors, errors
    # object_type "setting": the server's own configuration (this test server runs autovacuum off)
    bad = sorted(
        {
            (f.check, f.object, f.severity)
            for f in clean_run.findings
            if f.severity != "ok" and f.check not in SERVER_LEVEL and f.object_type != "setting"
        }
    )
    assert not bad, bad
    assert sum(1 for f in clean_run.findings if f.severity == "ok") >= 30


def test_planted_schema_fires_every_check(
    planted_run: AuditRun, specs: dict[str, CheckSpec]
) -> None:
    errors = {c.id: c.reason for c in planted_run.checks if c.status == "error"}
    assert not errors, errors
    # a finding merged into another's entry (same column) fired all the same
    fired = {p.check for f in planted_run.findings if f.severity != "ok" for p in f.parts()}
    silent = sorted(set(specs) - fired - set(NOT_PLANTABLE))
    assert not silent, f"checks that did not fire on planted.sql: {silent}"


def test_both_render_to_markdown_and_html(
    clean_run: AuditRun, planted_run: AuditRun, specs: dict[str, CheckSpec]
) -> None:
    from markupsafe import escape

    from pgaudit.render import render

    clean_md = render(clean_run.to_dict(), "md", specs)
    assert clean_md.count("✅") >= 30
    planted_doc = planted_run.to_dict()
    planted_md = render(planted_doc, "md", specs)
    planted_html = render(planted_doc, "html", specs)
    fired = {f["check"] for f in planted_doc["findings"] if f["severity"] != "ok"}
    for check in fired:
        assert specs[check].title.replace("_", "\\_") in planted_md, check
        assert str(escape(specs[check].title)) in planted_html, check
    assert render(clean_run.to_dict(), "html", specs).lower().startswith("<!doctype html>")
