"""Catalog-scale benchmark: a full audit against a raw read of the catalogs it needs.

    python benchmarks/catalog_bench.py --sizes 500 5000 50000 --repeat 3 [--dsn DSN]

For each size it builds (once; idempotent) a database ``pgaudit_bench_<size>`` holding about
that many relations: tables spread over many schemas, each with a primary key, a foreign key to
the previous table and an index on it, a few rows; plus partitioned tables with hundreds of
partitions. Then it alternates a full ``pgaudit audit`` (a subprocess, JSON output) with a raw
``COPY (SELECT * FROM <catalog>) TO STDOUT`` of the relevant catalogs through psql, and prints
medians, their ratio, the statements the audit sent and the audit's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

RAW_CATALOGS = [
    "pg_catalog.pg_class",
    "pg_catalog.pg_attribute",
    "pg_catalog.pg_index",
    "pg_catalog.pg_constraint",
    "pg_catalog.pg_namespace",
    "pg_catalog.pg_depend",
    "pg_catalog.pg_inherits",
    "pg_catalog.pg_stats",
    "pg_catalog.pg_stat_user_tables",
    "pg_catalog.pg_stat_user_indexes",
    "pg_catalog.pg_statio_user_tables",
]
TABLES_PER_SCHEMA = 100
PARTITIONED = 4  # partitioned tables per 10,000 relations, 100 partitions each


def _dsn(base: str, db: str) -> str:
    params = conninfo_to_dict(base)
    params["dbname"] = db
    return make_conninfo(**params)


def build(base: str, size: int) -> str:
    """Create pgaudit_bench_<size> with about `size` relations, unless it is already complete."""
    db = f"pgaudit_bench_{size}"
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [db]).fetchone()
    if exists:
        with psycopg.connect(_dsn(base, db)) as conn:
            done = conn.execute("select to_regclass('public.bench_complete')").fetchone()
        if done and done[0]:
            return _dsn(base, db)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'drop database "{db}" with (force)')
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'create database "{db}"')
    # A table here is 4 relations (heap, pkey, fk index, sequence-less identity needs none).
    n_parts = max(1, size // 10_000) * PARTITIONED
    part_rel = n_parts * 100 * 2
    n_tables = max(10, (size - part_rel) // 3)
    started = time.monotonic()
    with psycopg.connect(_dsn(base, db), autocommit=True) as conn:
        for s in range(0, n_tables, TABLES_PER_SCHEMA):
            schema = f"tenant_{s // TABLES_PER_SCHEMA:04d}"
            stmts = [f"create schema {schema}"]
            for i in range(s, min(s + TABLES_PER_SCHEMA, n_tables)):
                prev = f"{schema}.t{i - 1}" if i > s else None
                fk = f", parent_id bigint references {prev} (id)" if prev else ", parent_id bigint"
                stmts.append(
                    f"create table {schema}.t{i} (id bigint primary key, created_at timestamptz"
                    f" not null default now(), note text{fk})"
                )
                stmts.append(f"create index on {schema}.t{i} (parent_id)")
                if i % 10 == 0:
                    stmts.append(
                        f"insert into {schema}.t{i} (id, note) "
                        "select g, md5(g::text) from generate_series(1, 20) g"
                    )
            conn.execute("; ".join(stmts))
        for p in range(n_parts):
            stmts = [
                f"create table public.events_{p} (id bigint, created_at timestamptz not null,"
                f" primary key (id, created_at)) partition by range (created_at)"
            ]
            for m in range(100):
                stmts.append(
                    f"create table public.events_{p}_{m} partition of public.events_{p} for values"
                    f" from ('2020-01-01'::date + {m * 7}) to ('2020-01-01'::date + {(m + 1) * 7})"
                )
            conn.execute("; ".join(stmts))
        conn.execute("analyze")
        conn.execute("create table public.bench_complete (built_at timestamptz default now())")
        count = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'"
        ).fetchone()
    print(
        f"built {db}: {count[0] if count else '?'} relations in {time.monotonic() - started:.0f}s",
        file=sys.stderr,
    )
    return _dsn(base, db)


def raw_read(dsn: str) -> float:
    started = time.perf_counter()
    for catalog in RAW_CATALOGS:
        subprocess.run(
            ["psql", "-X", "-q", "-d", dsn, "-c", f"copy (select * from {catalog}) to stdout"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return time.perf_counter() - started


def audit(dsn: str, out: str) -> tuple[float, int, float]:
    """Wall seconds, statements sent, peak RSS in MB of the pgaudit process."""
    code = (
        "import resource, runpy, sys;"
        "sys.argv = ['pgaudit', 'audit', sys.argv[1], '--format', 'json', '--output', sys.argv[2],"
        " '--fail-on', 'never'];"
        "from pgaudit.cli import main\n"
        "try:\n main()\n"
        "except SystemExit as e:\n"
        " print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        " raise"
    )
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, dsn, out], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"audit failed: {proc.stderr.strip()[-500:]}")
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    with open(out, encoding="utf-8") as fh:
        doc = json.load(fh)
    return elapsed, int(doc["scope"]["statements"]), peak_kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get(
            "PGAUDIT_BENCH_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        ),
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 50000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--extra-dsn",
        nargs="*",
        default=[],
        help="existing databases to measure too (e.g. a corpus database)",
    )
    args = parser.parse_args()
    targets = [(f"synthetic {s}", build(args.dsn, s)) for s in args.sizes]
    targets += [(d, d) for d in args.extra_dsn]
    print(
        "| database | relations | audit median s | raw read median s | ratio | statements |"
        " peak MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, dsn in targets:
            with psycopg.connect(dsn) as conn:
                rels = conn.execute("select count(*) from pg_class").fetchone()
            audits, raws, stmts, peaks = [], [], set(), []
            for _ in range(args.repeat):
                a, n, mem = audit(dsn, f"{tmp}/run.json")
                audits.append(a)
                stmts.add(n)
                peaks.append(mem)
                raws.append(raw_read(dsn))
            am, rm = statistics.median(audits), statistics.median(raws)
            print(
                f"| {label} | {rels[0] if rels else '?'} | {am:.2f} | {rm:.2f} | {am / rm:.2f} |"
                f" {'/'.join(str(s) for s in sorted(stmts))} | {max(peaks):.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
