"""Nightly use from the command line: stores, --fail-on-new, --all over several targets, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pgaudit.cli import app
from tests.casefile import execute_script
from tests.pgserver import create_database, drop_database, with_db

runner = CliRunner()


@pytest.fixture
def target(db: str) -> Iterator[str]:
    execute_script(db, "drop schema public cascade; create schema public;"
                       " create table public.keyed (id bigint primary key);")
    yield db


def keyless(table: str) -> str:
    """A table without a primary key that is critical: 10,000 rows and no key of any kind (an
    empty one is a warning)."""
    return (f"create table {table} (x int); insert into {table} select generate_series(1, 10000);"
            f" analyze {table};")


def _audit(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *args, "--checks", "table_without_primary_key"])
    return result.exit_code, result.output


def test_fail_on_new_gates_only_on_new_findings(target: str, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/h.db"
    out = str(tmp_path / "r.json")
    base = [target, "-f", "json", "-o", out, "--store", store, "--fail-on-new", "critical"]
    execute_script(target, keyless("public.legacy"))
    code, output = _audit(*base)
    assert code == 0, output  # the first run has nothing to compare with
    code, _ = _audit(*base)
    assert code == 0  # the legacy critical persists: not new
    execute_script(target, keyless("public.fresh"))
    code, _ = _audit(*base)
    assert code == 1
    doc = json.loads(Path(out).read_text())
    assert [f["object"] for f in doc["diff"]["new"]] == ["public.fresh"]
    execute_script(target, "drop table public.fresh;")
    code, _ = _audit(*base)
    assert code == 0
    doc = json.loads(Path(out).read_text())
    assert [f["object"] for f in doc["diff"]["resolved"]] == ["public.fresh"]

    listed = runner.invoke(app, ["history", "--store", store, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.output)
    assert [r["new"] for r in runs] == [0, 0, 1, 0]
    assert [r["resolved"] for r in runs] == [0, 0, 0, 1]
    pruned = runner.invoke(app, ["history", "prune", "--keep", "90d", "--store", store])
    assert pruned.exit_code == 0 and "removed 0" in pruned.output


def test_fail_on_new_without_a_store_is_an_error(target: str, tmp_path: Path) -> None:
    code, output = _audit(target, "-f", "json", "-o", str(tmp_path / "r.json"),
                          "--fail-on-new", "critical")
    assert code == 2 and "store" in output


def test_markdown_with_a_store_shows_changes(target: str, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/h.db"
    out = tmp_path / "r.md"
    _audit(target, "-o", str(out), "--store", store, "--fail-on", "never")
    execute_script(target, "create table public.newcomer (x int);")
    _audit(target, "-o", str(out), "--store", store, "--fail-on", "never")
    text = out.read_text()
    assert "## Changes since the last audit" in text
    assert "**1 new**" in text and "newcomer" in text


@pytest.fixture
def second_db(admin: str) -> Iterator[str]:
    name = create_database(admin, "nightly2")
    dsn = with_db(admin, name)
    execute_script(dsn, keyless("public.nokey"))
    yield dsn
    drop_database(admin, name)


def _toml_str(value: str) -> str:
    return json.dumps(value)


def test_all_targets_isolates_an_unreachable_one(
    target: str, second_db: str, tmp_path: Path
) -> None:
    config = tmp_path / "pgaudit.toml"
    config.write_text(
        "[[targets]]\nname = \"first\"\ndsn = " + _toml_str(target) + "\n\n"
        "[[targets]]\nname = \"second\"\ndsn = " + _toml_str(second_db) + "\n\n"
        "[[targets]]\nname = \"down\"\n"
        "dsn = \"postgresql://auditor:${DOWN_PASSWORD}@127.0.0.1:1/x?connect_timeout=2\"\n"
    )
    out = tmp_path / "reports"
    result = runner.invoke(
        app,
        ["audit", "--all", "--config", str(config), "--output", str(out), "--format",
         "md,html,json,prom", "--store", f"sqlite:///{tmp_path}/h.db", "--jobs", "3",
         "--checks", "table_without_primary_key"],
        env={"DOWN_PASSWORD": "s3cret-pw"},
    )
    assert result.exit_code == 1, result.output  # second has a critical finding
    assert "down" in result.output and "s3cret-pw" not in result.output
    assert (out / "first" / "report.md").exists(), result.output
    assert (out / "second" / "report.html").exists(), result.output
    assert not (out / "down").exists()
    index = (out / "index.md").read_text()
    assert "could not run" in index and "s3cret-pw" not in index
    prom = (out / "pgaudit.prom").read_text()
    assert 'pgaudit_up{target="down"} 0' in prom
    assert 'pgaudit_findings{target="second",check="table_without_primary_key",' \
           'severity="critical"} 1' in prom


def test_all_targets_unreachable_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "pgaudit.toml"
    config.write_text("[[targets]]\nname = \"down\"\n"
                      "dsn = \"postgresql://u@127.0.0.1:1/x?connect_timeout=2\"\n")
    result = runner.invoke(app, ["audit", "--all", "--config", str(config),
                                 "--output", str(tmp_path / "o")])
    assert result.exit_code == 2


def test_schema_drift_and_trends_use_the_previous_run(target: str, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/h.db"
    args = ["audit", target, "--store", store, "--fail-on", "never",
            "--checks", "schema_drift,table_growth,table_without_primary_key"]
    execute_script(target, "create table public.gone (id int primary key);")
    first = runner.invoke(app, [*args, "-f", "json", "-o", str(tmp_path / "1.json")])
    assert first.exit_code == 0, first.output
    doc = json.loads((tmp_path / "1.json").read_text())
    assert {c["id"]: c["status"] for c in doc["checks"]}["schema_drift"] == "skipped"
    assert "changes" not in doc  # nothing to compare with: no change log, not an empty one
    execute_script(target, "drop table public.gone; alter table public.keyed add column note text;"
                           " create table public.added (id int primary key);")
    second = runner.invoke(app, [*args, "-f", "json,html,md", "-o", str(tmp_path / "2")])
    assert second.exit_code == 0, second.output
    doc = json.loads((tmp_path / "2.json").read_text())
    drift = {(c["object"], c["change"]) for c in doc["changes"]}
    assert ("public.gone", "dropped") in drift
    assert ("public.keyed", "altered") in drift
    assert ("public.added", "added") in drift
    html = (tmp_path / "2.html").read_text()
    assert '<svg class="chart"' in html and "Findings per audit" in html
    assert "Schema changes" in html and "public.gone" in html
    assert "**Schema changes**" in (tmp_path / "2.md").read_text()


def test_schema_drift_is_a_change_log_not_findings(target: str, tmp_path: Path) -> None:
    """A change is an event of the run that saw it: the next, unchanged run logs nothing, and
    neither run counts it as a new or a resolved finding."""
    from pgaudit.store import Store

    store = f"sqlite:///{tmp_path}/h.db"
    args = ["audit", target, "--store", store, "--fail-on", "never", "-f", "json",
            "--checks", "schema_drift,table_without_primary_key"]

    def audit(n: int) -> dict:
        result = runner.invoke(app, [*args, "-o", str(tmp_path / f"{n}.json")])
        assert result.exit_code == 0, result.output
        doc: dict = json.loads((tmp_path / f"{n}.json").read_text())
        assert not [f for f in doc["findings"] if f["check"] == "schema_drift"]
        return doc

    audit(1)
    execute_script(target, "create table public.extra (id int primary key);"
                           " create index keyed_id_idx on public.keyed (id);")
    changed = audit(2)
    assert {(c["object_type"], c["object"], c["change"]) for c in changed["changes"]} == {
        ("table", "public.extra", "added"), ("index", "public.extra_pkey", "added"),
        ("constraint", "extra_pkey on public.extra", "added"),
        ("index", "public.keyed_id_idx", "added")}
    assert changed["diff"]["new"] == [] and changed["diff"]["resolved"] == []
    unchanged = audit(3)
    assert unchanged["changes"] == []
    assert unchanged["diff"]["new"] == [] and unchanged["diff"]["resolved"] == []

    history = Store(store)
    assert [c.object for c in history.changes(changed["diff"]["run_id"])] == [
        "extra_pkey on public.extra", "public.extra", "public.extra_pkey", "public.keyed_id_idx"]
    assert history.changes(unchanged["diff"]["run_id"]) == []
    runs = history.history()
    assert [(r["new"], r["resolved"]) for r in runs] == [(0, 0)] * 3
    # a stored run re-renders with its change log
    shown = runner.invoke(app, ["history", "show", str(changed["diff"]["run_id"]),
                                "--store", store, "--format", "md"])
    assert shown.exit_code == 0, shown.output
    assert "**Schema changes**" in shown.output and "public.keyed\\_id\\_idx" in shown.output


def test_store_upgrade_moves_old_drift_findings_into_the_change_log(tmp_path: Path) -> None:
    """A store written before 0003 holds schema_drift rows as findings: the upgrade makes them
    events of their run, so the next run does not call them resolved."""
    import datetime as dt
    from importlib import resources

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from pgaudit.store import Store
    from pgaudit.store_schema import findings, lifecycles, runs, targets

    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location",
                        str(resources.files("pgaudit").joinpath("store_migrations")))
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(sa.insert(targets).values(id=1, name="t", host="h", port="5432",
                                               database="d", system_identifier="1"))
        conn.execute(sa.insert(runs).values(
            id=1, target_id=1, generated_at=now, recorded_at=now, pgaudit_version="0",
            server_version="15", duration_ms=1.0, critical=0, warning=0, info=1, ok=0, new=1,
            resolved=0, schema_fingerprint="x", settings={}))
        row = {"run_id": 1, "section": "5.3", "severity": "info", "columns": [],
               "index_name": None, "detail": ""}
        conn.execute(sa.insert(findings), [
            {**row, "check_id": "schema_drift", "object": "public.gone", "fingerprint": "a" * 16,
             "title": "Schema changed", "evidence": {
                 "change": "dropped", "identity": "table public.gone",
                 "previous_md5": "0" * 32, "current_md5": None}},
            {**row, "check_id": "table_without_primary_key", "object": "public.t",
             "fingerprint": "b" * 16, "title": "No key", "evidence": {}},
        ])
    engine.dispose()
    store = Store(url)  # upgrades to the head revision
    assert [(c.object, c.object_type, c.change, c.identity) for c in store.changes(1)] == [
        ("public.gone", "table", "dropped", "table public.gone")]
    with store.engine.connect() as conn:  # the findings left became lifecycles (0005)
        left = conn.execute(sa.select(lifecycles.c.check_id)).scalars().all()
    assert left == ["table_without_primary_key"]
