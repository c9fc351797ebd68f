"""Issue 17, the first hour with pgaudit: what a DBA meets at the terminal and in the files.

Output paths (a folder is created, a stem is said), the terminal (a summary on screen, the
reports in ./pgaudit-report/; Markdown only down a pipe), ``history`` (terminal width, ``show``,
the --fail-on-new message) and the advice (length CHECKs from whole-table statistics, priority
following size, labels from the facts they describe).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import sqlite3
import struct
import subprocess
import sys
import termios
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from pgaudit import cli as cli_module
from pgaudit.cli import app

NO_PK = "table_without_primary_key"
UNREACHABLE = "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=2"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shop(db: str) -> str:
    """One critical finding in schema shop: a table without a primary key."""
    from tests.casefile import execute_script

    execute_script(db, "create schema shop; create table shop.no_pk (a int, b text);"
                       " insert into shop.no_pk select g, 'x' from generate_series(1, 10000) g;"
                       " analyze shop.no_pk;"
                       " create table shop.keyed (id bigint primary key);")
    return db


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a fresh directory, as a new user's
    monkeypatch.delenv("PGAUDIT_DSN", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), env=env)

    return run


def _in_pty(argv: list[str], cwd: Path, columns: int = 100) -> tuple[int, str]:
    """Run ``argv`` with stdin, stdout and stderr on a pseudo-terminal; its screen output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PGAUDIT_DSN")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                            close_fds=True)
    os.close(slave)
    out = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 180)
            if not ready:
                proc.kill()
                raise AssertionError("no output from the pty for 180 s")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return proc.wait(timeout=60), out.decode(errors="replace")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def _screen_text(raw: str) -> str:
    return _ANSI.sub("", raw)


# --- 1. output paths -------------------------------------------------------------------------

def test_readme_example_writes_a_new_folder(cli, shop, tmp_path):
    # the README's own example, in a fresh directory: the folder is created
    r = cli("audit", shop, "--format", "md,html,json", "--output", "reports/",
            "--checks", NO_PK, "--schema", "shop")
    assert r.exit_code == 1, r.stderr
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "report.html", "report.json", "report.md"]
    # parents too, and one format into a folder
    r = cli("audit", shop, "-f", "json", "-o", "nightly/2026/12/", "--checks", NO_PK,
            "--schema", "shop")
    assert r.exit_code == 1, r.stderr
    assert json.loads((tmp_path / "nightly/2026/12/report.json").read_text())["findings"]


def test_a_bare_name_with_several_formats_is_a_stem_and_says_so(cli, shop, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(cli_module, "_tty", lambda: True)  # stderr on a terminal
    r = cli("audit", shop, "--format", "md,html,json", "--output", "reports",
            "--checks", NO_PK, "--schema", "shop")
    assert r.exit_code == 1, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "reports.html", "reports.json", "reports.md"]
    assert ("reports: reports.md, reports.html, reports.json (--output reports has no "
            "trailing /: a file stem; --output reports/ writes a folder)") in r.stderr


def test_an_existing_folder_without_a_slash_is_a_folder(cli, shop, tmp_path):
    (tmp_path / "out").mkdir()
    r = cli("audit", shop, "-f", "md,json", "-o", "out", "--checks", NO_PK, "--schema", "shop")
    assert r.exit_code == 1, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.md"]


def test_nothing_written_half_way(cli, shop, tmp_path, monkeypatch):
    # an unreachable database: no folder created
    r = cli("audit", UNREACHABLE, "-f", "md,html", "-o", "reports/")
    assert r.exit_code == 2 and not (tmp_path / "reports").exists()
    # a report that fails to render: none is written, not even the ones rendered before it
    from pgaudit import render

    real = render.render_bytes

    def broken(run, fmt, specs=None, today=None):
        if fmt == "html":
            raise RuntimeError("template exploded")
        return real(run, fmt, specs, today)

    monkeypatch.setattr(render, "render_bytes", broken)
    r = cli("audit", shop, "-f", "md,html,json", "-o", "reports/", "--checks", NO_PK,
            "--schema", "shop")
    assert r.exit_code == 2 and "template exploded" in r.stderr
    assert not (tmp_path / "reports").exists()
    # a file where the folder should be: exit 2 before connecting
    (tmp_path / "taken").write_text("")
    r = cli("audit", UNREACHABLE, "-f", "md,html", "-o", "taken/sub/")
    assert r.exit_code == 2 and "taken is a file" in r.stderr, r.stderr


