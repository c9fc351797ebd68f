"""Fleet benchmark (issue 15): ``pgaudit audit --all`` over 200 targets, wall time and memory.

    .venv/bin/python benchmarks/fleet_bench.py FOLDER [pgaudit audit options ...]
    # e.g. FOLDER=/tmp/fleet --jobs 2 --target-timeout 30

The config written to FOLDER/pgaudit.toml has 200 targets: every fifth one a corpus database
(``corpus_<name>`` on 127.0.0.1, full audits), one (t007) a socket that accepts connections and
never answers (connect_timeout 120 s: only the per-target limit stops it), the rest a closed
port. Reports go to FOLDER/out, runs to the SQLite store FOLDER/h.db. Memory: the resident size
of the audit's whole process tree (the parent and its per-target processes), sampled every
50 ms; summed RSS counts pages the forked processes share once per process, so it is an upper
bound.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

CORPUS = ["chinook", "northwind", "pagila", "temporal", "openstreetmap", "flowable", "danbooru",
          "synapse", "lago", "musicbrainz"]


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    return kids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    root = Path(argv[0])
    root.mkdir(parents=True, exist_ok=True)
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    entries = []
    for i in range(200):
        if i == 7:
            dsn = f"postgresql://u@127.0.0.1:{hang.getsockname()[1]}/x?connect_timeout=120"
        elif i % 5 == 0:
            dsn = f"postgresql://postgres@127.0.0.1/corpus_{CORPUS[(i // 5) % len(CORPUS)]}"
        else:
            dsn = "postgresql://u@127.0.0.1:1/x?connect_timeout=2"
        entries.append(f'[[targets]]\nname = "t{i:03d}"\ndsn = {json.dumps(dsn)}\n')
    (root / "pgaudit.toml").write_text("\n".join(entries), encoding="utf-8")
    args = [str(Path(sys.executable).parent / "pgaudit"), "audit", "--all",
            "--config", str(root / "pgaudit.toml"), "--output", str(root / "out"),
            "--format", "md,html,json,prom", "--store", f"sqlite:///{root}/h.db",
            "--fail-on", "never", *argv[1:]]
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_total = peak_one = most = 0
    while proc.poll() is None:
        kids, tree, todo = _children(), [], [proc.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += kids.get(pid, [])
        sizes = [_rss_kb(p) for p in tree]
        peak_total, peak_one = max(peak_total, sum(sizes)), max(peak_one, max(sizes))
        most = max(most, len(tree))
        time.sleep(0.05)
    _, err = proc.communicate()
    hang.close()
    reports = len(list((root / "out").glob("*/report.json")))
    print(f"exit {proc.returncode}, wall {time.monotonic() - started:.1f} s, {reports} reports;"
          f" peak RSS over the process tree {peak_total / 1024:.0f} MB (largest process"
          f" {peak_one / 1024:.0f} MB, at most {most} processes); load {os.getloadavg()[0]:.1f}")
    print("\n".join(line for line in err.splitlines() if "t007" in line))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
