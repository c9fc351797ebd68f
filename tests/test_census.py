"""The census (``pgaudit.census``): a check's ``census`` condition must never decide what its
query and ``applies`` would decide otherwise. Each check that declares one is run on every
schema of its case file with the condition and without it: same status, same findings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from tests.casefile import Case, Tokens, execute_script, load_cases, reset_schema

SCHEMA = "census s"  # a space: the census passes names back as values, not as SQL
CENSUS_CHECKS = ["json_instead_of_jsonb", "varchar_length_mismatch", "soft_delete_unique_conflict",
                 "archiving_candidate",
                 "soft_delete_without_partial_index", "unchecked_balance_column",
                 "missing_idempotency_key", "rls_not_enabled", "expired_rows_accumulating",
                 "ip_address_stored", "pii_column_plaintext", "plaintext_secret_column"]


def _cases() -> list[Any]:
    return [pytest.param(c, id=f"{c.check}::{c.name}") for c in load_cases()
            if c.check in CENSUS_CHECKS]


def _without_census(spec: CheckSpec) -> CheckSpec:
    return spec.model_copy(update={"census": None})


def _outcome(dsn: str, spec: CheckSpec, case: Case) -> tuple[str, list[tuple[Any, ...]]]:
    from pgaudit.config import Assumptions, CheckOverride

    opts = AuditOptions(schemas=[SCHEMA], allow_data=case.allow_data,
                        assumptions=Assumptions(**case.assumptions),
                        overrides={spec.id: CheckOverride(params=case.params)}
                        if case.params else {})
    run = audit(dsn, [spec], opts)
    [result] = run.checks
    return result.status, sorted((f.object, tuple(f.columns), f.severity, f.detail)
                                 for f in run.findings)


@pytest.fixture()
def fresh(db: str) -> Iterator[str]:
    yield db
    execute_script(db, 'drop schema if exists "census s" cascade')


def test_the_census_checks_are_the_ones_declaring_it(specs: dict[str, CheckSpec]) -> None:
    assert sorted(s.id for s in specs.values() if s.census) == sorted(CENSUS_CHECKS)
    for spec in specs.values():  # it reads the census, no catalog but the few types it names
        if spec.census:
            assert "scope_" not in spec.census, spec.id
            assert set(re.findall(r"pg_catalog\.pg_\w+", spec.census)) <= {"pg_catalog.pg_type"}


@pytest.mark.parametrize("case", _cases())
def test_the_census_changes_no_verdict(
    fresh: str, specs: dict[str, CheckSpec], case: Case, server_major: int
) -> None:
    if server_major < case.min_server_version:
        pytest.skip(f"needs PostgreSQL {case.min_server_version}+")
    spec = specs[case.check]
    tokens = Tokens(fresh, SCHEMA, str(conninfo_to_dict(fresh)["dbname"]))
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, tokens.apply(case.setup))
    if case.analyze:
        execute_script(fresh, "analyze")
    with_census = _outcome(fresh, spec, case)
    assert with_census == _outcome(fresh, _without_census(spec), case)
    if case.expect:  # a planted defect: the census let the check judge it
        assert with_census[0] == "ran" and with_census[1]


def test_an_empty_schema_is_judged_from_the_census_alone(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    """Nothing in scope: every census check decides with one statement of its own (the
    condition), plus the census itself once for the whole audit. A check with ``applies`` is
    not applicable; one without gives its 🟢 line, as when its query finds nothing."""
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, 'create table "census s".plain (id bigint primary key, note text)')
    run = audit(fresh, [specs[c] for c in CENSUS_CHECKS], AuditOptions(schemas=[SCHEMA]))
    want = {c: "not_applicable" if specs[c].applies else "ran" for c in CENSUS_CHECKS}
    assert {r.id: r.status for r in run.checks} == want
    assert "ran" in want.values() and "not_applicable" in want.values()
    assert sorted((f.check, f.check_wide) for f in run.findings) == sorted(
        (c, True) for c, status in want.items() if status == "ran")
    # the census once, in the first check that asked; then no check runs a statement
    assert sorted(r.statements for r in run.checks) == [0] * (len(CENSUS_CHECKS) - 1) + [1]


def test_teeth_a_census_condition_too_strict_is_caught(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    """What the comparison above catches: a condition false where the query finds a defect."""
    spec = specs["json_instead_of_jsonb"]
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, 'create table "census s".hooks (id bigint primary key, body json)')
    case = Case(check=spec.id, name="teeth", setup="", expect=[])
    strict = spec.model_copy(update={"census": "false"})
    assert _outcome(fresh, strict, case) != _outcome(fresh, _without_census(spec), case)
    assert _outcome(fresh, spec, case) == _outcome(fresh, _without_census(spec), case)


def test_the_census_is_read_once_for_every_session(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, 'create table "census s".wallets (id bigint primary key,'
                          ' balance int, expires_at timestamptz, payload json)')
    seen: list[str] = []
    execute = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(query))
        return execute(self, query, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(psycopg.Cursor, "execute", spy)
        run = audit(fresh, [specs[c] for c in CENSUS_CHECKS],
                    AuditOptions(schemas=[SCHEMA], connections=2))
    assert run.scope["connections"] == 2
    assert sum("census_columns as materialized" in q for q in seen) == 1


PLANTED = """
create table "census s".wallets (id bigint primary key, balance int, payload json);
create table "census s".people (id bigint primary key, email text, password text,
                                remote_ip text, deleted_at timestamptz, expires_at timestamptz);
