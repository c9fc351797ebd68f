"""``connections``: the checks spread over several read-only sessions, with the same results.

A role's connection limit makes the audit run on fewer sessions (said in the run's scope), a
lost session fails the run as a lost single session does, and the option is validated in the
config and on the command line.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typer.testing import CliRunner

from pgaudit import api
from pgaudit import config as config_mod
from pgaudit import sessions as sessions_mod
from pgaudit.checkfile import CheckSpec, discover
from pgaudit.cli import app
from pgaudit.config import Assumptions
from pgaudit.engine import AuditOptions, audit
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Finding
from tests.casefile import UID, execute_script

PLANTED = Path(__file__).resolve().parent / "schemas" / "planted.sql"
UNREACHABLE = "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=2"

# Evidence that moves between two runs a few seconds apart: ages (of XIDs, multixacts, locks,
# the statistics window), windows and the rates computed over them. Only evidence and check
# reasons may move: a finding's detail (its sentence) is compared strictly, and
# test_two_runs_give_the_same_details names a check that puts a moving number in it.
TIMING_KEYS = {
    "stats_window_s", "snapshot_at", "window_days", "history_days", "updates_per_second",
    "per_day", "inserts_per_day", "net_rows_per_day", "rows_per_day", "seq_scans_per_day",
    "bytes_per_day",
}  # fmt: skip
AGE_KEY = re.compile(r"(^|_)age(_s|_days)?$")
TIMING_TEXT = re.compile(
    r"\b\d{2}:\d{2}:\d{2}\b|\b\d+ s\b"
    r"|[\d.,]+( days?\b|/day\b|/s\b| per (day|second)\b| \w+/day\b| \w+/s\b)"
)
# Counts the server's client sessions, the audit's own included: one more with two sessions.
OWN_SESSIONS = "connection_usage"

# A check that answers with the backend that ran it, after a pause long enough for the other
# session to take the next check from the queue.
WHOAMI = """/* pgaudit
id = "{id}"
title = "Backend identified"
section = "3.3"
format = 2
severity = "info"
detects = "Nothing; names its backend."
why = "Tests which session ran a check."
example = "select pg_backend_pid()"
fix = "nothing to fix"
ignore_when = "Always."
references = ["https://www.postgresql.org/docs/current/functions-info.html"]
ok = "Identified"
impact = "None."
*/
select 'backend' as object, 'database' as object_type,
       pg_catalog.pg_backend_pid() as pid
