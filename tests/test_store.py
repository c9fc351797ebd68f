"""The history store: what changed between runs, on SQLite and on PostgreSQL, and atomicity."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from pgaudit.api import run_audit_with_store
from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions
from pgaudit.store import Store
from tests.casefile import execute_script
from tests.pgserver import create_database, drop_database, with_db

CHECKS = ["table_without_primary_key"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, admin: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/history.db"
        return
    name = create_database(admin, "store")
    try:
        params = psycopg.conninfo.conninfo_to_dict(with_db(admin, name))
        user = params.get("user", "postgres")
        host = params.get("host", "127.0.0.1")
        port = params.get("port", "5432")
        yield f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    finally:
        drop_database(admin, name)


@pytest.fixture
def target(db: str) -> Iterator[str]:
    execute_script(db, "drop schema public cascade; create schema public;")
    yield db


def _run(dsn: str, specs: dict[str, CheckSpec], url: str, name: str = "staging"):
    return run_audit_with_store(dsn, [specs[c] for c in CHECKS], AuditOptions(), url, name)


def test_fix_is_resolved_and_new_defect_is_new(
    target: str, store_url: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(target, "create table public.a (x int); create table public.b (y int);")
    first = _run(target, specs, store_url)
    assert first.diff is not None and first.diff.previous_run is None
    assert first.diff.new == []  # the first run has nothing to compare with
    assert (first.summary.new, first.summary.resolved) == (0, 0)

    execute_script(target, "alter table public.a add primary key (x);")
    second = _run(target, specs, store_url)
    diff = second.diff
    assert diff is not None and diff.previous_run is not None
    assert diff.previous_run["id"] == first.diff.run_id
    assert [f["object"] for f in diff.resolved] == ["public.a"]
    assert diff.new == []
    assert diff.persisting == 1

    execute_script(target, "create table public.c (z int);")
    third = _run(target, specs, store_url)
    assert third.diff is not None
    assert [f["object"] for f in third.diff.new] == ["public.c"]
    assert third.diff.resolved == []
    assert (third.summary.new, third.summary.resolved) == (1, 0)

    history = Store(store_url).history("staging")
    assert [h["new"] for h in history] == [0, 0, 1]
    assert [h["resolved"] for h in history] == [0, 1, 0]
    assert [h["critical"] for h in history] == [2, 1, 2]


def test_schema_and_sizes_are_recorded(
    target: str, store_url: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(target, "create table public.t (id int primary key); insert into public.t "
                           "select generate_series(1, 5000); analyze public.t;")
    run = _run(target, specs, store_url, name="sizes")
    prev = Store(store_url).previous(run.target, "sizes")
    assert prev["tables"]["public.t"]["bytes"] > 0
    assert prev["tables"]["public.t"]["rows"] == 5000


def _crash_mid_record(dsn: str, url: str, check_path: str) -> None:
    """Record a run and die (SIGKILL-like) while the findings are being inserted."""
    from pgaudit.checkfile import parse_check
    from pgaudit.store_schema import findings

    original = Store.record

    def dying_record(self: Store, run, name):  # type: ignore[no-untyped-def]
        @sa.event.listens_for(self.engine, "before_execute")
        def _die(conn, clauseelement, *args, **kwargs):  # type: ignore[no-untyped-def]
            if getattr(clauseelement, "table", None) is findings:
                os._exit(9)

        return original(self, run, name)

    Store.record = dying_record  # type: ignore[method-assign]
    run_audit_with_store(dsn, [parse_check(Path(check_path))], AuditOptions(), url, "crash")


def test_run_killed_mid_record_leaves_no_half_run(
    target: str, store_url: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(target, "create table public.a (x int);")
    _run(target, specs, store_url, name="crash")
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_crash_mid_record,
                       args=(target, store_url, specs["table_without_primary_key"].path))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 9
    store = Store(store_url)
    history = store.history("crash")
    assert len(history) == 1, "the killed run left a row behind"
    with store.engine.connect() as conn:
        orphans = conn.execute(sa.text(
            "select count(*) from pgaudit_findings f where not exists "
            "(select 1 from pgaudit_runs r where r.id = f.run_id)")).scalar()
    assert orphans == 0


def _one_run(dsn: str, url: str, check_path: str) -> None:
    from pgaudit.checkfile import parse_check

    run_audit_with_store(dsn, [parse_check(Path(check_path))], AuditOptions(), url, "overlap")


def test_overlapping_runs_both_land(
    target: str, store_url: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(target, "create table public.a (x int);")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_one_run,
                         args=(target, store_url, specs["table_without_primary_key"].path))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    history = Store(store_url).history("overlap")
    assert len(history) == 4
    assert all(h["critical"] == 1 for h in history)


def test_prune_keeps_recent_runs(target: str, store_url: str, specs: dict[str, CheckSpec]) -> None:
    import datetime as dt

    _run(target, specs, store_url, name="prune")
    store = Store(store_url)
    assert store.prune(dt.timedelta(days=90)) == 0
    assert store.prune(dt.timedelta(seconds=-1)) >= 1
    assert store.history("prune") == []


def test_dashboard_reads(target: str, store_url: str, specs: dict[str, CheckSpec]) -> None:
    """targets(), open_findings() and signoff(): the shapes the dashboard reads."""
    execute_script(target, "create table public.a (x int);")
    first = _run(target, specs, store_url, name="dash")
    execute_script(target, "create table public.b (y int);")
    second = _run(target, specs, store_url, name="dash")
    store = Store(store_url)
    [row] = store.targets()
    assert row["name"] == "dash" and row["last_run_id"] == second.diff.run_id
    assert (row["critical"], row["warning"], row["new"]) == (2, 0, 1)
    assert [p["run_id"] for p in row["series"]] == [first.diff.run_id, second.diff.run_id]
    assert [p["critical"] for p in row["series"]] == [1, 2]
    assert row["last_run_at"] == row["series"][-1]["at"]
    found = store.open_findings("dash")
    assert [(f["object"], f["first_seen_run"]) for f in found] == [
        ("public.a", first.diff.run_id), ("public.b", second.diff.run_id)]
    assert set(found[0]) == {"target", "fingerprint", "check", "severity", "object", "detail",
                             "first_seen_at", "first_seen_run"}
    assert store.open_findings("nobody") == []
    assert store.signoff(second.diff.run_id) is None