insert into "census s".people values (1, 'a@b.c', 'hunter2', '10.0.0.1', null, now());
"""


def test_the_conditions_of_many_checks_read_together_keep_their_own_params(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    """One statement answers every check's condition; ip_address_stored and
    plaintext_secret_column both have an ``exclude_pattern`` of their own. All together, with
    the census and without it: the same statuses and findings."""
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, PLANTED)
    opts = AuditOptions(schemas=[SCHEMA])

    def outcome(checks: list[CheckSpec]) -> list[tuple[Any, ...]]:
        run = audit(fresh, checks, opts)
        return sorted([(r.id, r.status) for r in run.checks]
                      + [(f.check, f.object, tuple(f.columns), f.severity) for f in run.findings])

    together = outcome([specs[c] for c in CENSUS_CHECKS])
    assert together == outcome([_without_census(specs[c]) for c in CENSUS_CHECKS])
    assert {c for c, *rest in together if rest and rest[0] == "ran"} >= {
        "json_instead_of_jsonb", "plaintext_secret_column", "ip_address_stored",
        "pii_column_plaintext", "unchecked_balance_column"}


def test_a_census_that_fails_leaves_every_check_to_its_query(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    """The census only saves work: a condition that cannot run (a custom check's typo) makes
    every condition true, and each check runs its query as without a census."""
    reset_schema(fresh, SCHEMA)
    execute_script(fresh, PLANTED)
    broken = specs["unchecked_balance_column"].model_copy(
        update={"census": "no_such_function(1)"})
    run = audit(fresh, [specs["json_instead_of_jsonb"], broken], AuditOptions(schemas=[SCHEMA]))
    assert [r.status for r in run.checks] == ["ran", "ran"]
    assert {f.check for f in run.findings if f.severity != "ok"} == {
        "json_instead_of_jsonb", "unchecked_balance_column"}


def test_two_conditions_with_a_param_of_one_name_keep_their_values(fresh: str) -> None:
    """Teeth for the prefixing: without it the second check's value would answer for both."""
    from pgaudit.census import census_sql

    sql, params = census_sql({"a": ("%(x)s::int = 1", {"x": 1}),
                              "b": ("%(x)s::int = 1 and %(schemas)s::text[] = '{}'", {"x": 2})})
    with psycopg.connect(fresh) as conn:
        row = conn.execute(sql, {"schemas": [], **params}).fetchone()
    assert row == (True, False)
