"""Catalog-scale benchmark: a full audit against a raw read of the catalogs it needs.

    python benchmarks/catalog_bench.py --sizes 500 5000 50000 --tenant-schemas 5000 \
        --repeat 3 [--connections N] [--extra-dsn DSN ...] [--dsn DSN]

For each size it builds (once; idempotent, rebuilt when ``BUILD_VERSION`` changes) a database
``pgaudit_bench_<size>`` holding about that many relations: tables spread over schemas of 100
tables, each with a serial, identity or plain bigint primary key, a foreign key to the previous
table (every tenth one unindexed) and one more index, an enum column in every fifth table, 20
rows in every tenth table; plus partitioned tables of 200 partitions each (a few rows per
partition), about 8% of the relations. ``--tenant-schemas N`` adds a schema-per-tenant catalog
(N schemas with the same two tables). Then, after one untimed warm-up of each, it alternates a
full ``pgaudit audit`` (a subprocess: Python start-up, imports and JSON rendering are part of
its cost) with a raw read of every catalog and statistics view the checks read: one psql
session running ``COPY (SELECT * FROM <catalog>) TO STDOUT`` for each (``RAW_CATALOGS``). It
prints medians, their ratio, the audit's own connect-to-close time and its ratio, the sessions
it used, the statements it sent (every ``execute`` on the wire, counted in the audit process;
the engine's own count excludes the fixed session set-up) and the audit's peak RSS. A compare
line times ``pgaudit compare`` of the database with itself (or with ``--compare-with`` a copy)
against the audit: two catalog snapshots read at once, each on its own read-only session.
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
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# Every catalog and statistics view a check reads (grep -o 'pg_catalog\.pg_[a-z_]*' checks/*.sql),
# functions and one-row views left out.
RAW_CATALOGS = [
    "pg_catalog.pg_class",
    "pg_catalog.pg_attribute",
    "pg_catalog.pg_namespace",
    "pg_catalog.pg_depend",
    "pg_catalog.pg_constraint",
    "pg_catalog.pg_index",
    "pg_catalog.pg_type",
    "pg_catalog.pg_attrdef",
    "pg_catalog.pg_inherits",
    "pg_catalog.pg_partitioned_table",
    "pg_catalog.pg_sequence",
    "pg_catalog.pg_proc",
    "pg_catalog.pg_trigger",
    "pg_catalog.pg_policy",
    "pg_catalog.pg_enum",
    "pg_catalog.pg_extension",
    "pg_catalog.pg_roles",
    "pg_catalog.pg_database",
    "pg_catalog.pg_settings",
    "pg_catalog.pg_stats",
    "pg_catalog.pg_stat_all_tables",
    "pg_catalog.pg_stat_all_indexes",
    "pg_catalog.pg_stat_activity",
    "pg_catalog.pg_stat_database",
]
BUILD_VERSION = 2  # bump when the builder changes: older databases are rebuilt
TABLES_PER_SCHEMA = 100
PARTITIONS = 200  # partitions per partitioned table
PARTITION_SHARE = 0.08  # share of the relations that are partitions (and their primary keys)


def _dsn(base: str, db: str) -> str:
    params = conninfo_to_dict(base)
    params["dbname"] = db
    return make_conninfo(**params)


def _complete(base: str, db: str) -> bool:
    """True when ``db`` holds a finished build of this builder version; otherwise it is
    (re)created empty for a build."""
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [db]).fetchone()
    if exists:
        with psycopg.connect(_dsn(base, db)) as conn:
            done = conn.execute(
                "select obj_description(to_regclass('public.bench_complete'), 'pg_class')"
            ).fetchone()
        if done and done[0] == f"version {BUILD_VERSION}":
            return True
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'drop database "{db}" with (force)')
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'create database "{db}"')
    return False


def _mark_complete(conn: psycopg.Connection[Any]) -> None:
    conn.execute("create table public.bench_complete (built_at timestamptz default now())")
    conn.execute(f"comment on table public.bench_complete is 'version {BUILD_VERSION}'")


def build(base: str, size: int) -> str:
    """Create pgaudit_bench_<size> with about `size` relations, unless it is already complete."""
    db = f"pgaudit_bench_{size}"
    if _complete(base, db):
        return _dsn(base, db)
    # A table is 3 relations outside pg_toast (heap, primary key, one more index), plus a
    # sequence for the two thirds keyed by serial or identity; a partition is 2 (heap, primary
    # key). Small sizes get one partitioned table, fewer partitions.
    n_parted = max(1, round(size * PARTITION_SHARE / (2 * PARTITIONS)))
    per_parent = min(PARTITIONS, max(10, int(size * PARTITION_SHARE / 2)))
    part_rel = n_parted * per_parent * 2
    n_tables = max(10, int((size - part_rel) / (3 + 2 / 3)))
    started = time.monotonic()
    with psycopg.connect(_dsn(base, db), autocommit=True) as conn:
        for s in range(0, n_tables, TABLES_PER_SCHEMA):
            schema = f"tenant_{s // TABLES_PER_SCHEMA:04d}"
            stmts = [
                f"create schema {schema}",
                f"create type {schema}.state as enum ('new', 'active', 'closed')",
            ]
            for i in range(s, min(s + TABLES_PER_SCHEMA, n_tables)):
                prev = f"{schema}.t{i - 1}" if i > s else None
                # keys: serial, identity or application-assigned, a third each
                key = ("serial", "bigint generated always as identity", "bigint")[i % 3]
                ref = ("integer", "bigint", "bigint")[(i - 1) % 3]
                fk = f", parent_id {ref} references {prev} (id)" if prev else ", parent_id bigint"
                state = f", state {schema}.state" if i % 5 == 0 else ""
                stmts.append(
                    f"create table {schema}.t{i} (id {key} primary key, created_at timestamptz"
                    f" not null default now(), note text{fk}{state})"
                )
                # every tenth foreign key is left without an index (the other index goes on
                # created_at): unindexed_foreign_key has real candidates to report
                column = "created_at" if i % 10 == 5 else "parent_id"
                stmts.append(f"create index on {schema}.t{i} ({column})")
                if i % 10 == 0:
                    stmts.append(
                        f"insert into {schema}.t{i} (note) "
                        "select md5(g::text) from generate_series(1, 20) g"
                        if i % 3 != 2
                        else f"insert into {schema}.t{i} (id, note) "
                        "select g, md5(g::text) from generate_series(1, 20) g"
                    )
            conn.execute("; ".join(stmts))
        for p in range(n_parted):
            stmts = [
                f"create table public.events_{p} (id bigint, created_at timestamptz not null,"
                f" primary key (id, created_at)) partition by range (created_at)"
            ]
            for m in range(per_parent):
                stmts.append(
                    f"create table public.events_{p}_{m} partition of public.events_{p} for values"
                    f" from ('2020-01-01'::date + {m * 7}) to ('2020-01-01'::date + {(m + 1) * 7})"
                )
            stmts.append(  # three rows per weekly partition
                f"insert into public.events_{p} (id, created_at) select g, '2020-01-01'::date"
                f" + (g * 7 / 3) from generate_series(0, {per_parent * 3 - 1}) g"
            )
            conn.execute("; ".join(stmts))
        conn.execute("analyze")
        _mark_complete(conn)
        count = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'"
        ).fetchone()
    print(
        f"built {db}: {count[0] if count else '?'} relations in {time.monotonic() - started:.0f}s",
        file=sys.stderr,
    )
    return _dsn(base, db)


def build_tenants(base: str, schemas: int) -> str:
    """Create pgaudit_bench_tenants_<schemas>: one schema per tenant, each with the same small
    application (users with a serial key and orders with an identity key and an unindexed
    foreign key to users): thousands of schemas and table names repeated in every one."""
    db = f"pgaudit_bench_tenants_{schemas}"
    if _complete(base, db):
        return _dsn(base, db)
    started = time.monotonic()
    with psycopg.connect(_dsn(base, db), autocommit=True) as conn:
        for first in range(0, schemas, TABLES_PER_SCHEMA):
            stmts = []
            for t in range(first, min(first + TABLES_PER_SCHEMA, schemas)):
                sc = f"tenant_{t:05d}"
                stmts += [
                    f"create schema {sc}",
                    f"create table {sc}.users (id serial primary key, email text not null,"
                    " created_at timestamptz not null default now())",
                    f"create table {sc}.orders (id bigint generated always as identity primary"
                    f" key, user_id int not null references {sc}.users (id), amount numeric,"
                    " status text, created_at timestamptz not null default now())",
                ]
            conn.execute("; ".join(stmts))
        conn.execute("analyze")
        _mark_complete(conn)
    print(f"built {db} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return _dsn(base, db)


def raw_read(dsn: str) -> float:
    """One psql session (like the audit's one connection) copying every catalog out."""
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn]
    for catalog in RAW_CATALOGS:
        args += ["-c", f"copy (select * from {catalog}) to stdout"]
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


