"""The report's appendix "Inventory" (pgaudit/inventory.py): one catalog statement after the
checks; partitions summed into their table; sizes measured only for the largest tables and never
on a relation another session holds AccessExclusive; the run document carries it."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg.rows import dict_row

from pgaudit import inventory
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun
from pgaudit.render import render
from pgaudit.sessions import StatementCounter
from tests.casefile import execute_script

SCHEMA = """
create schema inv;
create table inv.big (id bigint primary key, note text);
insert into inv.big select g, repeat('x', 200) from generate_series(1, 20000) g;
create index big_note on inv.big (note);
create table inv.small (id int);
insert into inv.small values (1), (2);
create table inv.events (id bigint, at date not null) partition by range (at);
create table inv.events_2025 partition of inv.events
  for values from ('2025-01-01') to ('2026-01-01');
create table inv.events_2026 partition of inv.events
  for values from ('2026-01-01') to ('2027-01-01');
insert into inv.events select g, date '2025-06-01' + (g % 300) from generate_series(1, 3000) g;
analyze inv.big, inv.small, inv.events_2025, inv.events_2026;
create table inv.fresh (id int);
"""


@pytest.fixture(scope="module")
def inv_db(db: str) -> str:
    execute_script(db, SCHEMA)
    return db


def _collect(dsn: str, top: int = inventory.TOP) -> dict:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        conn.execute("set search_path = pg_catalog")
        old, inventory.TOP = inventory.TOP, top
        try:
            doc = inventory.collect(conn, ["inv"])
        finally:
            inventory.TOP = old
    assert doc is not None
    return doc


def test_what_the_schema_holds(inv_db: str) -> None:
    doc = _collect(inv_db)
    tables = {t["table"]: t for t in doc["tables"]}
    assert next(iter(tables)) == "inv.big"  # the largest first
    big = tables["inv.big"]
    assert big["rows"] == 20000 and big["indexes"] == 2 and big["exact"]
    assert big["total_bytes"] == big["table_bytes"] + big["index_bytes"] > 4_000_000
    # a partitioned table once, its partitions summed in (estimated from page counts)
    events = tables["inv.events"]
    assert events["partitions"] == 2 and events["rows"] == 3000 and not events["exact"]
    assert "inv.events_2025" not in tables
    assert doc["never_analyzed"] == ["inv.fresh"] and doc["never_analyzed_count"] == 1
    assert doc["totals"] == {"schemas": 1, "tables": 4, "partitions": 2, "indexes": 2,
                             "rows": 23002, "bytes": doc["totals"]["bytes"]}
    assert [s["schema"] for s in doc["schemas"]] == ["inv"]


def test_only_the_top_tables_are_listed(inv_db: str) -> None:
    doc = _collect(inv_db, top=2)
    assert [t["table"] for t in doc["tables"]] == ["inv.big", "inv.events"]
    assert doc["totals"]["tables"] == 4


def test_a_locked_table_is_not_waited_for(inv_db: str) -> None:
    ready, done = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(inv_db) as conn, conn.transaction():
            conn.execute("lock table inv.big in access exclusive mode")
            ready.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert ready.wait(10)
        with psycopg.connect(inv_db, row_factory=dict_row) as conn:
            conn.execute("set lock_timeout = '5s'")
            started = time.monotonic()
            doc = inventory.collect(conn, ["inv"])
            assert time.monotonic() - started < 3
        assert doc is not None and doc["skipped"] == ["inv.big"]
        big = next(t for t in doc["tables"] if t["table"] == "inv.big")
        assert not big["exact"] and big["total_bytes"] > 0  # the page-count estimate
    finally:
        done.set()
        holder.join()


def test_one_statement(inv_db: str) -> None:
    counter = StatementCounter()
    with psycopg.connect(inv_db, row_factory=dict_row) as conn:
        assert inventory.collect(conn, ["inv"], counter=counter) is not None
    assert counter.count == 1


def test_the_audit_records_it(inv_db: str) -> None:
    run = audit(inv_db, [], AuditOptions(schemas=["inv"]))
    assert run.inventory is not None
    assert [t["table"] for t in run.inventory["tables"]][:1] == ["inv.big"]
    doc = run.to_dict()
    assert AuditRun.from_dict(doc).inventory == run.inventory
    md = render(doc, "md")
    assert "## Appendix: Inventory" in md and "| inv.big |" in md