from (select pg_catalog.pg_sleep({seconds}) as z) s
"""


def _custom_checks(tmp_path: Path, seconds: float, *ids: str) -> list[CheckSpec]:
    for check_id in ids:
        (tmp_path / f"{check_id}.sql").write_text(WHOAMI.format(id=check_id, seconds=seconds))
    found = discover([tmp_path])
    return [found[i] for i in ids]


def _as_user(dsn: str, user: str) -> str:
    params = conninfo_to_dict(dsn)
    params["user"] = user
    params.pop("password", None)
    return make_conninfo(**params)


def _roles(admin: str) -> set[str]:
    with psycopg.connect(admin) as conn:
        return {r[0] for r in conn.execute("select rolname from pg_catalog.pg_roles")}


@pytest.fixture(scope="module")
def planted(admin: str, db: str) -> Iterator[str]:
    """The whole-database planted schema; the roles it creates (cluster-wide) dropped after."""
    before = _roles(admin)
    try:
        execute_script(db, PLANTED.read_text(encoding="utf-8"))
        execute_script(db, "analyze")
        yield db
    finally:
        for role in sorted(_roles(admin) - before):
            execute_script(db, f'drop owned by "{role}"')
            execute_script(admin, f'drop role if exists "{role}"')


def _timeless(value: Any) -> Any:
    if isinstance(value, str):
        return TIMING_TEXT.sub("T", value)
    if isinstance(value, dict):
        return {
            k: _timeless(v)
            for k, v in value.items()
            if k not in TIMING_KEYS and not AGE_KEY.search(k)
        }
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _findings(run: AuditRun, specs: dict[str, CheckSpec]) -> list[dict[str, Any]]:
    """The findings as compared between runs: everything strictly but the evidence's clock,
    and the evidence of activity checks, which counts every session on the server (other
    clients' too, which come and go between two runs)."""
    out = []
    for f in run.findings:
        doc = f.to_dict()
        server_wide = "activity" in specs[f.check].needs
        doc["evidence"] = "server-wide activity" if server_wide else _timeless(doc["evidence"])
        out.append(doc)
    return out


def _checks(run: AuditRun) -> list[tuple[Any, ...]]:
    return [
        (c.id, c.status, _timeless(c.reason), c.skipped_objects, c.statements) for c in run.checks
    ]


def test_two_sessions_give_the_same_run_as_one(planted: str, specs: dict[str, CheckSpec]) -> None:
    opts = {"assumptions": Assumptions(multi_tenant=True, high_traffic=True)}
    chosen = list(specs.values())
    one = audit(planted, chosen, AuditOptions(connections=1, **opts))
    seen: list[str] = []
    two = audit(
        planted, chosen, AuditOptions(connections=2, **opts), lambda s, r: seen.append(s.id)
    )
    assert one.scope["connections"] == 1 and two.scope["connections"] == 2
    assert "connections_note" not in two.scope
    assert sum(1 for f in one.findings if f.severity != "ok") > 50  # the planted defects fired
    strict_one, strict_two = _findings(one, specs), _findings(two, specs)
    differing = sorted({f["check"] for f in strict_one if f not in strict_two}
                       | {f["check"] for f in strict_two if f not in strict_one})  # fmt: skip
    assert strict_two == strict_one, f"findings differ in {differing}"
    assert [c.id for c in two.checks] == [s.id for s in chosen]  # results in the given order
    assert _checks(two) == _checks(one)
    assert sorted(seen) == sorted(s.id for s in chosen)  # progress once per check
    # the extra session's set-up is not counted, as the first one's is not
    assert two.scope["statements"] == one.scope["statements"]
    # connection_usage counts the audit once however many sessions it has (in its database:
    # other audits may run elsewhere on the server)
    own = next(f for f in two.findings if f.check == OWN_SESSIONS)
    assert own.evidence["by_database"].get(conninfo_to_dict(planted)["dbname"]) == 1


def moving_details(first: AuditRun, second: AuditRun) -> dict[str, list[str]]:
    """Per check, the findings whose detail differs between two runs of the same database (or
    that only one run has): a volatile number (an age, an XID distance, a time) in the
    sentence, where it belongs in the evidence."""

    def details(run: AuditRun) -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = {}
        for f in run.findings:
            out.setdefault((f.check, f.fingerprint), []).append(f.detail)
        return {key: sorted(texts) for key, texts in out.items()}

    a, b = details(first), details(second)
    moved: dict[str, list[str]] = {}
    for key in sorted(a.keys() | b.keys()):
        if a.get(key) != b.get(key):
            moved.setdefault(key[0], []).append(f"{a.get(key)} -> {b.get(key)}")
    return moved


def _burn_xids(dsn: str, n: int) -> None:
    """Age every XID-based number: n transactions that each take a transaction id."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(n):
            conn.execute("select pg_catalog.txid_current()")


def test_two_runs_give_the_same_details(planted: str, specs: dict[str, CheckSpec]) -> None:
    """The same database audited twice, with XIDs consumed and the clock past a second between
    the runs: every finding's detail is the same (its evidence may differ)."""
    assumptions = Assumptions(multi_tenant=True, high_traffic=True)
    opts = AuditOptions(connections=1, assumptions=assumptions)
    first = audit(planted, list(specs.values()), opts)
    _burn_xids(planted, 20)
    time.sleep(1.1)
    second = audit(planted, list(specs.values()), opts)
    assert sum(1 for f in first.findings if f.severity != "ok") > 50  # the planted defects fired
    moved = moving_details(first, second)
    examples = "\n".join(f"{check}: {changes[0]}" for check, changes in moved.items())
    assert not moved, (
        f"checks whose detail moves between two runs (volatile numbers belong in the evidence):"
        f" {sorted(moved)}\n{examples}"
    )


def test_teeth_moving_details_names_the_check() -> None:
    def run(*findings: Finding) -> AuditRun:
        return AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                        target={}, facts={}, scope={}, assumptions={}, findings=list(findings),
                        checks=[])  # fmt: skip

    def finding(check: str, detail: str, obj: str = "public.t") -> Finding:
        return Finding(check=check, section="7.1", severity="warning", priority="high",
                       object=obj, object_type="table", title="t", detail=detail,
                       evidence={"xid_age": detail})  # fmt: skip

    steady = finding("steady", "public.t is 9 % of the way")
    before = run(steady, finding("xid_wraparound_risk", "age 1,204,331 of 200,000,000"))
    after = run(steady, finding("xid_wraparound_risk", "age 1,204,352 of 200,000,000"))
    assert moving_details(before, before) == {}
    moved = moving_details(before, after)
    assert list(moved) == ["xid_wraparound_risk"]
    assert "1,204,331" in moved["xid_wraparound_risk"][0]
    # a finding only one run has moved too
    assert list(moving_details(before, run(steady))) == ["xid_wraparound_risk"]
    # evidence alone moving is allowed
    evidence_only = finding("steady", steady.detail)
    evidence_only.evidence = {"xid_age": 1}
    assert moving_details(run(steady), run(evidence_only)) == {}


