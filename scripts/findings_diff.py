"""Compare the findings of two versions of the checks on the same databases.

    python scripts/findings_diff.py load   # (re)create pgaudit_fx_{clean,planted,review}
    python scripts/findings_diff.py snapshot OUT.json [--checks a,b]
    python scripts/findings_diff.py compare A.json B.json [--checks a,b]

A snapshot audits the ten corpus databases (corpus_<name>, loaded by ../shared/corpus/load.sh)
and the test fixtures (clean, planted, review application) with statistics windows forced open,
and records each finding as (check, object, columns, index, severity). ``compare`` prints what
changed per check: the proof that a rewrite of a check kept its verdicts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg

from pgaudit.api import load_checks
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit

SERVER = "postgresql://postgres@127.0.0.1:5432"
CORPUS = ["chinook", "northwind", "pagila", "temporal", "openstreetmap", "flowable", "danbooru",
          "synapse", "lago", "musicbrainz"]
FIXTURES = {"clean": "clean.sql", "planted": "planted.sql", "review": "review_app.sql"}
SCHEMAS = Path(__file__).resolve().parent.parent / "tests" / "schemas"


def load() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        for name, file in FIXTURES.items():
            admin.execute(f"drop database if exists pgaudit_fx_{name} with (force)")
            admin.execute(f"create database pgaudit_fx_{name}")
            with psycopg.connect(f"{SERVER}/pgaudit_fx_{name}", autocommit=True) as conn:
                conn.execute((SCHEMAS / file).read_text())  # type: ignore[arg-type]
                conn.execute("analyze")


def snapshot(out: Path, only: set[str]) -> None:
    specs = [s for s in load_checks().values() if not only or s.id in only]
    overrides = {s.id: CheckOverride(params={"min_stats_age_s": 0}) for s in specs
                 if "min_stats_age_s" in s.params or getattr(s, "min_stats_age_s", None)}
    doc: dict[str, list[list[object]]] = {}
    names = [f"corpus_{n}" for n in CORPUS] + [f"pgaudit_fx_{n}" for n in FIXTURES]
    for db in names:
        run = audit(f"{SERVER}/{db}", specs, AuditOptions(overrides=overrides, connections=1))
        rows = [[f.check, f.object, f.columns, f.index, f.severity] for f in run.findings
                if f.severity != "ok"]
        rows += [[c.id, "<status>", [], None, c.status] for c in run.checks]
        doc[db] = sorted(rows, key=json.dumps)
    out.write_text(json.dumps(doc, indent=0))


def compare(a: Path, b: Path, only: set[str]) -> int:
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    changed = 0
    for db in left:
        la = {json.dumps(r) for r in left[db] if not only or r[0] in only}
        rb = {json.dumps(r) for r in right.get(db, []) if not only or r[0] in only}
        for r in sorted(la - rb):
            print(f"{db}: - {r}")
            changed += 1
        for r in sorted(rb - la):
            print(f"{db}: + {r}")
            changed += 1
    print(f"{changed} difference(s)")
    return 1 if changed else 0


def main(argv: list[str]) -> int:
    only: set[str] = set()
    if "--checks" in argv:
        i = argv.index("--checks")
        only = set(argv[i + 1].split(","))
        del argv[i:i + 2]
    if argv[:1] == ["load"]:
        load()
        return 0
    if argv[:1] == ["snapshot"] and len(argv) == 2:
        snapshot(Path(argv[1]), only)
        return 0
    if argv[:1] == ["compare"] and len(argv) == 3:
        return compare(Path(argv[1]), Path(argv[2]), only)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
