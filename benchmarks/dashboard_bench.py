"""How fast the dashboard's pages are on a store holding a long history (issue 15: under 300 ms).

Fills a history store through the store API (``Store.record``) with nightly runs of many
targets, made from a real run document (tests/render/run.json): each night about 1% of the
findings churn (one appears or goes), and the largest tables grow. Then every page is fetched
through Starlette's TestClient, several times; the median and the worst are printed.

    .venv/bin/python benchmarks/dashboard_bench.py --targets 100 --runs 365 \
        --store sqlite:///benchmarks/out/dashboard.db
    .venv/bin/python benchmarks/dashboard_bench.py --reuse --store postgresql://…/dashbench

``--reuse`` times an already filled store. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgaudit import render  # noqa: E402
from pgaudit.model import AuditRun  # noqa: E402
from pgaudit.snapshot import Snapshot  # noqa: E402
from pgaudit.store import Store  # noqa: E402

RUN_JSON = ROOT / "tests" / "render" / "run.json"
START = dt.datetime(2025, 12, 1, 2, 0, tzinfo=dt.UTC)


def nightly_runs(name: str, nights: int, seed: int) -> list[AuditRun]:
    """``nights`` runs of one target, a day apart, with about 1% of findings churning."""
    doc = json.loads(RUN_JSON.read_text(encoding="utf-8"))
    base = render.as_run(doc)
    rng = random.Random(seed)
    pool = list(base.findings)
    present = [rng.random() < 0.8 for _ in pool]
    sizes = {f"public.t{k}": 2**20 * (k + 1) * rng.randint(5, 50) for k in range(8)}
    out: list[AuditRun] = []
    for night in range(nights):
        if rng.random() < 0.01 * len(pool) * 2:  # about 1% of findings change a night
            k = rng.randrange(len(pool))
            present[k] = not present[k]
        run = copy.copy(base)
        run.generated_at = (START + dt.timedelta(days=night, minutes=seed % 50)).isoformat()
        run.findings = [dataclasses.replace(f) for f, on in zip(pool, present, strict=True) if on]
        for rel in sizes:
            sizes[rel] = int(sizes[rel] * (1 + rng.random() * 0.01))
        run.snapshot = Snapshot(tables={r: {"bytes": b, "rows": b // 100}
                                        for r, b in sizes.items()})
        out.append(run)
    return out


def fill(store: Store, targets: int, nights: int) -> None:
    began = time.perf_counter()
    for t in range(targets):
        name = f"db-{t:03d}"
        for run in nightly_runs(name, nights, seed=t):
            store.record(run, name)
        done = t + 1
        spent = time.perf_counter() - began
        print(f"  filled {done}/{targets} targets ({spent:.0f} s)", file=sys.stderr, flush=True)


def time_pages(url: str, repeat: int) -> list[tuple[str, float, float, int]]:
    from starlette.testclient import TestClient

    from pgaudit.dashboard.app import create_app
    from pgaudit.dashboard.readonly import open_read_only

    store = open_read_only(url)  # as pgaudit serve opens it
    client = TestClient(create_app(store, waivers=[]))
    fleet = store.targets()
    first = fleet[0]
    paths = ["/", f"/targets/{first['name']}", f"/runs/{first['last_run_id']}", "/criticals",
             "/waivers"]
    out = []
    for path in paths:
        times: list[float] = []
        size = 0
        for _ in range(repeat):
            began = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - began) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
            size = len(resp.content)
        out.append((path, statistics.median(times), max(times), size))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="SQLAlchemy URL of the store")
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--runs", type=int, default=365, help="nightly runs per target")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="time an already filled store")
    args = parser.parse_args(argv)
    store = Store(args.store)
    if not args.reuse:
        fill(store, args.targets, args.runs)
    runs = len(store.history())
    print(f"store {store.display}: {len(store.targets())} targets, {runs} runs")
    print(f"{'page':<28} {'median ms':>10} {'worst ms':>10} {'bytes':>10}")
    for path, median, worst, size in time_pages(args.store, args.repeat):
        print(f"{path:<28} {median:>10.1f} {worst:>10.1f} {size:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
