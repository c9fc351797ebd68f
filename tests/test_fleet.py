"""Fleet runs (issue 15): ``audit --all`` over 200 targets, one process each, a wall-clock limit
per target, results out as each target finishes, ``--shard I/N``.

The fleet: 40 entries pointing at this module's database, 159 unreachable (a closed port) and
one that hangs (a socket that accepts connections and never answers). A few checks only: the
subject is the fleet machinery, not the checks.
"""

from __future__ import annotations

import json
import re
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from pgaudit import api, targets
from pgaudit.cli import app
from pgaudit.config import Target
from pgaudit.errors import PgauditError
from tests.casefile import execute_script

runner = CliRunner()
REAL, DOWN = 40, 159
CHECKS = "table_without_primary_key,unindexed_foreign_key"


@pytest.fixture(scope="module")
def hanging() -> Iterator[int]:
    """A port that completes the TCP handshake (the kernel does, from the listen backlog) and
    then never says a word: a server hung before its startup reply."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope="module")
def fleet(db: str, hanging: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    execute_script(db, "drop schema public cascade; create schema public;"
                       " create table public.keyed (id bigint primary key);"
                       " create table public.nokey (x int);")
    entries = []
    for i in range(REAL + DOWN + 1):
        if i == 7:  # early in the list: it must not hold the ones after it
            dsn = f"postgresql://u@127.0.0.1:{hanging}/x?connect_timeout=120"
        elif i % 5 == 0:
            dsn = db
        else:
            dsn = "postgresql://u@127.0.0.1:1/x?connect_timeout=2"
        entries.append(f'[[targets]]\nname = "t{i:03d}"\ndsn = {json.dumps(dsn)}\n')
    assert sum(1 for e in entries if json.dumps(db) in e) == REAL
    config = tmp_path_factory.mktemp("fleet") / "pgaudit.toml"
    config.write_text("\n".join(entries), encoding="utf-8")
    return config


def test_the_hanging_port_really_hangs(hanging: int) -> None:
    """Teeth for the fleet test: without the per-target limit this target takes the whole
    connect_timeout."""
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://u@127.0.0.1:{hanging}/x?connect_timeout=2")
    assert time.monotonic() - started >= 1.9


@pytest.mark.slow  # ~25 s: 200 processes, 40 audits, one 4 s timeout
def test_two_hundred_targets_with_one_hanging(fleet: Path, tmp_path: Path) -> None:
    out, store = tmp_path / "reports", f"sqlite:///{tmp_path}/h.db"
    started = time.monotonic()
    result = runner.invoke(app, [
        "audit", "--all", "--config", str(fleet), "--output", str(out), "--format",
        "md,json,prom", "--store", store, "--jobs", "4", "--target-timeout", "4",
        "--checks", CHECKS, "--fail-on", "never"])
    seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    # the hanging target (connect_timeout 120 s) was stopped at 4 s; nothing waited for it
    assert seconds < 50, seconds
    assert "target t007: timed out after 4 s" in result.output
    prom = (out / "pgaudit.prom").read_text()
    assert prom.count("pgaudit_up{") == REAL + DOWN + 1
    assert prom.count("} 1\n", prom.index("# TYPE pgaudit_up")) == REAL
    assert 'pgaudit_up{target="t007"} 0' in prom
    reports = sorted(p.parent.name for p in out.glob("*/report.json"))
    assert len(reports) == REAL and reports[0] == "t000"
    doc = json.loads((out / "t195" / "report.json").read_text())
    assert {f["object"] for f in doc["findings"] if f["severity"] != "ok"} == {"public.nokey"}
    index = (out / "index.md").read_text()
    assert index.count("could not run") == DOWN + 1
    # every reachable target recorded in the one store
    history = api.open_store(store).history("t195")
    assert len(history) == 1
    # each target ran in its own process: none of them grew big
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 500 * 1024


def test_each_target_is_written_and_recorded_as_it_finishes(
    fleet: Path, tmp_path: Path
) -> None:
    """When the first reachable target is done its report and its stored run exist, while the
    hanging one is still running."""
    settings = api.setup(api.Overrides(config=fleet, checks=CHECKS.split(","),
                                       store=f"sqlite:///{tmp_path}/h.db"))
    settings.config.targets = [t for t in settings.config.targets
                               if t.name in {"t000", "t005", "t007"}]
    out = tmp_path / "out"
    seen: list[tuple[str, bool, int, float]] = []
    started = time.monotonic()

    def done(outcome: targets.Outcome) -> None:
        stored = len(api.open_store(settings.store_url).history(outcome.name))
        seen.append((outcome.name, (out / outcome.name / "report.md").exists(), stored,
                     time.monotonic() - started))

    outcomes = targets.audit_all(settings, jobs=3, on_done=done, output=out, formats=["md"],
                                 timeout_s=3)
    assert [o.name for o in outcomes] == ["t000", "t005", "t007"]  # the config's order
    assert [s[:3] for s in seen] == [("t000", True, 1), ("t005", True, 1), ("t007", False, 0)] \
        or [s[:3] for s in seen] == [("t005", True, 1), ("t000", True, 1), ("t007", False, 0)]
    assert seen[1][3] < 2.5 <= seen[2][3]  # the two were out long before the limit
    assert outcomes[2].run is None and outcomes[2].error == "timed out after 3 s"
    assert outcomes[0].run is not None and outcomes[0].run.summary.critical + \
        outcomes[0].run.summary.warning >= 1


def test_shards_split_the_targets_deterministically() -> None:
    fleet = [Target(name=f"t{i}", dsn="x") for i in range(10)]
    shards = [targets.shard_targets(fleet, (i, 3)) for i in range(3)]
    assert [[t.name for t in s] for s in shards] == [
        ["t0", "t3", "t6", "t9"], ["t1", "t4", "t7"], ["t2", "t5", "t8"]]
    assert shards == [targets.shard_targets(fleet, (i, 3)) for i in range(3)]
    assert targets.shard_targets(fleet, None) == fleet
    assert targets.parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "1", "-1/4", "a/b", "1/0", "1/4/2"):
        with pytest.raises(PgauditError, match="--shard"):
            targets.parse_shard(bad)


def test_a_shard_audits_only_its_share(fleet: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = runner.invoke(app, [
        "audit", "--all", "--config", str(fleet), "--output", str(out), "--format", "json",
        "--shard", "0/50", "--checks", CHECKS, "--fail-on", "never", "--target-timeout", "5"])
    assert result.exit_code == 0, result.output
    # positions 0, 50, 100, 150 of the config: all four point at the database
    assert sorted(p.parent.name for p in out.glob("*/report.json")) == [
        "t000", "t050", "t100", "t150"]
    assert len(re.findall(r"^\| t\d{3} \|", (out / "index.md").read_text(), re.M)) == 4


@pytest.mark.parametrize("args, message", [
    (["--shard", "3/3"], "--shard '3/3'"),
    (["--shard", "x"], "--shard 'x'"),
    (["--target-timeout", "0"], "timeout must be positive"),
])
def test_bad_fleet_options_exit_2_in_one_line(
    fleet: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["audit", "--all", "--config", str(fleet), "--output",
                                 str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_shard_without_all_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "postgresql://u@127.0.0.1:1/x", "--shard", "0/2",
                                 "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "--shard needs --all" in result.output