# --- 2. the terminal -------------------------------------------------------------------------

def test_on_a_terminal_the_screen_gets_a_summary_and_the_files_the_reports(shop, tmp_path):
    code, raw = _in_pty([sys.executable, "-m", "pgaudit", "audit", shop,
                         "--checks", f"{NO_PK},json_instead_of_jsonb", "--schema", "shop"],
                        tmp_path)
    screen = _screen_text(raw)
    assert code == 1, screen
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines[-4].startswith(f"{psycopg.conninfo.conninfo_to_dict(shop)['dbname']}: "
                                "1 critical, 0 warning"), screen
    assert lines[-2] == ("reports written to pgaudit-report/: "
                         "report.md, report.html, report.json"), screen
    assert lines[-1] == "exit status 1: 1 finding at or above --fail-on critical", screen
    assert lines[-3] == "  ● Tables without a primary key (1): shop.no_pk", screen
    # no Markdown reached the screen
    for mark in ("# Production", "## ", "\\_", "|---", "**", "```", "<html", "{"):
        assert mark not in screen, (mark, screen)
    folder = tmp_path / "pgaudit-report"
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.json",
                                                        "report.md"]
    assert (folder / "report.md").read_text().startswith("# Production Database Review")


def test_down_a_pipe_the_report_goes_to_stdout(shop, tmp_path):
    done = subprocess.run([sys.executable, "-m", "pgaudit", "audit", shop, "--checks", NO_PK,
                           "--schema", "shop"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=180)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("# Production Database Review")
    assert not (tmp_path / "pgaudit-report").exists()
    # only why it exits 1, on stderr: cron mails it, a CI log shows it
    assert done.stderr == "exit status 1: 1 finding at or above --fail-on critical\n"


def test_output_dash_is_stdout_even_on_a_terminal(shop, tmp_path):
    code, raw = _in_pty([sys.executable, "-m", "pgaudit", "audit", shop, "-f", "json",
                         "-o", "-", "--checks", NO_PK, "--schema", "shop"], tmp_path)
    assert code == 1
    assert '"schema_version": 1' in raw and not (tmp_path / "pgaudit-report").exists()


# --- 3. history ------------------------------------------------------------------------------

@pytest.fixture
def stored(cli, shop, tmp_path) -> tuple[str, list[dict]]:
    """Three runs of one target in a store; a new critical appears in the third."""
    store = f"sqlite:///{tmp_path}/history.db"
    docs = []
    for step in range(3):
        if step == 2:
            with psycopg.connect(shop, autocommit=True) as conn:
                conn.execute("create table shop.fresh (x int);"
                             " insert into shop.fresh select generate_series(1, 10000);"
                             " analyze shop.fresh")
        r = cli("audit", shop, "-f", "json", "-o", f"run{step}.json", "--store", store,
                "--checks", NO_PK, "--schema", "shop", "--fail-on", "never",
                "--target-name", "staging-billing@db1.internal:5432")
        assert r.exit_code == 0, r.stderr
        docs.append(json.loads((tmp_path / f"run{step}.json").read_text()))
    yield store, docs
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("drop table if exists shop.fresh")


def _history_rows(text: str) -> list[tuple[list[str], str]]:
    """The table's rows: (the cells but the target, the target with its folded lines)."""
    rows: list[tuple[list[str], str]] = []
    for line in text.rstrip("\n").splitlines()[1:]:
        cells = line.split()
        if len(cells) == 1:  # a target folded onto the next line
            rows[-1] = (rows[-1][0], rows[-1][1] + cells[0])
        else:
            rows.append((cells[:3] + cells[4:], cells[3]))
    return rows


def test_history_fits_80_columns_without_cutting(cli, stored, shop):
    store, docs = stored
    r = cli("history", "--store", store, env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.rstrip("\n").splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), r.stdout
    assert "…" not in r.stdout
    assert lines[0].split() == ["run", "date", "(UTC)", "target", "critical", "warning", "info",
                                "new", "resolved"]
    rows = _history_rows(r.stdout)
    assert len(rows) == 3
    for doc, (cells, target) in zip(docs, rows, strict=True):
        assert " ".join(cells[1:3]) == doc["generated_at"][:16].replace("T", " ")  # UTC
        # a target too long for the line is folded onto the next, never cut
        assert target == "staging-billing@db1.internal:5432", r.stdout
    assert rows[2][0][-5:] == ["2", "0", "0", "1", "0"]
    # the name (the default form, database@host:port) stays on its line at 80 columns
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--store", store, "--checks", NO_PK,
            "--schema", "shop", "--fail-on", "never", "--target-name", "nc_shop@127.0.0.1:5432")
    r = cli("history", "--store", store, env={"COLUMNS": "80"})
    last = r.stdout.rstrip("\n").splitlines()[-1]
    assert " nc_shop@127.0.0.1:5432 " in last and len(last) <= 80, r.stdout