# Runs the CLI in a fresh interpreter, counting every statement psycopg sends (Cursor.execute
# also carries Connection.execute) and printing "<statements> <peak RSS KiB>" last on stderr.
_AUDIT_CODE = """
import resource, sys
import psycopg
sent = 0
_execute = psycopg.Cursor.execute
def execute(self, *args, **kwargs):
    global sent
    sent += 1
    return _execute(self, *args, **kwargs)
psycopg.Cursor.execute = execute
sys.argv = ['pgaudit', 'audit', sys.argv[1], '--format', 'json', '--output', sys.argv[2],
            '--fail-on', 'never', *sys.argv[3:]]
from pgaudit.cli import main
try:
    main()
finally:
    # VmHWM: this process's own peak. ru_maxrss survives exec on Linux, so it would report
    # the benchmark's own size (it holds the last run's JSON) whenever that is larger.
    try:
        with open('/proc/self/status') as fh:
            peak = next(int(l.split()[1]) for l in fh if l.startswith('VmHWM:'))
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(sent, peak, file=sys.stderr)
"""


def audit(dsn: str, out: str, extra: list[str]) -> tuple[float, int, int, float, dict[str, float]]:
    """Wall seconds, statements on the wire, the engine's count, peak RSS MB, ms per check."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _AUDIT_CODE, dsn, out, *extra], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"audit failed: {proc.stderr.strip()[-500:]}")
    sent, peak_kb = (int(x) for x in proc.stderr.strip().splitlines()[-1].split())
    with open(out, encoding="utf-8") as fh:
        doc = json.load(fh)
    per_check = {c["id"]: c["duration_ms"] or 0.0 for c in doc["checks"]}
    # connect to close, in the process: the audit less interpreter start-up, imports, loading
    # the checks and writing the JSON; and the read-only sessions it used
    per_check["_in_process"] = doc["duration_ms"]
    per_check["_sessions"] = doc["scope"].get("connections", 1)
    return elapsed, sent, int(doc["scope"]["statements"]), peak_kb / 1024, per_check


def compare(dsn: str, other: str, out: str) -> float:
    """Wall seconds of ``pgaudit compare`` (a fresh interpreter, JSON written), like ``audit``."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pgaudit", "compare", dsn, other, "--format", "json",
         "--output", out],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"compare failed: {proc.stderr.strip()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get(
            "PGAUDIT_BENCH_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        ),
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 50000])
    parser.add_argument(
        "--tenant-schemas",
        type=int,
        nargs="*",
        default=[],
        help="also a schema-per-tenant catalog of this many schemas (e.g. 5000)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=10, help="slowest checks listed per database")
    parser.add_argument(
        "--extra-dsn",
        nargs="*",
        default=[],
        help="existing databases to measure too (e.g. a corpus database)",
    )
    parser.add_argument(
        "--compare-with",
        help="a second copy of the catalogs' database for the compare line (default: each "
        "database is compared with itself: both sides read at once, same work)",
    )
    parser.add_argument(
        "--connections", type=int, help="passed to pgaudit audit --connections (default: its own)"
    )
    args = parser.parse_args()
    extra = ["--connections", str(args.connections)] if args.connections else []
    targets = [(f"synthetic {s}", build(args.dsn, s)) for s in args.sizes]
    targets += [(f"{n} tenant schemas", build_tenants(args.dsn, n)) for n in args.tenant_schemas]
    targets += [(d, d) for d in args.extra_dsn]
    rows, tops, compares = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for label, dsn in targets:
            with psycopg.connect(dsn) as conn:
                rels = conn.execute(
                    "select count(*) filter (where n.nspname !~ '^pg_'"
                    "   and n.nspname <> 'information_schema'), count(*)"
                    " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                ).fetchone() or (0, 0)
            audit(dsn, f"{tmp}/run.json", extra)  # warm-up: OS cache, same as the raw read's
            raw_read(dsn)
            other = args.compare_with or dsn
            compare(dsn, other, f"{tmp}/compare.json")  # warm-up
            audits, raws, sent, engine, peaks, cmps = [], [], set(), set(), [], []
            checks: dict[str, list[float]] = {}
            for _ in range(args.repeat):
                a, n_sent, n_engine, mem, per_check = audit(dsn, f"{tmp}/run.json", extra)
                audits.append(a)
                sent.add(n_sent)
                engine.add(n_engine)
                peaks.append(mem)
                for cid, ms in per_check.items():
                    checks.setdefault(cid, []).append(ms)
                raws.append(raw_read(dsn))
                cmps.append(compare(dsn, other, f"{tmp}/compare.json"))
            am, rm = statistics.median(audits), statistics.median(raws)
            in_process = statistics.median(checks.pop("_in_process")) / 1000
            sessions = "/".join(str(int(n)) for n in sorted(set(checks.pop("_sessions"))))
            rows.append(
                f"| {label} | {rels[0]} | {rels[1]} | {sessions} | {am:.2f} | {in_process:.2f}"
                f" | {rm:.2f} |"
                f" {am / rm:.2f} | {in_process / rm:.2f} | {'/'.join(map(str, sorted(sent)))}"
                f" ({'/'.join(map(str, sorted(engine)))}) | {max(peaks):.0f} |"
            )
            cm = statistics.median(cmps)
            compares.append(f"| {label} | {'a copy' if args.compare_with else 'itself'} | {cm:.2f}"
                            f" | {am:.2f} | **{cm / am:.2f}** |")
            print(compares[-1], file=sys.stderr, flush=True)
            slowest = sorted(checks.items(), key=lambda kv: -statistics.median(kv[1]))
            tops.append(
                f"{label}: "
                + ", ".join(f"{c} {statistics.median(v):.0f}" for c, v in slowest[: args.top])
            )
            print(rows[-1], file=sys.stderr, flush=True)
    print(
        "| database | relations | pg_class rows | sessions | audit median s | in process s"
        " | raw read median s"
        " | ratio | in-process ratio | statements (engine) | peak MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print("\ncompare (target: at most 2x one audit):")
    print("| database | compared with | compare median s | audit median s | ratio |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(compares))
    print("\nslowest checks, median ms:")
    print("\n".join(tops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
