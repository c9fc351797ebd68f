"""Every check's case file: planted defect, look-alike, fix applied, in two schemas."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgaudit.checkfile import CheckSpec
from tests.casefile import (
    Case,
    Tokens,
    execute_script,
    load_cases,
    reset_schema,
    run_check,
    settle_stats,
)

CASES = load_cases()


def _params() -> list[pytest.param]:
    return [
        pytest.param(case, schema, id=f"{case.check}::{case.name}::{schema.replace(' ', '_')}")
        for case in CASES
        for schema in case.schemas
    ]


@pytest.mark.parametrize(("case", "schema"), _params())
def test_case(
    case: Case, schema: str, db: str, specs: dict[str, CheckSpec], server_major: int
) -> None:
    if server_major < case.min_server_version:
        pytest.skip(f"needs PostgreSQL {case.min_server_version}+")
    if case.preload:
        with psycopg.connect(db) as conn:
            row = conn.execute("select current_setting('shared_preload_libraries')").fetchone()
        loaded = {x.strip().strip('"') for x in str(row[0] if row else "").split(",")}
        if missing := sorted(set(case.preload) - loaded):
            pytest.skip(f"needs {missing} preloaded: see tests/test_pg_stat_statements.py")
    spec = specs[case.check]
    tokens = Tokens(db, schema, str(conninfo_to_dict(db)["dbname"]))
    reset_schema(db, schema)
    try:
        execute_script(db, tokens.apply(case.setup))
        if case.analyze:
            execute_script(db, "analyze")
        if case.after:
            execute_script(db, tokens.apply(case.after))
        if case.stats and server_major >= 15:
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute("select pg_stat_force_next_flush()")
        if case.stats or case.analyze:
            settle_stats(db, server_major)
        findings = run_check(db, spec, case, schema)
        got = sorted({f.object for f in findings})
        want = sorted({tokens.apply(e) for e in case.expect})
        assert got == want, f"objects reported {got}, expected {want}"
        for obj, sev in case.expect_severity.items():
            sevs = {f.severity for f in findings if f.object == tokens.apply(obj)}
            assert sevs == {sev}, f"{obj}: severity {sevs}, expected {sev}"
        for obj, cols in case.expect_columns.items():
            colsets = sorted(f.columns for f in findings if f.object == tokens.apply(obj))
            assert [tokens.apply(c) for c in cols] in colsets, f"{obj}: columns {colsets}"
        if case.fix:
            assert findings, "a fix case needs findings to fix"
            for f in findings:
                assert f.remediation, f"{f.object}: no remediation SQL to apply"
                execute_script(db, f.remediation)
            if case.analyze:
                execute_script(db, "analyze")
            if case.stats or case.analyze:
                settle_stats(db, server_major)
            left = run_check(db, spec, case, schema)
            assert not left, f"after the remediation still reported: {[f.object for f in left]}"
    finally:
        execute_script(db, tokens.apply(case.teardown))
        reset_schema(db, schema)
