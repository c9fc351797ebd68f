"""Every check's SQL, parsed: one read-only SELECT, no reset, file-system or writing functions.

Parsed with pglast (PostgreSQL's own grammar), so remediation SQL inside string literals and
``format()`` templates, which legitimately says ``create index`` or ``alter table``, is data
here, not a statement. ``%(name)s`` parameters become NULL and ``%%`` becomes ``%`` first.
The probe templates (the ``probe`` column, run by the engine per candidate) are checked too:
they must read, with one statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pgaudit.checkfile import discover
from pgaudit.resources import checks_dir

pglast_parser = pytest.importorskip("pglast.parser")

FORBIDDEN_FUNCTIONS = re.compile(
    r"""^(?:
      pg_stat_reset.*|pg_stat_statements_reset|pg_stat_clear_snapshot  # statistics resets
    | pg_read_file|pg_read_binary_file|pg_ls_.*|pg_stat_file|pg_file_.*|pg_logdir_ls
    | lo_import|lo_export|lo_create|lo_creat|lo_unlink|lo_put|lo_from_bytea|lo_truncate
    | nextval|setval|txid_current|pg_current_xact_id                  # consume or assign ids
    | pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote
    | pg_switch_wal|pg_create_restore_point|pg_backup_start|pg_backup_stop
    | pg_wal_replay_pause|pg_wal_replay_resume|pg_log_backend_memory_contexts
    | pg_create_.*_replication_slot|pg_drop_replication_slot|pg_replication_slot_advance
    | pg_replication_origin_.*|pg_logical_emit_message|pg_advisory_.*|pg_try_advisory_.*
    | set_config|dblink.*|pg_sleep.*
    )$""",
    re.X,
)
# only a SELECT (WITH … SELECT parses as one) may appear, at the top and in every CTE
FORBIDDEN_NODES = {"intoclause", "lockingclause"}
PARAM = re.compile(r"%%|%\((\w+)\)s")
FILE_OR_RESET_CALL = re.compile(
    r"\b(?:pg_stat_reset\w*|pg_stat_statements_reset|pg_read_file|pg_read_binary_file"
    r"|pg_ls_\w+|pg_stat_file|lo_import|lo_export)\s*\(", re.I)


def _sources() -> list[tuple[str, str]]:
    found = [(spec.id, spec.sql) for spec in discover([checks_dir()]).values()]
    snapshot = checks_dir() / "_schema_snapshot.sql"  # run by the history snapshot, not a check
    if snapshot.exists():
        found.append(("_schema_snapshot", snapshot.read_text(encoding="utf-8")))
    return sorted(found)


SOURCES = _sources()


def _bound(sql: str) -> str:
    """The SQL as the server receives it, with every parameter NULL."""
    return PARAM.sub(lambda m: "%" if m.group(0) == "%%" else "NULL", sql)


def _walk(node: Any, parent: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, parent)


def _strings(node: Any) -> list[str]:
    return [v["sval"] for k, v in _walk(node) if k == "sval" and isinstance(v, dict)]


def _tree(sql: str) -> dict[str, Any]:
    return json.loads(pglast_parser.parse_sql_json(_bound(sql)))


def test_there_are_checks_to_scan() -> None:
    assert len(SOURCES) > 40
    assert any(name == "_schema_snapshot" for name, _ in SOURCES)


@pytest.mark.parametrize(("name", "sql"), SOURCES, ids=[n for n, _ in SOURCES])
def test_check_sql_is_one_read_only_select(name: str, sql: str) -> None:
    tree = _tree(sql)
    stmts = tree["stmts"]
    assert len(stmts) == 1, f"{name}: {len(stmts)} statements"
    assert list(stmts[0]["stmt"]) == ["SelectStmt"], f"{name}: {list(stmts[0]['stmt'])}"
    nodes = list(_walk(tree))
    statements = {k for k, _ in nodes if k.endswith("Stmt") and k != "SelectStmt"}
    assert not statements, f"{name}: {sorted(statements)}"  # e.g. a data-modifying CTE
    clauses = {k for k, v in nodes if k.lower() in FORBIDDEN_NODES and v}
    assert not clauses, f"{name}: {sorted(clauses)} (select into / for update)"
    called = {
        v[-1]["String"]["sval"].lower()
        for k, v in nodes if k == "funcname" and isinstance(v, list) and v
    }
    assert called, name
    bad = sorted(f for f in called if FORBIDDEN_FUNCTIONS.match(f))
    assert not bad, f"{name} calls {bad}"
    # not even as text: a file or reset call in a string would be one format() away
    texts = [s for s in _strings(tree) if FILE_OR_RESET_CALL.search(s)]
    assert not texts, f"{name}: {texts}"


FORMAT_SPEC = re.compile(r"%%|%(?:\d+\$)?-?(?:\d+|\*)?([sIL])")


def _probe_templates(tree: dict[str, Any]) -> list[str]:
    """The template of each outermost format() call in a ``probe`` column."""
    found: list[str] = []

    def outermost(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                outermost(item)
        elif isinstance(node, dict):
            call = node.get("FuncCall")
            if call and call["funcname"][-1]["String"]["sval"] == "format":
                first = call.get("args", [{}])[0]
                if "sval" in first.get("A_Const", {}):
                    found.append(first["A_Const"]["sval"]["sval"])
                return  # format()s inside its arguments build fragments, not statements
            for value in node.values():
                outermost(value)

    for key, target in _walk(tree):
        if key == "ResTarget" and isinstance(target, dict) and target.get("name") == "probe":
            outermost(target["val"])
    return found


def _instantiated(template: str) -> str:
    """A probe template with format()'s placeholders filled: names x, literals 'x'."""
    return FORMAT_SPEC.sub(
        lambda m: "%" if m.group(0) == "%%" else ("'x'" if m.group(1) == "L" else "x"), template)


