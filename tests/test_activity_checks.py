"""Checks that need a concurrent session held open during the audit, which case files cannot
express: long_running_transactions (an open transaction) and deadlocks_observed (a real deadlock).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun


def _audit(db: str, spec: CheckSpec, **params: object) -> AuditRun:
    opts = AuditOptions(overrides={spec.id: CheckOverride(params=params)} if params else {})
    return audit(db, [spec], opts)


def _reported(run: AuditRun) -> list[str]:
    return sorted(f.object for f in run.findings if f.severity != "ok")


def test_long_running_transaction_reported(db: str, specs: dict[str, CheckSpec]) -> None:
    spec = specs["long_running_transactions"]
    with psycopg.connect(db, application_name="s45_holder") as holder:
        holder.execute("create table if not exists s45_lrt (id int primary key)")
        holder.commit()
        holder.execute("insert into s45_lrt values (1)")  # the transaction stays open
        pid = holder.info.backend_pid
        time.sleep(1.1)
        run = _audit(db, spec, threshold_s=1)
        found = [f for f in run.findings if f.severity != "ok"]
        assert [f.object for f in found] == [f"postgres (pid {pid})"]
        ev = found[0].evidence
        assert ev["pid"] == pid and ev["duration_s"] >= 1
        assert ev["state"] == "idle in transaction" and ev["application_name"] == "s45_holder"
        assert "query" not in ev and "insert" not in found[0].detail.lower()  # no query text
        assert found[0].remediation and all(
            line.startswith("--") for line in found[0].remediation.splitlines())  # never executed
        assert found[0].severity == "warning"
        # past critical_s the same session is critical
        run = _audit(db, spec, threshold_s=1, critical_s=1)
        assert {f.severity for f in run.findings} == {"critical"}
        # look-alike: the same session under a higher threshold is not reported
        assert _reported(_audit(db, spec, threshold_s=3600)) == []
        holder.rollback()
    # look-alike: an idle session without a transaction, and the audit's own backend
    with psycopg.connect(db, autocommit=True) as idle:
        idle.execute("select 1")
        time.sleep(1.1)
        assert _reported(_audit(db, spec, threshold_s=1)) == []
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("drop table if exists s45_lrt")


def _deadlock(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create table if not exists s45_dl (id int primary key, n int)")
        conn.execute("insert into s45_dl values (1, 0), (2, 0) on conflict do nothing")
    first, second = psycopg.connect(db), psycopg.connect(db)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(conn: psycopg.Connection, a: int, b: int) -> None:
        try:
            conn.execute("set local deadlock_timeout = '200ms'")
            conn.execute("update s45_dl set n = n + 1 where id = %s", [a])
            barrier.wait()
            conn.execute("update s45_dl set n = n + 1 where id = %s", [b])
            conn.commit()
        except psycopg.errors.DeadlockDetected as exc:
            errors.append(exc)
            conn.rollback()

    threads = [threading.Thread(target=worker, args=(first, 1, 2)),
               threading.Thread(target=worker, args=(second, 2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    first.close()
    second.close()  # backend exit flushes the pending statistics
    assert len(errors) == 1, "the server should have aborted exactly one transaction"


def _deadlocks(db: str) -> int:
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(
            "select deadlocks from pg_stat_database where datname = current_database()").fetchone()
    assert row
    return int(row[0])


def test_deadlocks(db: str, specs: dict[str, CheckSpec]) -> None:
    spec = specs["deadlocks_observed"]
    before = _deadlocks(db)
    if before == 0:
        # look-alike: no deadlocks and a short window gives no verdict, never a silent pass
        run = _audit(db, spec)
        # the window and the one needed, in the engine's words, never the parameter's name
        reason = run.checks[0].reason or ""
        assert run.checks[0].status == "skipped" and "the 24.0 h needed" in reason
        assert "min_stats_age_s" not in reason
        run = _audit(db, spec, min_stats_age_s=0)
        assert run.checks[0].status == "ran" and _reported(run) == []
    _deadlock(db)
    deadline = time.monotonic() + 5
    while _deadlocks(db) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _deadlocks(db) > before
    run = _audit(db, spec)  # deadlocks seen are evidence even in a short window
    found = [f for f in run.findings if f.severity != "ok"]
    assert len(found) == 1 and found[0].object_type == "database"
    assert found[0].evidence["deadlocks"] >= 1 and run.facts["stats_age_s"] is not None  # window
    # the rate per day only over a full statistics window (the engine's min_stats_age_s)
    assert ("per_day" in found[0].evidence) == (run.facts["stats_age_s"] >= 86400)
    assert found[0].severity == "warning"  # no critical rate extrapolated from a short window
    run = _audit(db, spec, min_stats_age_s=0, critical_per_day=0.001)
    assert {f.severity for f in run.findings} == {"critical"}
    assert "per_day" in run.findings[0].evidence
    assert _reported(_audit(db, spec, min_deadlocks=before + 1000)) == []


@pytest.fixture(autouse=True)
def _cleanup(db: str):  # type: ignore[no-untyped-def]
    yield
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("drop table if exists s45_dl, s45_lrt")


def test_schema_snapshot_embedded_verbatim(specs: dict[str, CheckSpec]) -> None:
    """_schema_snapshot.sql is what the history store records; schema_drift includes it."""
    from pgaudit.resources import checks_dir

    snapshot = (checks_dir() / "_schema_snapshot.sql").read_text(encoding="utf-8").strip()
    assert snapshot in specs["schema_drift"].sql


def test_schema_drift_without_a_stored_snapshot(db: str, specs: dict[str, CheckSpec]) -> None:
    spec = specs["schema_drift"]
    run = audit(db, [spec], AuditOptions(history={"generated_at": "x"}, has_store=True))
    result = run.checks[0]
    assert result.status == "skipped" and "no schema snapshot" in (result.reason or "")
