"""Audit every corpus database and tabulate findings per check (for the issue notes).

    python scripts/corpus_report.py [--dsn-template 'postgresql://postgres@127.0.0.1/corpus_{name}']
        > docs/corpus-findings.md

Cells: c critical, w warning, i info (objects), ok when only 🟢, - no verdict/skipped, E error.
The last column is the check's time on the largest database (musicbrainz).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from pgaudit.api import load_checks
from pgaudit.engine import AuditOptions, audit

NAMES = ["chinook", "northwind", "pagila", "temporal", "openstreetmap", "flowable", "danbooru",
         "synapse", "lago", "musicbrainz"]


def main() -> int:
    template = "postgresql://postgres@127.0.0.1/corpus_{name}"
    if "--dsn-template" in sys.argv:
        template = sys.argv[sys.argv.index("--dsn-template") + 1]
    specs = load_checks()
    cells: dict[str, dict[str, str]] = {cid: {} for cid in specs}
    timing: dict[str, float] = {}
    totals: dict[str, tuple[float, int]] = {}
    for name in NAMES:
        started = time.perf_counter()
        run = audit(template.format(name=name), list(specs.values()), AuditOptions())
        totals[name] = (time.perf_counter() - started, run.scope["statements"])
        for c in run.checks:
            found = Counter(f.severity for f in run.findings if f.check == c.id)
            if c.status == "error":
                cell = "E"
            elif c.status == "skipped":
                cell = "-"
            else:
                parts = [f"{found[s]}{s[0]}" for s in ("critical", "warning", "info") if found[s]]
                cell = " ".join(parts) or "ok"
            cells[c.id][name] = cell
            if name == "musicbrainz":
                timing[c.id] = c.duration_ms
    short = {"openstreetmap": "osm", "musicbrainz": "mb", "northwind": "nw", "chinook": "chin"}
    print("| check | " + " | ".join(short.get(n, n) for n in NAMES) + " | ms on mb |")
    print("|---|" + "---|" * len(NAMES) + "---:|")
    for cid, row in cells.items():
        print(f"| `{cid}` | " + " | ".join(row.get(n, "") for n in NAMES)
              + f" | {timing.get(cid, 0):.0f} |")
    print()
    print("| database | audit wall time s | statements |")
    print("|---|---:|---:|")
    for name, (secs, stmts) in totals.items():
        print(f"| {name} | {secs:.2f} | {stmts} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
