"""Developer aid: run some checks against a DSN and print a compact summary of their findings.

Usage: try_check.py DSN [CHECK_ID ...] [--json]
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from pgaudit.api import load_checks
from pgaudit.engine import AuditOptions, audit


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dsn, ids = args[0], args[1:]
    specs = load_checks()
    chosen = [specs[i] for i in ids] if ids else list(specs.values())
    run = audit(dsn, chosen, AuditOptions())
    if "--json" in sys.argv:
        print(json.dumps(run.to_dict(), indent=1, default=str))
        return
    for c in run.checks:
        found = [f for f in run.findings if f.check == c.id]
        sev = Counter(f.severity for f in found)
        print(f"{c.id:40} {c.status:8} {c.duration_ms:8.1f} ms  {dict(sev)}  {c.reason or ''}")
        for f in found[:8]:
            where = f"{f.object} {f.columns or ''} {f.index or ''}"
            print(f"    {f.severity:8} {where} :: {f.detail[:140]}")
        if len(found) > 8:
            print(f"    ... {len(found) - 8} more")


if __name__ == "__main__":
    main()
