"""The generic case runner: ``tests/cases/<check id>.toml`` files, one per check.

Each ``[[case]]`` plants SQL in a schema, audits that schema with that one check, and compares
the set of objects reported (severity other than ``ok``) with ``expect``. With ``fix = true`` the
remediation SQL of every finding is applied as written and the check must then find nothing.
Every case runs twice: in ``public`` and in a quoted mixed-case schema.

Tokens in SQL and expectations: ``{s}`` the schema as SQL writes it (``public`` or
``"Audit Test"``), ``{s_lit}`` the schema name as a string literal, ``{db}`` the database as SQL
writes it, ``{uid}`` a short token unique to this run (for cluster-wide objects such as roles).
"""

from __future__ import annotations

import secrets
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgaudit.checkfile import CheckSpec
from pgaudit.config import Assumptions, CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import Finding

CASES_DIR = Path(__file__).parent / "cases"
SCHEMAS = ("public", "Audit Test")
UID = secrets.token_hex(3)


@dataclass
class Case:
    check: str
    name: str
    setup: str
    expect: list[str]
    fix: bool = False
    teardown: str = ""
    after: str = ""  # run after setup and before the audit (e.g. generate statistics)
    analyze: bool = False
    stats: bool = False  # force a statistics flush after setup (PG15+)
    params: dict[str, Any] = field(default_factory=dict)
    assumptions: dict[str, Any] = field(default_factory=dict)
    allow_data: bool = True
    min_server_version: int = 13
    # libraries the server must preload (shared_preload_libraries); elsewhere the case is
    # skipped and a dedicated module runs it on such a server (tests/test_pg_stat_statements.py)
    preload: list[str] = field(default_factory=list)
    expect_severity: dict[str, str] = field(default_factory=dict)
    expect_columns: dict[str, list[str]] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=lambda: list(SCHEMAS))
    history: dict[str, Any] = field(default_factory=dict)
    # A check that fires only with a live concurrent session names the test module that
    # exercises its firing; the case file then holds its look-alikes.
    fires_in: str = ""


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        check = doc.get("check", path.stem)
        defaults = {k: v for k, v in doc.items() if k not in {"check", "case"}}
        for raw in doc.get("case", []):
            cases.append(Case(check=check, **{**defaults, **raw}))
    return cases


def quote_ident(dsn: str, name: str) -> str:
    """Quote as PostgreSQL's own quote_ident does (only where needed), as reports show names."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select quote_ident(%s)", [name]).fetchone()
    assert row
    return str(row[0])


@dataclass
class Tokens:
    dsn: str
    schema: str
    dbname: str

    def __post_init__(self) -> None:
        self._schema_ident = quote_ident(self.dsn, self.schema)
        self._db_ident = quote_ident(self.dsn, self.dbname)

    def apply(self, text: str) -> str:
        return (
            text.replace("{s_lit}", sql.Literal(self.schema).as_string())
            .replace("{s}", self._schema_ident)
            .replace("{db}", self._db_ident)
            .replace("{uid}", UID)
        )


def execute_script(dsn: str, script: str) -> None:
    if not script.strip():
        return
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            conn.execute(script)  # type: ignore[arg-type]
        except psycopg.errors.ActiveSqlTransaction:
            # CREATE/DROP INDEX CONCURRENTLY beside other statements: a multi-statement string
            # is one implicit transaction (and was rolled back whole), so run the statements
            # one by one, as psql runs a remediation script.
            import pglast

            for statement in pglast.split(script):
                conn.execute(statement)  # type: ignore[arg-type]


def reset_schema(dsn: str, schema: str) -> None:
    ident = sql.Identifier(schema).as_string()
    execute_script(dsn, f"drop schema if exists {ident} cascade; create schema {ident};")


def run_check(dsn: str, spec: CheckSpec, case: Case, schema: str) -> list[Finding]:
    opts = AuditOptions(
        schemas=[schema],
        allow_data=case.allow_data,
        assumptions=Assumptions(**case.assumptions),
        overrides={spec.id: CheckOverride(params=case.params)} if case.params else {},
        history=case.history,
        has_store=bool(case.history),
    )
    run = audit(dsn, [spec], opts)
    result = run.checks[0]
    # not_applicable: nothing in scope to judge (a look-alike without the object the check is
    # about), which says no more than ran without a finding and emits no 🟢
    assert result.status in ("ran", "not_applicable"), (
        f"{spec.id} did not run: {result.status} {result.reason}")
    if result.status == "not_applicable":
        assert not run.findings, f"{spec.id}: not applicable yet {run.findings}"
    return [f for f in run.findings if f.severity != "ok"]


def settle_stats(dsn: str, major: int) -> None:
    """Make the statistics of every finished session visible to the next audit.

    A session's counters are reported as its backend exits, after the client has disconnected,
    so first wait for this database's other backends to be gone. PostgreSQL 15+ keeps the
    counters in shared memory: that is enough. PostgreSQL 13-14 send them to the statistics
    collector, which readers see through a file up to 500 ms old: count one insert into a marker
    table from a fresh session, then poll until the collector's counter shows it (messages are
    processed in the order sent, so everything sent before the marker is visible too).
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(200):
            row = conn.execute(
                "select count(*) from pg_catalog.pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
                " and backend_type = 'client backend'"
            ).fetchone()
            if row and row[0] == 0:
                break
            time.sleep(0.02)
    if major >= 15:
        return
    marker = "pgaudit_test_stats.marker"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create schema if not exists pgaudit_test_stats;"
                     f" create table if not exists {marker} (id bigint generated always as identity"
                     " primary key); insert into pgaudit_test_stats.marker default values;")
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(f"select count(*) from {marker}").fetchone()
        want = row[0] if row else 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            conn.execute("select pg_catalog.pg_stat_clear_snapshot()")
            row = conn.execute(
                "select n_tup_ins from pg_catalog.pg_stat_user_tables"
                f" where relid = '{marker}'::regclass"
            ).fetchone()
            if row and row[0] is not None and row[0] >= want:
                return
            time.sleep(0.05)
    raise AssertionError("the statistics collector did not catch up within 10 s")
