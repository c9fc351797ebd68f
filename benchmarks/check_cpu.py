"""Server CPU of checks' statements: the main query and the ``applies`` test, replayed.

    .venv/bin/python benchmarks/check_cpu.py DSN [CHECK_ID ...] [--repeat 5] [--all]

Each statement runs as the engine sends it (the composed SQL and the engine's parameters, in
a read-only transaction of a session set up like the audit's), ``--repeat`` times, and the
median of the backend's on-CPU time is printed, read from ``/proc/<pid>/schedstat`` (the
server must run on this host). That figure is what the statement costs the server, without the
noise of other work on the machine; wall time is printed beside it. Without check ids: the
checks that declare ``applies``; ``--all``: every check. The last line sums what an audit
would run: every main query, and an ``applies`` test where its main query returned no row.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from pgaudit.api import load_checks
from pgaudit.capabilities import missing_need
from pgaudit.engine import AuditOptions, Engine, check_params
from pgaudit.sessions import Sessions


def _cpu_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _time(
    conn: Any, pid: int, sql: str, params: dict[str, Any], repeat: int
) -> tuple[float, float, int]:
    cpu: list[float] = []
    wall: list[float] = []
    rows = 0
    for _ in range(repeat):
        with conn.transaction(), conn.cursor() as cur:
            before, started = _cpu_ns(pid), time.perf_counter()
            cur.execute(sql, params)
            rows = len(cur.fetchall()) if cur.description else 0
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((_cpu_ns(pid) - before) / 1e6)
    return statistics.median(cpu), statistics.median(wall), rows


def main(argv: list[str]) -> int:
    repeat = 5
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = int(argv[i + 1])
        del argv[i : i + 2]
    every = "--all" in argv
    args = [a for a in argv if a != "--all"]
    if not args:
        print(__doc__)
        return 2
    dsn, ids = args[0], args[1:]
    specs = load_checks()
    chosen = [specs[i] for i in ids] if ids else [
        s for s in specs.values() if every or s.applies_sql
    ]
    opts = AuditOptions(connections=1)
    with Sessions(dsn, opts.session) as sessions:
        engine = Engine(sessions.first, sessions.facts, opts)
        conn = sessions.first
        pid = conn.info.backend_pid
        total = ran = 0.0
        for spec in chosen:
            own = check_params(spec, None)
            reason = missing_need(spec, engine.ctx, own)
            if reason:  # the audit would skip it too
                print(f"{spec.id:42} skipped: {reason}", flush=True)
                continue
            params = {**engine.base_params(), **own}
            try:
                cpu, wall, rows = _time(conn, pid, spec.sql, params, repeat)
            except psycopg.Error as exc:
                print(f"{spec.id:42} error: {str(exc).splitlines()[0]}", flush=True)
                continue
            line = f"{spec.id:42} main {cpu:8.1f} ms cpu {wall:8.1f} ms wall {rows:6} rows"
            total += cpu
            ran += cpu
            if spec.applies_sql:
                acpu, awall, _ = _time(conn, pid, spec.applies_sql, params, repeat)
                line += f" | applies {acpu:7.1f} ms cpu {awall:7.1f} ms wall"
                total += acpu
                ran += acpu if rows == 0 else 0.0  # the engine runs it only without rows
            print(line, flush=True)
        print(f"{'total':42} {total:8.1f} ms cpu")
        print(f"{'as the engine runs them':42} {ran:8.1f} ms cpu (applies only without rows;"
              " probes not replayed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