def test_history_show_re_renders_a_stored_run(cli, stored, tmp_path):
    store, docs = stored
    r = cli("history", "show", "3", "--store", store, "--format", "json")
    assert r.exit_code == 0, r.stderr
    shown = json.loads(r.stdout)
    for key in ("generated_at", "target", "findings", "checks", "diff", "summary"):
        assert shown[key] == docs[2][key], key
    assert [run["run_id"] for run in shown["history"]["runs"]] == [1, 2, 3]
    # an earlier run, as it was: the history stops at that run
    r = cli("history", "show", "2", "--store", store, "-f", "md,html", "-o", "again/")
    assert r.exit_code == 0, r.stderr
    md = (tmp_path / "again" / "report.md").read_text()
    assert md.startswith("# Production Database Review") and "fresh" not in md
    assert "## Changes since the last audit" in md
    assert "<html" in (tmp_path / "again" / "report.html").read_text()
    md3 = cli("history", "show", "3", "--store", store).stdout
    assert "**1 new**" in md3 and "shop.fresh" in md3


def test_history_show_from_a_postgresql_store(cli, shop, admin, tmp_path):
    from tests.pgserver import create_database, drop_database, with_db

    name = create_database(admin, "fh_store")
    try:
        params = psycopg.conninfo.conninfo_to_dict(with_db(admin, name))
        store = (f"postgresql+psycopg://{params.get('user', 'postgres')}@"
                 f"{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}")
        r = cli("audit", shop, "-f", "json", "-o", "r.json", "--store", store,
                "--checks", NO_PK, "--schema", "shop", "--fail-on", "never")
        assert r.exit_code == 0, r.stderr
        r = cli("history", "show", "1", "--store", store, "-f", "json")
        assert r.exit_code == 0, r.stderr
        written = json.loads((tmp_path / "r.json").read_text())
        assert json.loads(r.stdout)["findings"] == written["findings"]
    finally:
        drop_database(admin, name)