@pytest.mark.parametrize(("name", "sql"), SOURCES, ids=[n for n, _ in SOURCES])
def test_probe_templates_only_read(name: str, sql: str) -> None:
    for template in _probe_templates(_tree(sql)):
        probe = _instantiated(template)
        try:
            test_check_sql_is_one_read_only_select(f"{name} probe", probe.replace("%", "%%"))
        except pglast_parser.ParseError as exc:
            pytest.fail(f"{name}: probe template does not parse ({exc}): {probe}")


def test_the_scan_catches_what_it_must() -> None:
    """The test's own teeth: each forbidden shape is caught."""
    cases = {
        "select pg_catalog.pg_stat_reset()": "calls",
        "select pg_read_file('/etc/passwd')": "calls",
        "select * from pg_ls_dir('.') d": "calls",
        "select lo_import('/tmp/x')": "calls",
        "with x as (delete from t returning 1) select * from x": "DeleteStmt",
        "select 1 into new_table": "intoClause",
        "select 1 from t for update": "lockingClause",
        "select format('select pg_read_file(%%L)', %(path)s)": "pg_read_file",
        "select 1; drop table t": "statements",
        "create table t (a int)": "CreateStmt",
        "copy t to '/tmp/x'": "CopyStmt",
    }
    for sql, needle in cases.items():
        with pytest.raises(AssertionError, match=needle):
            test_check_sql_is_one_read_only_select("case", sql)
    with pytest.raises(AssertionError, match="UpdateStmt"):
        test_probe_templates_only_read(
            "case", "select format('update %%s set a = 1 where %%I', 'x') as probe")
    with pytest.raises(AssertionError, match="pg_stat_reset"):
        test_probe_templates_only_read(
            "case", "select format($p$select pg_stat_reset() from %%s$p$, 'x') as probe")
    # and the legitimate shapes pass: remediation text, %% and parameters
    test_check_sql_is_one_read_only_select(
        "case", "select format('create index concurrently on %%I (a); vacuum %%I', 'x', 'y')"
                " as remediation, %(schemas)s::text[] as s where 'a' like 'a%%'")
    test_probe_templates_only_read(
        "case", "select format('select count(*) > %%s as fires from %%s where %%I like %%L', 1,"
                " 't', 'c', 'a%%%%') as probe")
    assert Path(checks_dir()).is_dir()


_TEXT_SCHEMA_FILTER = re.compile(r"nspname\s*=\s*any\s*\(\s*%\(schemas\)s::text\[\]\s*\)", re.I)


@pytest.mark.parametrize(("name", "sql"), SOURCES, ids=[n for n, _ in SOURCES])
def test_schema_filters_compare_names_with_names(name: str, sql: str) -> None:
    """``nspname = any(%(schemas)s::text[])`` compares name with text, which PostgreSQL cannot
    hash: a linear search of every schema for every row (seconds with thousands of tenant
    schemas). ``::name[]`` is hashed."""
    hits = _TEXT_SCHEMA_FILTER.findall(sql)
    assert not hits, f"{name}: filter schemas with = any(%(schemas)s::name[]), not {hits[0]}"


def test_the_schema_filter_lint_has_teeth() -> None:
    with pytest.raises(AssertionError, match="name\\[\\]"):
        test_schema_filters_compare_names_with_names(
            "case", "select 1 from pg_namespace n where n.nspname = any(%(schemas)s::text[])")
    test_schema_filters_compare_names_with_names(
        "case", "select 1 from pg_namespace n where n.nspname = any(%(schemas)s::name[])")
