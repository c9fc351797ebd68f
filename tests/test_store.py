"""The history store: what changed between runs, on SQLite and on PostgreSQL, and atomicity."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
import sqlalchemy as sa

from pgaudit.api import run_audit_with_store
from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions
from pgaudit.model import AuditRun
from pgaudit.snapshot import Snapshot
from pgaudit.store import Store
from pgaudit.store_schema import size_points
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
    """Record a run and die (SIGKILL-like) while its findings' versions are being inserted."""
    from pgaudit.checkfile import parse_check
    from pgaudit.store_schema import finding_versions

    original = Store.record

    def dying_record(self: Store, run, name):  # type: ignore[no-untyped-def]
        @sa.event.listens_for(self.engine, "before_execute")
        def _die(conn, clauseelement, *args, **kwargs):  # type: ignore[no-untyped-def]
            if getattr(clauseelement, "table", None) is finding_versions:
                os._exit(9)

        return original(self, run, name)

    Store.record = dying_record  # type: ignore[method-assign]
    run_audit_with_store(dsn, [parse_check(Path(check_path))], AuditOptions(), url, "crash")


def test_run_killed_mid_record_leaves_no_half_run(
    target: str, store_url: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(target, "create table public.a (x int);")
    _run(target, specs, store_url, name="crash")
    execute_script(target, "create table public.b (x int);")  # a finding version to insert
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
            "select count(*) from pgaudit_finding_versions f where not exists "
            "(select 1 from pgaudit_runs r where r.id = f.run_id)")).scalar()
        lifecycles = conn.execute(sa.text(
            "select count(*) from pgaudit_finding_lifecycles")).scalar()
    assert orphans == 0
    assert lifecycles == 1  # public.a's only: public.b's run left nothing


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
    # one lifecycle: the runs took turns, each saw the one before
    assert len(Store(store_url).open_findings("overlap")) == 1
    assert sum(h["new"] for h in history) == 0


def test_prune_keeps_recent_runs(target: str, store_url: str, specs: dict[str, CheckSpec]) -> None:
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


def _count(store: Store) -> dict[str, int]:
    tables = ("pgaudit_runs", "pgaudit_run_frames", "pgaudit_finding_versions",
              "pgaudit_finding_lifecycles", "pgaudit_size_points", "pgaudit_schema_spans")
    with store.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one() for t in tables}


def test_an_unchanged_run_adds_rows_for_what_changed_only(
    target: str, store_url: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(target, "create table public.a (x int); create table public.b (y int); "
                           "insert into public.a select generate_series(1, 1000); analyze;")
    _run(target, specs, store_url, name="still")
    _run(target, specs, store_url, name="still")
    store = Store(store_url)
    before = _count(store)
    assert before["pgaudit_finding_lifecycles"] == 2 and before["pgaudit_size_points"] >= 2
    third = _run(target, specs, store_url, name="still")
    after = _count(store)
    assert {t: after[t] - before[t] for t in after} == {
        "pgaudit_runs": 1, "pgaudit_run_frames": 1, "pgaudit_finding_versions": 0,
        "pgaudit_finding_lifecycles": 0, "pgaudit_size_points": 0, "pgaudit_schema_spans": 0}
    with store.engine.connect() as conn:
        base = conn.execute(sa.text("select base_run from pgaudit_run_frames where run_id = :r"),
                            {"r": third.diff.run_id}).scalar()
    assert base == third.diff.previous_run["id"]  # stored as edits to the previous frame
    # and it reads back as it was written
    doc = store.document(third.diff.run_id)
    del doc["history"]
    written = dataclasses.replace(third, history=None).to_dict()
    assert doc == orjson.loads(orjson.dumps(written, default=str))

    execute_script(target, "alter table public.b add primary key (y); "
                           "insert into public.a select generate_series(1, 100000); analyze;")
    fourth = _run(target, specs, store_url, name="still")
    changed = _count(store)
    assert changed["pgaudit_size_points"] - after["pgaudit_size_points"] >= 1  # a grew
    assert changed["pgaudit_finding_lifecycles"] == after["pgaudit_finding_lifecycles"]
    assert store.diff(fourth.diff.run_id)["resolved"][0]["object"] == "public.b"
    assert store.diff(fourth.diff.run_id)["new"] == []
    assert [f["object"] for f in store.open_findings("still")] == ["public.a"]


def _synthetic(at: dt.datetime, tables: dict[str, int]) -> AuditRun:
    return AuditRun(
        pgaudit_version="test", generated_at=at.isoformat(),
        target={"host": "h", "port": 5432, "database": "d", "system_identifier": "1"},
        facts={"settings": {"work_mem": "4MB"}}, scope={}, assumptions={}, findings=[],
        checks=[], snapshot=Snapshot(tables={k: {"bytes": v, "rows": v} for k, v in
                                             tables.items()}),
    )


def test_table_sizes_are_thinned_with_age(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/thin.db")
    start = dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)
    days = 150
    for day in range(days):
        store.record(_synthetic(start + dt.timedelta(days=day),
                                {"public.grows": 1000 * (day + 1), "public.still": 5}), "t")
    with store.engine.connect() as conn:
        at = conn.execute(
            sa.select(size_points.c.at).where(size_points.c.relation == "public.grows")
            .order_by(size_points.c.at)).scalars().all()
        still = conn.execute(sa.text(
            "select count(*) from pgaudit_size_points where relation = 'public.still'")).scalar()
    assert still == 1  # never changed: one point
    cutoff = (start + dt.timedelta(days=days - 1) - dt.timedelta(days=90)).replace(tzinfo=None)
    recent = [a for a in at if a >= cutoff]
    old = [a for a in at if a < cutoff]
    assert len(recent) == 91  # daily: the last run and the 90 days before it
    weeks = {tuple(a.isocalendar())[:2] for a in old}
    assert len(old) == len(weeks) and 8 <= len(old) <= 10  # weekly: the last of each week
    growth = store.growth(_synthetic(start, {}).target, "t")["public.grows"]
    assert growth[-1][1] == 1000 * days
    assert len(growth) == len(recent) + len(old)
    # the settings of a run row are the ones that changed: all of them once
    assert len(store.history("t")) == days
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("select settings from pgaudit_runs order by id")
                              ).scalars().all()
    assert [orjson.loads(s) if isinstance(s, str) else s for s in stored[:2]] == [
        {"work_mem": "4MB"}, {}]