def test_history_show_errors(cli, stored, tmp_path):
    store, _ = stored
    r = cli("history", "show", "99", "--store", store)
    assert r.exit_code == 2 and "no run 99" in r.stderr
    # a run recorded before the store kept documents: said, not a traceback
    with sqlite3.connect(tmp_path / "history.db") as conn:
        conn.execute("delete from pgaudit_run_frames where run_id = 1")
    r = cli("history", "show", "1", "--store", store)
    assert r.exit_code == 2 and "cannot be re-rendered" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_fail_on_new_says_why_in_its_own_words(cli, shop, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_module, "_tty", lambda: True)
    store = f"sqlite:///{tmp_path}/h.db"
    args = ["audit", shop, "-f", "json", "-o", "r.json", "--store", store, "--checks", NO_PK,
            "--schema", "shop", "--fail-on-new", "critical"]
    assert cli(*args).exit_code == 0
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("create table shop.fresh2 (x int);"
                     " insert into shop.fresh2 select generate_series(1, 10000);"
                     " analyze shop.fresh2")
    try:
        r = cli(*args)
    finally:
        with psycopg.connect(shop, autocommit=True) as conn:
            conn.execute("drop table shop.fresh2")
    assert r.exit_code == 1
    last = r.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"exit status 1: 1 new finding at or above --fail-on-new critical "
                        r"since run 1 \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)", last), last
    assert "--fail-on critical" not in r.stderr
    # and --fail-on keeps its own
    r = cli("audit", shop, "-f", "json", "-o", "r.json", "--checks", NO_PK, "--schema", "shop")
    assert r.stderr.strip().splitlines()[-1] == (
        "exit status 1: 1 finding at or above --fail-on critical")


# --- 4. advice -------------------------------------------------------------------------------

def _findings(dsn: str, specs, check: str, schema: str) -> list:
    from pgaudit.engine import AuditOptions, audit

    run = audit(dsn, [specs[check]], AuditOptions(schemas=[schema]))
    assert run.checks[0].status == "ran", run.checks[0]
    return [f for f in run.findings if f.severity != "ok"]


@pytest.fixture(scope="module")
def advice(db: str, server_major: int) -> str:
    from tests.casefile import execute_script, settle_stats

    execute_script(db, """
        create schema adv;
        -- the issue's case: 2,000 people, short names but one long one that no pg_stats
        -- value shows (a histogram bound is a quantile in sort order, not the longest string)
        create table adv.people (id bigint primary key, last_name varchar(100));
        insert into adv.people select g, 'name' || g from generate_series(1, 2000) g;
        update adv.people set last_name = 'name1000-Featherstonehaugh-Cholmondeley' where id = 1000;
        -- a bounded domain: every value is in pg_stats
        create table adv.prices (id bigint primary key, currency text);
        insert into adv.prices select g, (array['EUR', 'USD', 'GBP'])[1 + g % 3]
          from generate_series(1, 3000) g;
        -- the same, changed since ANALYZE: the statistics no longer describe every value
        create table adv.fees (id bigint primary key, currency text);
        insert into adv.fees select g, (array['EUR', 'USD'])[1 + g % 2]
          from generate_series(1, 3000) g;
        -- a 60-row lookup table and a large child, both with an unindexed foreign key
        create table adv.categories (id bigint primary key,
                                     parent_id bigint references adv.categories);
        insert into adv.categories select g, null from generate_series(1, 60) g;
        create table adv.events (id bigint primary key,
                                 category_id bigint references adv.categories);
        insert into adv.events select g, 1 + g % 60 from generate_series(1, 120000) g;
        -- a request table with a money-looking column
        create table adv.orders (id bigint primary key, status text not null, total_cents bigint);
    """)
    execute_script(db, "analyze adv.people, adv.prices, adv.fees, adv.categories, adv.events")
    execute_script(db, "update adv.fees set currency = 'CHF' where id = 1")
    if server_major >= 15:
        execute_script(db, "select pg_stat_force_next_flush()")
    settle_stats(db, server_major)
    return db