def test_auto_is_one_session_on_a_small_catalog(db: str, tmp_path: Path) -> None:
    run = audit(db, _custom_checks(tmp_path, 0, "whoami_g", "whoami_h"), AuditOptions())
    assert run.scope["connections"] == 1
    assert "connections_note" not in run.scope


def test_auto_is_two_sessions_on_a_big_catalog(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every database has hundreds of pg_class rows: a low bar makes this one "big"
    monkeypatch.setattr(sessions_mod, "AUTO_RELATIONS", 100)
    checks = _custom_checks(tmp_path, 0.5, "whoami_i", "whoami_j")
    run = audit(db, checks, AuditOptions())
    assert run.scope["connections"] == 2
    assert re.fullmatch(
        r"auto: 2 sessions for [\d,]+ catalog relations", run.scope["connections_note"]
    )
    assert len({f.evidence["pid"] for f in run.findings}) == 2


def test_auto_runs_a_single_check_on_one_session_without_a_note(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions_mod, "AUTO_RELATIONS", 100)
    run = audit(db, _custom_checks(tmp_path, 0, "whoami_m"), AuditOptions())
    assert run.scope["connections"] == 1
    assert "connections_note" not in run.scope


def test_auto_falls_back_to_one_session_with_a_note(
    db: str, admin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions_mod, "AUTO_RELATIONS", 100)
    role = f"pgaudit_auto_one_{UID}"
    execute_script(
        admin,
        f"drop role if exists {role};"
        f" create role {role} with login connection limit 1 in role pg_monitor",
    )
    try:
        run = audit(
            _as_user(db, role), _custom_checks(tmp_path, 0, "whoami_k", "whoami_l"), AuditOptions()
        )
    finally:
        execute_script(admin, f"drop role {role}")
    assert run.scope["connections"] == 1
    assert run.scope["connections_note"].startswith("auto chose 2, ran on 1: ")


def test_the_checks_really_run_on_both_sessions(db: str, tmp_path: Path) -> None:
    checks = _custom_checks(tmp_path, 0.5, "whoami_a", "whoami_b")
    pids = {}
    for n in (1, 2):
        run = audit(db, checks, AuditOptions(connections=n))
        assert [c.status for c in run.checks] == ["ran", "ran"]
        pids[n] = {f.check: f.evidence["pid"] for f in run.findings}
        assert run.scope["connections"] == n
    assert pids[1]["whoami_a"] == pids[1]["whoami_b"]
    assert pids[2]["whoami_a"] != pids[2]["whoami_b"]


def test_fewer_checks_than_sessions_is_said(db: str, tmp_path: Path) -> None:
    checks = _custom_checks(tmp_path, 0, "whoami_c", "whoami_d")
    run = audit(db, checks, AuditOptions(connections=3))
    assert run.scope["connections"] == 2
    assert run.scope["connections_note"] == "asked for 3, ran on 2: only 2 checks"


def test_role_connection_limit_runs_on_fewer_sessions(
    db: str, admin: str, specs: dict[str, CheckSpec]
) -> None:
    role = f"pgaudit_one_conn_{UID}"
    execute_script(
        admin,
        f"drop role if exists {role};"
        f" create role {role} with login connection limit 1 in role pg_monitor",
    )
    chosen = [specs[i] for i in ("table_without_primary_key", "json_instead_of_jsonb")]
    try:
        run = audit(_as_user(db, role), chosen, AuditOptions(connections=3))
    finally:
        execute_script(admin, f"drop role {role}")
    assert run.target["user"] == role
    assert [c.status for c in run.checks] == ["ran", "ran"]
    assert run.scope["connections"] == 1
    note = run.scope["connections_note"]
    assert note.startswith("asked for 3, ran on 1: "), note
    assert "too many connections for role" in note, note
    assert "\n" not in note


def test_a_lost_extra_session_fails_the_run(db: str, admin: str, tmp_path: Path) -> None:
    checks = _custom_checks(tmp_path, 4, "whoami_e", "whoami_f")
    errors: list[BaseException] = []
    runs: list[AuditRun] = []

    def run() -> None:
        try:
            runs.append(audit(db, checks, AuditOptions(connections=2)))
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    killed = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not killed:
        time.sleep(0.2)
        with psycopg.connect(admin, autocommit=True) as conn:
            pids = [
                pid
                for (pid,) in conn.execute(
                    "select pid from pg_catalog.pg_stat_activity where datname = %s"
                    " and application_name = 'pgaudit' and query like '%%pg_sleep%%'"
                    " order by backend_start",
                    [conninfo_to_dict(db)["dbname"]],
                )
            ]
            if len(pids) == 2:  # both sessions sleep: end the later one, the extra session
                row = conn.execute("select pg_terminate_backend(%s)", [pids[1]]).fetchone()
                killed = bool(row and row[0])
    t.join(timeout=30)
    assert killed, "the two audit sessions were never seen running"
    assert not runs, runs
    assert errors and isinstance(errors[0], PgauditError), errors
    assert str(errors[0]).startswith("lost the connection to the server: "), errors[0]


# --- config and command line -----------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PGAUDIT_DSN", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _one_error_line(result: Any, needle: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pgaudit: error: ") and needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr and "s3cr3t-pw" not in result.stderr


@pytest.mark.parametrize("value", ["0", "9", "-1", "'2'", "true"])
def test_config_connections_out_of_range_is_one_line(cli, tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f"[audit]\nconnections = {value}\n", encoding="utf-8")
    _one_error_line(cli("audit", UNREACHABLE, "--config", str(cfg)), "audit.connections")


def test_config_connections_reaches_the_options(tmp_path: Path) -> None:
    cfg = tmp_path / "pgaudit.toml"
    cfg.write_text("[audit]\nconnections = 4\n", encoding="utf-8")
    assert api.options_from_config(config_mod.load(cfg)).connections == 4
    assert api.options_from_config(config_mod.Config()).connections == "auto"


@pytest.mark.parametrize("value", ["0", "9", "two"])
def test_cli_connections_out_of_range_is_one_line(cli, value: str) -> None:
    _one_error_line(cli("audit", UNREACHABLE, "--connections", value), f"--connections {value}")


def test_cli_connections_overrides_the_config(cli, db: str, tmp_path: Path) -> None:
    execute_script(db, "create table if not exists public.cli_no_pk (a int)")
    (tmp_path / "pgaudit.toml").write_text("[audit]\nconnections = 1\n", encoding="utf-8")
    r = cli(
        "audit", db, "--connections", "2", "-f", "json", "-o", "r.json",
        "--checks", "table_without_primary_key,json_instead_of_jsonb", "--fail-on", "never",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["scope"]["connections"] == 2
    assert "connections_note" not in doc["scope"]
    assert ("table_without_primary_key", "public.cli_no_pk") in {
        (f["check"], f["object"]) for f in doc["findings"]
    }
    r = cli("audit", db, "-f", "json", "-o", "r1.json", "--checks", "json_instead_of_jsonb")
    assert r.exit_code == 0, r.stderr
    assert json.loads((tmp_path / "r1.json").read_text())["scope"]["connections"] == 1