RELEASE_STORE = Path(__file__).parent / "store" / "release-5a38fb6.sqlite"


def _release_store_at(url: str, tmp_path: Path) -> None:
    """The release's store at ``url``: the file itself for SQLite; for PostgreSQL its tables
    created by the migrations up to the release's (0003) and its rows copied."""
    import shutil
    from importlib import resources

    from alembic import command
    from alembic.config import Config as AlembicConfig

    from pgaudit.store_schema import (
        findings,
        run_documents,
        runs,
        schema_changes,
        schema_objects,
        table_sizes,
        targets,
    )

    if url.startswith("sqlite"):
        shutil.copy(RELEASE_STORE, url.removeprefix("sqlite:///"))
        return
    engine = sa.create_engine(url)
    source = sa.create_engine(f"sqlite:///{RELEASE_STORE}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location",
                        str(resources.files("pgaudit").joinpath("store_migrations")))
    tables = (targets, runs, findings, table_sizes, schema_objects, run_documents,
              schema_changes)
    with engine.begin() as conn, source.connect() as old:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        for table in tables:
            rows = [
                {k: v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) else v
                 for k, v in r._asdict().items()}
                for r in old.execute(sa.select(table))
            ]
            assert rows or table is schema_changes, table.name
            if rows:
                conn.execute(sa.insert(table), rows)
            if "id" in table.c:  # the copied ids: serials carry on after them
                conn.exec_driver_sql(
                    f"select setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(select max(id) from {table.name}))")
    engine.dispose()
    source.dispose()


def test_a_store_of_the_previous_release_upgrades_without_losing_history(
    store_url: str, tmp_path: Path,
) -> None:
    """tests/store/release-5a38fb6.sqlite was written by pgaudit at 5a38fb6 (per-run tables,
    migration 0003): two targets, six runs with findings fixed, new, and tables added and
    dropped. Every run still re-renders as it was, and the history carries on; on SQLite
    and, its rows copied, on PostgreSQL."""
    import sqlite3
    import zlib

    with sqlite3.connect(RELEASE_STORE) as raw:
        docs = {rid: orjson.loads(zlib.decompress(body)) for rid, body in
                raw.execute("select run_id, document from pgaudit_run_documents")}
        open_before = {(rid, fp) for rid, fp in raw.execute(
            "select run_id, fingerprint from pgaudit_findings where severity != 'ok'")}
        sizes_before = dict(raw.execute(
            "select relation, bytes from pgaudit_table_sizes where run_id = 4"))
        schema_before = dict(raw.execute(
            "select identity, definition_md5 from pgaudit_schema_objects where run_id = 4"))
        history_before = raw.execute(
            "select id, critical, warning, info, new, resolved from pgaudit_runs order by id"
        ).fetchall()
    _release_store_at(store_url, tmp_path)
    assert len(docs) == 6 and sizes_before and schema_before
    store = Store(store_url)
    assert [(h["run_id"], h["critical"], h["warning"], h["info"], h["new"], h["resolved"])
            for h in store.history()] == history_before
    for rid, doc in docs.items():
        again = store.document(rid)
        del again["history"]
        assert again == doc, f"run {rid} re-renders differently"
    for rid in (2, 4):
        diff = store.diff(rid)
        assert sorted(f["fingerprint"] for f in diff["new"]) == sorted(
            f["fingerprint"] for f in docs[rid]["diff"]["new"])
        assert sorted(f["fingerprint"] for f in diff["resolved"]) == sorted(
            f["fingerprint"] for f in docs[rid]["diff"]["resolved"])
    assert {f["fingerprint"] for f in store.open_findings("shop")} == {
        fp for rid, fp in open_before if rid == 4}
    shop = docs[4]["target"]
    prev = store.previous(shop, "shop")
    assert {k: v["bytes"] for k, v in prev["tables"].items()} == sizes_before
    assert prev["schema"] == schema_before
    with store.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert "pgaudit_findings" not in names and "pgaudit_run_documents" not in names
    # the next run carries on from the converted history: nothing new, nothing resolved
    diff = store.record(AuditRun.from_dict(docs[4]), "shop")
    assert (diff.new, diff.resolved) == ([], [])
    assert diff.persisting == len({fp for rid, fp in open_before if rid == 4})
