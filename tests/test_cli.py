"""The ``pgaudit`` command end to end against a real database: every command, every exit code.

Exit status: 0 ran and nothing reached --fail-on; 1 findings at or above it (waived ones
excluded); 2 could not run, with one ``pgaudit: error:`` line on stderr and no traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from pgaudit import api
from pgaudit.cli import app

TWO = "table_without_primary_key,json_instead_of_jsonb"
FUTURE = (dt.date.today() + dt.timedelta(days=90)).isoformat()
PAST = (dt.date.today() - dt.timedelta(days=1)).isoformat()
UNREACHABLE = "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=2"


@pytest.fixture(scope="module")
def shop(db: str) -> str:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("""
            create schema shop;
            create table shop.no_pk (a int, b text);
            create table shop.docs (id int primary key, body json);
            create schema other;
            create table other.also_no_pk (x int);
            -- real data and no key of any kind: a critical (an empty one is a warning)
            insert into shop.no_pk select g, 'x' from generate_series(1, 10000) g;
            insert into other.also_no_pk select generate_series(1, 10000);
            analyze shop.no_pk; analyze other.also_no_pk;
        """)
    return db


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray ./pgaudit.toml; outputs land in tmp_path
    monkeypatch.delenv("PGAUDIT_DSN", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


def _one_error_line(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pgaudit: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr and "s3cr3t-pw" not in result.stderr


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- audit and exit codes ------------------------------------------------------------------

def test_audit_json_document_and_exit_1(cli, shop, tmp_path):
    r = cli("audit", shop, "--format", "json", "--output", "r.json", "--checks", TWO,
            "--schema", "shop")
    assert r.exit_code == 1, r.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    for key in ("schema_version", "pgaudit_version", "generated_at", "target", "summary",
                "findings", "checks"):
        assert key in doc
    assert "password" not in json.dumps(doc["target"])
    found = {(f["check"], f["object"]) for f in doc["findings"] if f["severity"] != "ok"}
    assert found == {("table_without_primary_key", "shop.no_pk"),
                     ("json_instead_of_jsonb", "shop.docs")}
    assert r.stdout == ""  # quiet when not on a terminal


@pytest.mark.parametrize(("fail_on", "code"), [
    ("never", 0), ("critical", 1), ("warning", 1), ("info", 1)])
def test_fail_on(cli, shop, fail_on, code):
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", TWO, "--schema", "shop",
            "--fail-on", fail_on)
    assert r.exit_code == code


def test_fail_on_below_threshold_is_0(cli, shop):
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", "json_instead_of_jsonb",
            "--schema", "shop", "--fail-on", "critical")
    assert r.exit_code == 0, r.stderr
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", "json_instead_of_jsonb",
            "--schema", "shop", "--fail-on", "warning")
    assert r.exit_code == 1


def test_markdown_to_stdout_by_default(cli, shop):
    r = cli("audit", shop, "--checks", TWO, "--schema", "shop", "--fail-on", "never")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("# Production Database Review — ")
    assert "## Executive Summary" in r.stdout and "shop.no\\_pk" in r.stdout


def test_several_formats_to_a_folder_and_a_stem(cli, shop, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    r = cli("audit", shop, "-f", "md,html", "-f", "json", "-f", "sarif", "-o", str(out),
            "--checks", TWO, "--schema", "shop", "--skip", "json_instead_of_jsonb")
    assert r.exit_code == 1, r.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "report.html", "report.json", "report.md", "report.sarif"]
    sarif = json.loads((out / "report.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert [x["ruleId"] for x in sarif["runs"][0]["results"]] == ["table_without_primary_key"]
    r = cli("audit", shop, "-f", "md,json", "-o", str(tmp_path / "audit"), "--checks", TWO,
            "--schema", "shop")
    assert r.exit_code == 1
    assert (tmp_path / "audit.md").exists() and (tmp_path / "audit.json").exists()


def test_schema_globs_and_sections(cli, shop, tmp_path):
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", "1.1",
            "--schema", "*", "--exclude-schema", "sh*", "--fail-on", "never")
    assert r.exit_code == 0, r.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["scope"]["schemas"] == ["other", "public"]
    objects = {f["object"] for f in doc["findings"] if f["severity"] != "ok"}
    assert "other.also_no_pk" in objects and not any(o.startswith("shop.") for o in objects)
    assert all(c["id"] in api.load_checks() for c in doc["checks"])


def test_full_audit_all_checks(cli, shop, tmp_path):
    r = cli("audit", shop, "-f", "json,md,html", "-o", str(tmp_path / "full"),
            "--lock-timeout", "1s", "--statement-timeout", "20s", "--no-data")
    assert r.exit_code == 1, r.stderr
    doc = json.loads((tmp_path / "full.json").read_text())
    assert doc["scope"]["lock_timeout_ms"] == 1000 and doc["scope"]["allow_data"] is False
    assert len(doc["checks"]) == len(api.load_checks())
    data_checks = [s.id for s in api.load_checks().values() if "data" in s.needs]
    for c in doc["checks"]:
        if c["id"] in data_checks:
            assert c["status"] == "skipped" and "--no-data" in c["reason"]
    md = (tmp_path / "full.md").read_text()
    assert "## 7. Scalability & Cost Optimization" in md and "## Sign-off" in md


# --- exit 2: could not run -----------------------------------------------------------------

def test_unreachable_server_is_2_without_password(cli):
    _one_error_line(cli("audit", UNREACHABLE), "cannot connect")


def test_bad_dsn_is_2(cli):
    _one_error_line(cli("audit", "host=127.0.0.1 port=notaport password=s3cr3t-pw"))


def test_dsn_from_environment(cli, shop, monkeypatch):
    monkeypatch.setenv("PGAUDIT_DSN", shop)
    r = cli("audit", "--checks", TWO, "--schema", "shop", "-f", "json")
    assert r.exit_code == 1 and json.loads(r.stdout)["target"]["database"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--format", "pdf"], "unknown format 'pdf'"),
    (["--checks", "no_such_check"], "unknown check id or section: no_such_check"),
    (["--fail-on", "sometimes"], "--fail-on"),
    (["--lock-timeout", "soon"], "--lock-timeout"),
    (["-f", "md,html"], "several formats need --output"),
])
def test_bad_options_are_2_before_connecting(cli, args, needle):
    # the DSN is unreachable: these must fail on the option, not on the connection
    _one_error_line(cli("audit", UNREACHABLE, *args), needle)


def test_a_missing_folder_is_created_only_for_a_finished_audit(cli, tmp_path):
    # "dir/" names a folder, created with its parents once the reports exist (issue 17): a
    # failed audit leaves nothing behind, and the slash never makes it a file stem "dir.md"
    _one_error_line(cli("audit", UNREACHABLE, "-f", "md,json", "-o", f"{tmp_path}/new/sub/"),
                    "cannot connect")
    assert not list(tmp_path.iterdir())
    (tmp_path / "afile").write_text("")
    _one_error_line(cli("audit", UNREACHABLE, "-f", "md,json", "-o", f"{tmp_path}/afile/x/"),
                    "output folder", "is a file")


def test_unwritable_output_is_2_before_connecting(cli, tmp_path):
    _one_error_line(cli("audit", UNREACHABLE, "-o", str(tmp_path / "no" / "r.md")),
                    "does not exist")
    (tmp_path / "adir").mkdir()
    _one_error_line(cli("audit", UNREACHABLE, "-f", "json", "-o", str(tmp_path / "adir" / "")),
                    "cannot connect")  # an existing folder is fine: report.json goes inside
    assert not list((tmp_path / "adir").iterdir())


def test_failed_audit_leaves_existing_report_intact(cli, tmp_path):
    report = _write(tmp_path / "r.md", "previous report\n")
    r = cli("audit", UNREACHABLE, "-o", str(report))
    assert r.exit_code == 2
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]


@pytest.mark.parametrize(("toml", "needle"), [
    ("[audit]\nschemaz = ['x']\n", "audit.schemaz"),
    ("[[waivers]]\ncheck='table_without_primary_key'\nobject='x'\nreason='r'\n"
     "approved_by='a'\nexpires='not a date'\n", "waivers.0.expires"),
    ("[checks.no_such_check]\nseverity='info'\n", "unknown check id: no_such_check"),
    ("[audit\n", "not valid TOML"),
])
def test_bad_config_is_2(cli, tmp_path, toml, needle):
    cfg = _write(tmp_path / "bad.toml", toml)
    _one_error_line(cli("audit", UNREACHABLE, "--config", str(cfg)), needle)


def test_missing_config_is_2(cli, tmp_path):
    _one_error_line(cli("audit", UNREACHABLE, "--config", str(tmp_path / "nope.toml")),
                    "does not exist")


def test_ctrl_c_is_2(cli, shop, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "run_audit", interrupted)
    _one_error_line(cli("audit", shop, "--checks", TWO), "interrupted")


def test_installed_entry_point_exit_codes(shop, tmp_path):
    exe = Path(sys.executable).with_name("pgaudit")
    r = subprocess.run([str(exe), "audit", UNREACHABLE], capture_output=True, text=True,
                       cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "s3cr3t-pw" not in r.stderr
    r = subprocess.run([str(exe), "audit", shop, "--checks", TWO, "--schema", "shop",
                        "--fail-on", "never", "-f", "json"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and r.stderr == ""  # a pipe: no progress, no summary
    assert json.loads(r.stdout)["summary"]["critical"] == 1


# --- waivers and baseline ------------------------------------------------------------------

def _waiver(obj: str, expires: str, check: str = "table_without_primary_key",
            extra: str = "") -> str:
    return (f"[[waivers]]\ncheck = '{check}'\nobject = '{obj}'\n{extra}"
            f"reason = 'legacy <import> | table'\napproved_by = 'Jane DBA'\nexpires = {expires}\n")


def test_waiver_accepts_a_finding(cli, shop, tmp_path):
    cfg = _write(tmp_path / "pgaudit.toml", _waiver("shop.no_pk", FUTURE))
    r = cli("audit", shop, "-f", "json,md", "-o", "r", "--checks", TWO, "--schema", "shop",
            "--config", str(cfg), "--fail-on", "critical")
    assert r.exit_code == 0, r.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    waived = [f for f in doc["findings"] if f["waived"]]
    assert [(f["object"], f["waived"]["approved_by"]) for f in waived] == [
        ("shop.no_pk", "Jane DBA")]
    assert doc["summary"]["critical"] == 0 and doc["summary"]["waived"] == 1
    md = (tmp_path / "r.md").read_text()
    assert "## Accepted Risks" in md and "legacy \\<import\\> \\| table" in md
    assert "🔴 Critical Issues:** 0" in md
    # still fails on a lower threshold because of the unwaived json finding
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", TWO, "--schema", "shop",
            "--config", str(cfg), "--fail-on", "warning")
    assert r.exit_code == 1


def test_default_config_file_is_read(cli, shop, tmp_path):
    _write(tmp_path / "pgaudit.toml", "[audit]\nfail_on = 'never'\n")
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", TWO, "--schema", "shop")
    assert r.exit_code == 0, r.stderr


def test_expired_waiver_stops_applying(cli, shop, tmp_path):
    cfg = _write(tmp_path / "w.toml", _waiver("shop.no_pk", PAST))
    r = cli("audit", shop, "-f", "json,md", "-o", "r", "--checks", TWO, "--schema", "shop",
            "--config", str(cfg))
    assert r.exit_code == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    assert not any(f["waived"] for f in doc["findings"])
    assert doc["waivers"]["expired"][0]["object"] == "shop.no_pk"
    assert f"expired {PAST}" in (tmp_path / "r.md").read_text()


def test_stale_waiver_is_reported(cli, shop, tmp_path):
    cfg = _write(tmp_path / "w.toml", _waiver("shop.dropped_long_ago", FUTURE)
                 + _waiver("shop.no_pk", FUTURE, extra="columns = ['nope']\n"))
    r = cli("audit", shop, "-f", "json,md", "-o", "r", "--checks", TWO, "--schema", "shop",
            "--config", str(cfg))
    assert r.exit_code == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    assert sorted(w["object"] for w in doc["waivers"]["stale"]) == [
        "shop.dropped_long_ago", "shop.no_pk"]
    assert "**Stale waivers**" in (tmp_path / "r.md").read_text()


def test_baseline_then_gate_only_new_problems(cli, shop, tmp_path):
    cfg = _write(tmp_path / "pgaudit.toml", "# team config\n[audit]\nfail_on = 'info'\n")
    r = cli("baseline", shop, "--reason", 'legacy "v1" schema', "--approved-by", "Jane DBA",
            "--expires", FUTURE, "--output", str(cfg), "--checks", TWO, "--schema", "shop")
    assert r.exit_code == 0, r.stderr
    assert "2 waivers written" in r.stderr
    parsed = tomllib.loads(cfg.read_text())
    assert parsed["audit"]["fail_on"] == "info"
    assert {w["object"] for w in parsed["waivers"]} == {"shop.no_pk", "shop.docs"}
    assert all(w["reason"] == 'legacy "v1" schema' for w in parsed["waivers"])
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", TWO, "--schema", "shop",
            "--config", str(cfg))
    assert r.exit_code == 0, r.stderr
    # a second baseline adds nothing: everything is waived already
    r = cli("baseline", shop, "--reason", "x", "--approved-by", "y", "--expires", FUTURE,
            "--output", str(cfg), "--checks", TWO, "--schema", "shop")
    assert r.exit_code == 0 and "0 waivers" in r.stderr
    # a new problem still fails the gate
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("create table shop.new_no_pk (a int);"
                     " insert into shop.new_no_pk select generate_series(1, 10000);"
                     " analyze shop.new_no_pk")
    try:
        r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", TWO,
                "--schema", "shop", "--config", str(cfg))
        assert r.exit_code == 1
    finally:
        with psycopg.connect(shop, autocommit=True) as conn:
            conn.execute("drop table shop.new_no_pk")


def test_baseline_creates_file_and_validates_options(cli, shop, tmp_path):
    out = tmp_path / "new.toml"
    _one_error_line(cli("baseline", shop, "--reason", "r", "--approved-by", "a",
                        "--expires", "2020-01-01", "-o", str(out)), "not in the future")
    _one_error_line(cli("baseline", shop, "--reason", "r", "--expires", FUTURE, "-o", str(out)),
                    "--approved-by")
    _one_error_line(cli("baseline", shop, "--reason", "r", "--approved-by", "a",
                        "--expires", "someday", "-o", str(out)), "not a date")
    assert not out.exists()
    r = cli("baseline", shop, "--reason", "r", "--approved-by", "a", "--expires", FUTURE,
            "-o", str(out), "--checks", "table_without_primary_key")
    assert r.exit_code == 0, r.stderr
    objects = {w["object"] for w in tomllib.loads(out.read_text())["waivers"]}
    assert objects == {"shop.no_pk", "other.also_no_pk"}


# --- the other commands --------------------------------------------------------------------

def test_checks_listing(cli):
    r = cli("checks", "--format", "json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert {"id", "title", "section", "severity", "needs", "min_server_version"} <= set(rows[0])
    assert "table_without_primary_key" in {row["id"] for row in rows}
    r = cli("checks")
    assert r.exit_code == 0 and "table_without_primary_key" in r.stdout
    _one_error_line(cli("checks", "--format", "xml"), "unknown format")


def test_user_checks_dir(cli, shop, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    src = Path(api.load_checks()["table_without_primary_key"].path).read_text()
    (mine / "my_no_pk.sql").write_text(src.replace('id = "table_without_primary_key"',
                                                   'id = "my_no_pk"'))
    r = cli("checks", "--format", "json", "--checks-dir", str(mine))
    assert "my_no_pk" in {row["id"] for row in json.loads(r.stdout)}
    r = cli("audit", shop, "--checks-dir", str(mine), "--checks", "my_no_pk", "-f", "json",
            "--schema", "shop")
    assert r.exit_code == 1 and json.loads(r.stdout)["findings"][0]["check"] == "my_no_pk"
    _one_error_line(cli("checks", "--checks-dir", str(tmp_path / "none")), "does not exist")


def test_explain(cli):
    r = cli("explain", "table_without_primary_key")
    assert r.exit_code == 0
    for heading in ("What it detects", "Why it matters", "Example", "Fix", "When to ignore it",
                    "References", "severity warning → critical", "section 1.1"):
        assert heading in r.stdout, heading
    _one_error_line(cli("explain", "no_such_check"), "unknown check id: no_such_check")


def test_render_without_a_database(cli, shop, tmp_path):
    r = cli("audit", shop, "-f", "json", "-o", "run.json", "--checks", TWO, "--schema", "shop")
    assert r.exit_code == 1
    for fmt in ("html", "md", "sarif"):
        r = cli("render", "run.json", "--format", fmt, "--output", f"again.{fmt}")
        assert r.exit_code == 0, r.stderr
    assert "<!DOCTYPE html>" in (tmp_path / "again.html").read_text()
    r = cli("render", str(Path(__file__).parent / "render" / "run.json"), "-f", "md")
    assert r.exit_code == 0 and "## Accepted Risks" in r.stdout
    _write(tmp_path / "bad.json", "{not json")
    _one_error_line(cli("render", "bad.json", "-f", "md"), "not a JSON document")
    _write(tmp_path / "other.json", '{"a": 1}')
    _one_error_line(cli("render", "other.json", "-f", "md"), "not a pgaudit run document")
    _one_error_line(cli("render", "missing.json"), "does not exist")
    _one_error_line(cli("render", "run.json", "-f", "docx"), "unknown format")


def no_data_problems(checks: list[dict], specs: dict) -> list[str]:
    """Preflight with --no-data: every check that reads rows says it cannot run because of
    --no-data, and no other check does. A catalogue without data checks tests nothing."""
    reading = {s.id for s in specs.values() if "data" in s.needs}
    if not reading:
        return ["no check reads data: nothing shows --no-data at work"]
    said = {c["id"] for c in checks if not c["can_run"] and "--no-data" in (c["reason"] or "")}
    problems = [f"{i}: reads data; preflight does not say --no-data stops it"
                for i in sorted(reading - said)]  # fmt: skip
    problems += [f"{i}: reads no data; preflight blames --no-data" for i in sorted(said - reading)]
    return problems


def test_teeth_no_data_problems() -> None:
    specs = api.load_checks()
    reading = sorted(s.id for s in specs.values() if "data" in s.needs)
    stopped = [{"id": i, "can_run": False, "reason": "reads table rows; disabled by --no-data"}
               for i in reading]
    assert not no_data_problems(stopped, specs)
    # the old form passed both of these: nothing reported, or no data check at all
    running = [{**c, "can_run": True, "reason": None} for c in stopped]
    assert len(no_data_problems(running, specs)) == len(reading)
    catalog_only = {k: s for k, s in specs.items() if "data" not in s.needs}
    assert no_data_problems(stopped, catalog_only) == [
        "no check reads data: nothing shows --no-data at work"]


def test_preflight(cli, shop):
    r = cli("preflight", shop)
    assert r.exit_code == 0, r.stderr
    assert "pg_monitor" in r.stdout and "table_without_primary_key" in r.stdout
    r = cli("preflight", shop, "--format", "json", "--no-data")
    doc = json.loads(r.stdout)
    assert {c["id"] for c in doc["checks"]} == set(api.load_checks())
    assert not no_data_problems(doc["checks"], api.load_checks())
    _one_error_line(cli("preflight", UNREACHABLE), "cannot connect")


def test_pg_monitor_only_role_completes_and_lists_skips(cli, shop, admin, tmp_path):
    role = f"pgaudit_mon_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"create role {role} login; grant pg_monitor to {role}")
    try:
        dsn = psycopg.conninfo.make_conninfo(shop, user=role)
        r = cli("audit", dsn, "-f", "json,md", "-o", "mon", "--fail-on", "never")
        assert r.exit_code == 0, r.stderr
        doc = json.loads((tmp_path / "mon.json").read_text())
        assert doc["target"]["user"] == role
        skipped = [c for c in doc["checks"] if c["status"] == "skipped"]
        needing = [s.id for s in api.load_checks().values()
                   if {"data", "column_stats"} & set(s.needs)]
        assert {c["id"] for c in skipped} >= set(needing)
        md = (tmp_path / "mon.md").read_text()
        assert "## Checks Not Run" in md and "pg\\_read\\_all\\_data" in md
        r = cli("preflight", dsn)
        assert "[x] pg_monitor" in r.stdout and "[ ] superuser" in r.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop role {role}")


def test_demo_without_the_extra_is_2(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "pgaudit.demo", None)  # import fails as if not installed
    _one_error_line(cli("demo", "--output-dir", "d"), "pgaudit[demo]")


def test_version_and_help(cli):
    r = cli("--version")
    assert r.exit_code == 0 and r.stdout.startswith("pgaudit ")
    r = cli("--help")
    assert r.exit_code == 0
    for command in ("audit", "checks", "explain", "render", "baseline", "preflight", "demo"):
        assert command in r.stdout
