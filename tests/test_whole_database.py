"""Whole-database fixtures: the clean schema reports only 🟢; the planted one fires every check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
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


# Planted defects that need what the server ships: a server without contrib (the PostgreSQL 13
# test server) has no seg 1.1 to install, so planted.sql plants nothing for this check there.
NEEDS_EXTENSION = {"extension_outdated": ("seg", "1.1")}


def silent_checks(
    specs: Mapping[str, CheckSpec],
    fired: set[str],
    statuses: Mapping[str, str],
    major: int,
    available: set[tuple[str, str]],
) -> list[str]:
    """Checks that did not fire on planted.sql and have no excuse. Excused: NOT_PLANTABLE, a
    check the engine skipped because the server is older than its min_server_version, and a
    check whose planted defect needs an extension version this server does not ship. Any
    other silence (a check that ran and found nothing, or was skipped for another reason) is a
    failure."""
    excused = set(NOT_PLANTABLE)
    for cid, spec in specs.items():
        if spec.min_server_version > major and statuses.get(cid) == "skipped":
            excused.add(cid)
        need = NEEDS_EXTENSION.get(cid)
        if need is not None and need not in available:
            excused.add(cid)
    return sorted(set(specs) - fired - excused)


def _available_extensions(dsn: str) -> set[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select name::text, version from pg_catalog.pg_available_extension_versions")
        return {(r[0], r[1]) for r in rows}


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
    planted_run: AuditRun, specs: dict[str, CheckSpec], admin: str, server_major: int
) -> None:
    errors = {c.id: c.reason for c in planted_run.checks if c.status == "error"}
    assert not errors, errors
    # a finding merged into another's entry (same column) fired all the same
    fired = {p.check for f in planted_run.findings if f.severity != "ok" for p in f.parts()}
    statuses = {c.id: c.status for c in planted_run.checks}
    silent = silent_checks(specs, fired, statuses, server_major, _available_extensions(admin))
    assert not silent, f"checks that did not fire on planted.sql: {silent}"


def test_silence_is_excused_only_by_the_version_or_a_missing_extension(
    specs: dict[str, CheckSpec],
) -> None:
    # teeth for the excuses above: each holds only in its own circumstance
    chosen = {c: specs[c] for c in ("security_definer_view", "extension_outdated",
                                    "table_without_primary_key")}
    assert chosen["security_definer_view"].min_server_version == 15
    seg = {("seg", "1.1")}
    skipped_on_13 = {"security_definer_view": "skipped", "extension_outdated": "ran",
                     "table_without_primary_key": "ran"}
    # PostgreSQL 13 without contrib: the version and the missing seg excuse two checks
    assert silent_checks(chosen, set(), skipped_on_13, 13, set()) == ["table_without_primary_key"]
    # with seg available, extension_outdated that found nothing is silent
    assert silent_checks(chosen, set(), skipped_on_13, 13, seg) == [
        "extension_outdated", "table_without_primary_key"]
    # on 15 the view check ran and found nothing: silent
    ran = dict.fromkeys(chosen, "ran")
    assert silent_checks(chosen, set(), ran, 15, seg) == sorted(chosen)
    # an old server on which the engine ran it anyway (no skip): no excuse
    assert "security_definer_view" in silent_checks(chosen, set(), ran, 13, seg)
    # skipped for another reason (a privilege) on a server new enough: no excuse
    assert "security_definer_view" in silent_checks(
        chosen, set(), {**ran, "security_definer_view": "skipped"}, 15, seg)
    # fired: never silent
    assert silent_checks(chosen, set(chosen), ran, 15, seg) == []


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
