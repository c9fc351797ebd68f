"""``applies``: a check whose query found nothing is ``ran`` (its 🟢 line) when something in scope
was judged, ``not_applicable`` when nothing was. These cases pin the tests rewritten for speed
(benchmarks/README.md, "After the fixes"): each pair differs in the one property the test reads
(a name pattern, a table-name exclusion, a column type, camelCase), so a rewrite that drops it
changes the status.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from tests.casefile import execute_script, reset_schema

SCHEMA = "ap"

CASES = [
    # a bounded balance: judged, nothing found
    ("unchecked_balance_column", "create table ap.wallets (id int primary key,"
     " balance int check (balance >= 0))", "ran"),
    # the same column in a configuration table, or a signed running figure: nothing to judge
    ("unchecked_balance_column", "create table ap.top_up_rules (id int primary key,"
     " balance int check (balance >= 0))", "not_applicable"),
    ("unchecked_balance_column", "create table ap.wallets (id int primary key,"
     " ongoing_balance int)", "not_applicable"),
    # a tenant column in camelCase on a table with row-level security on: judged, fine
    ("rls_not_enabled", "create table ap.docs (id int primary key, \"orgId\" int);"
     " alter table ap.docs enable row level security", "ran"),
    ("rls_not_enabled", "create table ap.docs (id int primary key, \"orgIdent\" int)",
     "not_applicable"),
    # an expiry column on a small table (below min_rows): judged; as text, or by another
    # name: nothing to judge
    ("expired_rows_accumulating", "create table ap.otps (id int primary key,"
     " \"Expires_At\" timestamptz)", "ran"),
    ("expired_rows_accumulating", "create table ap.otps (id int primary key, expires_at text)",
     "not_applicable"),
    ("expired_rows_accumulating", "create table ap.otps (id int primary key,"
     " expiring_soon timestamptz)", "not_applicable"),
]


@pytest.fixture()
def fresh(db: str) -> Iterator[str]:
    yield db
    execute_script(db, f"drop schema if exists {SCHEMA} cascade")


@pytest.mark.parametrize("check, setup, status", CASES)
def test_applies_tells_judged_from_nothing_to_judge(
    fresh: str, specs: dict[str, CheckSpec], check: str, setup: str, status: str
) -> None:
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, setup)
    run = audit(fresh, [specs[check]], AuditOptions(schemas=[SCHEMA]))
    [result] = run.checks
    assert result.status == status, result.reason
    counted = [f for f in run.findings if f.severity != "ok"]
    assert counted == []  # the query itself found nothing: the status is the applies test's
    assert (run.findings != []) == (status == "ran")  # 🟢 only when something was judged
