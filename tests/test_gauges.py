"""Gauges give a verdict at once; only rates wait for the statistics window.

After a server restart the statistics window is short, but ``n_dead_tup`` is a current count
that a clean shutdown keeps: a table with six times more dead rows than live ones must be
reported then, while a check on rates (scans since the reset) gives no verdict.
"""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

import pgaudit.sessions
from pgaudit.api import load_checks
from pgaudit.engine import AuditOptions, audit
from tests.casefile import settle_stats

SETUP = """
create table queue (id bigint primary key, status text) with (autovacuum_enabled = false);
insert into queue select g, 'new' from generate_series(1, 14000) g;
delete from queue where id > 2000;
create table lookup (id int primary key);
create index lookup_unused on lookup (id) where id > 0;
"""


@pytest.fixture(scope="module")
def restarted(db: str, monkeypatch_module: pytest.MonkeyPatch) -> str:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(SETUP)
        flush = _has_flush(conn)
        if flush:
            conn.execute("select pg_stat_force_next_flush()")
        row = conn.execute("show server_version_num").fetchone()
    # PostgreSQL 13-14: the counters reach readers through the collector, up to 500 ms late
    settle_stats(db, int(row[0]) // 10000 if row else 15)
    real = pgaudit.sessions.read_facts

    def just_restarted(conn: psycopg.Connection) -> object:  # type: ignore[type-arg]
        facts = real(conn)
        return dataclasses.replace(facts, stats_age_s=60.0)  # a minute since the restart

    monkeypatch_module.setattr(pgaudit.sessions, "read_facts", just_restarted)
    return db


@pytest.fixture(scope="module")
def monkeypatch_module() -> object:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _has_flush(conn: psycopg.Connection) -> bool:  # type: ignore[type-arg]
    row = conn.execute("select to_regproc('pg_stat_force_next_flush') is not null").fetchone()
    return bool(row and row[0])


def _run(dsn: str, check: str):  # type: ignore[no-untyped-def]
    spec = load_checks()[check]
    return audit(dsn, [spec], AuditOptions(connections=1))


def test_dead_tuples_are_judged_a_minute_after_a_restart(restarted: str) -> None:
    run = _run(restarted, "dead_tuples_accumulating")
    assert run.checks[0].status == "ran", run.checks[0].reason
    assert run.facts["stats_age_s"] == 60.0  # the window really was short
    found = [f for f in run.findings if f.severity != "ok"]
    assert [f.object for f in found] == ["public.queue"]
    assert found[0].evidence["dead_tuples"] == 12000


def test_a_rate_waits_for_the_window(restarted: str) -> None:
    run = _run(restarted, "unused_index")
    assert run.checks[0].status == "skipped"
    assert run.checks[0].reason and run.checks[0].reason.startswith("no verdict: the statistics")
    assert "1 min" in run.checks[0].reason or "60 s" in run.checks[0].reason