def test_length_checks_only_from_statistics_holding_every_value(advice, specs):
    found = {f.object: f for f in _findings(advice, specs, "varchar_length_mismatch", "adv")}
    people = found["adv.people"]
    with psycopg.connect(advice) as conn:
        row = conn.execute("select max(char_length(last_name)) from adv.people").fetchone()
    assert row and row[0] == 39 > people.evidence["stats_max"]  # pg_stats never saw it
    assert people.remediation is None and "suggested_bound" not in people.evidence
    assert people.evidence["all_values_known"] is False
    assert people.detail.endswith("no bound is proposed: pg_stats keeps the most common values "
                                  "and histogram bounds, not the longest value")
    prices = found["adv.prices"]
    assert prices.evidence["all_values_known"] is True
    assert prices.evidence["longest_value"] == 3 and prices.evidence["distinct_values"] == 3
    assert prices.evidence["suggested_bound"] == 16  # twice the longest, to a power of two
    assert "check (char_length(currency) <= 16) not valid" in (prices.remediation or "")
    assert "all 3 distinct values of the table are in pg_stats" in prices.detail
    fees = found["adv.fees"]  # a row changed since ANALYZE
    assert fees.remediation is None and fees.evidence["all_values_known"] is False
    assert "1 row changed since the last ANALYZE" in fees.detail


def test_priority_follows_the_size_of_the_table(advice, specs):
    found = {f.object: f for f in _findings(advice, specs, "unindexed_foreign_key", "adv")}
    lookup, events = found["adv.categories"], found["adv.events"]
    assert lookup.evidence["estimated_rows"] == 60
    assert (lookup.severity, lookup.priority) == ("warning", "low")
    assert events.evidence["estimated_rows"] >= 100000
    assert (events.severity, events.priority) == ("warning", "high")


def test_labels_come_from_the_facts_they_describe(advice, specs):
    [orders] = [f for f in _findings(advice, specs, "missing_idempotency_key", "adv")
                if f.object == "adv.orders"]
    assert orders.evidence["status_column"] == "status"
    assert "amount_columns" not in orders.evidence  # total_cents made no part of the verdict
    assert "total_cents" not in orders.detail
    assert "(an order, job or request name and the status column status)" in orders.detail
    assert "request_table_pattern" not in orders.detail


def test_audit_all_creates_its_folder_and_names_the_failing_targets(cli, shop, tmp_path):
    (tmp_path / "pgaudit.toml").write_text(
        f'[[targets]]\nname = "staging"\ndsn = "{shop}"\n\n'
        f'[[targets]]\nname = "gone"\ndsn = "{UNREACHABLE}"\n', encoding="utf-8")
    r = cli("audit", "--all", "-f", "md,json", "-o", "fleet/nightly", "--checks", NO_PK,
            "--schema", "shop")
    assert r.exit_code == 1, r.stderr
    assert (tmp_path / "fleet/nightly/staging/report.md").exists()
    assert (tmp_path / "fleet/nightly/index.html").exists()
    assert r.stderr.strip().splitlines()[-1] == (
        "exit status 1: findings at or above --fail-on critical in staging")


# --- 5. docs ---------------------------------------------------------------------------------

GUIDE = ROOT / "docs" / "getting-started.md"


def test_the_getting_started_guide_is_linked_and_its_commands_parse():
    import shlex

    import typer

    assert "(docs/getting-started.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    text = GUIDE.read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    commands = [line[len("$ pgaudit "):] for line in text.splitlines()
                if line.startswith("$ pgaudit ")]
    assert len(commands) >= 7, commands
    for line in commands:
        args = shlex.split(line.replace("$DSN", "dsn"))
        ctx = root.make_context("pgaudit", list(args), resilient_parsing=False)
        # walk down the groups (history show …), parsing each level's options strictly
        while hasattr(ctx.command, "get_command"):
            protected = getattr(ctx, "_protected_args", None) or getattr(
                ctx, "protected_args", None) or []
            remaining = [*protected, *ctx.args]
            if not remaining:
                break
            name, *rest = remaining
            sub = ctx.command.get_command(ctx, name)
            assert sub is not None, line
            ctx = sub.make_context(name, rest, parent=ctx)
    # the sign-off is recorded and verified by the commands that do it (parsed above)
    assert "$ pgaudit signoff " in text and "$ pgaudit verify " in text
    assert "does not exist today" not in text
