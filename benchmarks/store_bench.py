"""History store simulation: a year of nightly runs for a fleet, recorded through the store API.

    python benchmarks/store_bench.py [--targets 100] [--nights 365] [--churn 0.01]
        [--backend sqlite|postgresql ...] [--runs-dir DIR] [--pg-admin DSN]

Real run JSON first: every corpus database (corpus_*) is audited once with all checks and a
snapshot (table sizes, schema objects), and kept in ``--runs-dir`` (reused when present).
Target i is corpus database i mod the number of them, under its own name and host. Each night
every target records a run built from its previous one: ``--churn`` of its findings (not ok)
are replaced (half fixed, half new: a copy of an existing finding on a new object), the tables
of 1% of its relations grow, and, as between two real runs of an unchanged database, the
timings, the statistics age and the evidence that carries it change.

Then, on the filled store: its size, the bytes an unchanged run adds (the mean of 100 more
nights with no churn, measured on a vacuumed SQLite file or PostgreSQL's relation sizes), and
the time of ``history(target)``, of ``diff(run)`` against the previous run, of the trend charts
of one target (``history`` of its last 30 runs, ``growth`` and the SVG charts, as a report
draws them) and of ``document(run)`` (``history show``), each the median of 5, for the largest
corpus target. ``--nights`` and ``--targets`` scale the simulation down; the README says what
was run and how the figures extrapolate.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgaudit import api
from pgaudit.charts import trend_charts
from pgaudit.engine import AuditOptions
from pgaudit.model import AuditRun
from pgaudit.snapshot import Snapshot
from pgaudit.store import Store

START = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)
STORE_TABLES = (
    "pgaudit_targets", "pgaudit_runs", "pgaudit_run_frames", "pgaudit_finding_versions",
    "pgaudit_finding_lifecycles", "pgaudit_size_points", "pgaudit_schema_spans",
    "pgaudit_schema_changes", "pgaudit_signoffs",
)


def corpus_runs(admin: str, runs_dir: Path) -> list[dict[str, Any]]:
    """One real run per corpus database: its JSON document and its snapshot."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(admin, autocommit=True) as conn:
        names = [r[0] for r in conn.execute(
            "select datname from pg_database where datname like 'corpus\\_%' order by 1")]
    specs = api.load_checks()
    checks = api.select_checks(specs)
    out = []
    for name in names:
        path = runs_dir / f"{name}.json"
        if not path.exists():
            dsn = psycopg.conninfo.make_conninfo(admin, dbname=name)
            run = api.run_audit(dsn, checks, AuditOptions(collect_snapshot=True))
            snap = run.snapshot or Snapshot()
            path.write_text(json.dumps({
                "doc": run.to_dict(),
                "tables": snap.tables,
                "schema": {k: list(v) for k, v in snap.schema.items()},
            }, default=str))
        out.append(json.loads(path.read_text()))
        print(f"  {name}: {len(out[-1]['doc']['findings'])} findings, "
              f"{len(out[-1]['tables'])} tables", file=sys.stderr)
    return out


@dataclasses.dataclass
class Target:
    name: str
    base: dict[str, Any]
    findings: list[dict[str, Any]]
    tables: dict[str, dict[str, Any]]
    schema: dict[str, tuple[str, str]]
    serial: int = 0


def make_targets(bases: list[dict[str, Any]], count: int) -> list[Target]:
    targets = []
    for i in range(count):
        base = bases[i % len(bases)]
        doc = copy.deepcopy(base["doc"])
        doc["target"] = {**doc["target"], "host": f"db{i:03d}.fleet.internal"}
        name = f"{doc['target'].get('database')}-{i:03d}"
        targets.append(Target(name, doc, doc.pop("findings"), dict(base["tables"]),
                              {k: (v[0], v[1]) for k, v in base["schema"].items()}))
    return targets


def night(t: Target, n: int, churn: float, rng: random.Random) -> AuditRun:
    """Target ``t``'s run of night ``n``: the previous night's, churned."""
    at = START + dt.timedelta(days=n, seconds=rng.randint(0, 600))
    if churn:
        real = [i for i, f in enumerate(t.findings) if f["severity"] != "ok"]
        k = max(1, round(len(real) * churn / 2)) if real else 0
        for i in sorted(rng.sample(real, min(k, len(real))), reverse=True):
            del t.findings[i]  # fixed
        live = [f for f in t.findings if f["severity"] != "ok"]
        for f in rng.sample(live, min(k, len(live))):
            t.serial += 1
            fresh = copy.deepcopy(f)
            fresh["object"] = f"{f['object']}_n{t.serial}"
            fresh["fingerprint"] = ""  # a new object: a new fingerprint
            fresh["also"] = []
            t.findings.append(fresh)
        grow = rng.sample(sorted(t.tables), max(1, len(t.tables) // 100)) if t.tables else []
        for rel in grow:
            v = t.tables[rel]
            t.tables[rel] = {"bytes": int(v.get("bytes") or 0) + 8192 * rng.randint(1, 50),
                             "rows": (v.get("rows") or 0) + rng.randint(1, 500)}
    doc = dict(t.base)
    doc["generated_at"] = at.isoformat()
    doc["duration_ms"] = round(rng.uniform(500, 5000), 1)
    doc["facts"] = {**doc["facts"], "stats_age_s": 86400.0 * (n + 1) + rng.random()}
    doc["checks"] = [{**c, "duration_ms": round(rng.uniform(0.5, 80), 1)} for c in doc["checks"]]
    findings = []
    for f in t.findings:
        if "checkpoint_stats_age_s" in (f.get("evidence") or {}):
            f = {**f, "evidence": {**f["evidence"], "checkpoint_stats_age_s": 86400 * (n + 1)}}
        findings.append(f)
    doc["findings"] = findings
    doc.pop("diff", None)
    doc.pop("history", None)
    run = AuditRun.from_dict(doc)
    for f, src in zip(run.findings, findings, strict=True):
        if not src["fingerprint"]:
            src["fingerprint"] = f.fingerprint  # kept: the finding persists as itself
    run.snapshot = Snapshot(tables=dict(t.tables), schema=dict(t.schema))
    return run


def store_bytes(store: Store, path: Path | None) -> int:
    if path is not None:  # SQLite: the file once vacuumed, so free pages do not count
        store.engine.dispose()
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("pragma wal_checkpoint(truncate)")
        raw.execute("vacuum")
        raw.close()
        return path.stat().st_size
    with store.engine.connect() as conn:
        return sum(int(conn.exec_driver_sql(
            f"select pg_total_relation_size('{t}')").scalar() or 0) for t in STORE_TABLES)


def timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def simulate(url: str, sqlite_path: Path | None, targets: list[Target], nights: int,
             churn: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    store = Store(url)
    t0 = time.perf_counter()
    records = 0
    for n in range(nights):
        for t in targets:
            store.record(night(t, n, churn, rng), t.name)
            records += 1
        if n % 30 == 29 or n == nights - 1:
            rate = records / (time.perf_counter() - t0)
            print(f"  night {n + 1}/{nights}: {records} runs, {rate:.1f} runs/s",
                  file=sys.stderr)
    fill_s = time.perf_counter() - t0
    size = store_bytes(store, sqlite_path)
    # the largest target: the one whose run documents hold the most findings
    big = max(targets, key=lambda t: len(t.findings))
    quiet = 100
    before = store_bytes(store, sqlite_path)
    for k in range(quiet):
        store.record(night(big, nights + k, 0.0, rng), big.name)
    per_unchanged = (store_bytes(store, sqlite_path) - before) / quiet
    last = store.history(big.name)[-1]["run_id"]

    def charts() -> None:
        history = {"runs": store.history(big.name)[-30:],
                   "growth": store.growth(big.base["target"], big.name)}
        assert trend_charts(history)

    return {
        "runs": records + quiet,
        "fill_s": fill_s,
        "size": size,
        "per_unchanged": per_unchanged,
        "big": big.name,
        "big_findings": len(big.findings),
        "history_ms": timed(lambda: store.history(big.name)),
        "diff_ms": timed(lambda: store.diff(last)),
        "charts_ms": timed(charts),
        "document_ms": timed(lambda: store.document(last)),
        "targets_ms": timed(store.targets),
        "open_ms": timed(lambda: store.open_findings(big.name)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs-dir", type=Path, default=Path(tempfile.gettempdir())
                        / "pgaudit-store-bench-runs")
    parser.add_argument("--pg-admin", default=os.environ.get(
        "PGAUDIT_TEST_ADMIN", "host=127.0.0.1 user=postgres dbname=postgres"))
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    print("real runs of the corpus databases:", file=sys.stderr)
    bases = corpus_runs(args.pg_admin, args.runs_dir)
    results = {}
    for backend in args.backend or ["sqlite", "postgresql"]:
        print(f"{backend}: {args.targets} targets x {args.nights} nights", file=sys.stderr)
        targets = make_targets(bases, args.targets)
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "history.db"
                results[backend] = simulate(f"sqlite:///{path}", path, targets, args.nights,
                                            args.churn, args.seed)
            continue
        db = "pgaudit_store_bench"
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{db}"')
            conn.execute(f'create database "{db}"')
        try:
            params = psycopg.conninfo.conninfo_to_dict(args.pg_admin)
            url = (f"postgresql+psycopg://{params.get('user', 'postgres')}@"
                   f"{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{db}")
            results[backend] = simulate(url, None, targets, args.nights, args.churn, args.seed)
        finally:
            with psycopg.connect(args.pg_admin, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{db}" with (force)')
    print(json.dumps({"targets": args.targets, "nights": args.nights, "churn": args.churn,
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
