"""The library CTEs go first in a query's own WITH list, whatever comes before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgaudit.checkfile import CheckSpec, compose, parse_check
from pgaudit.errors import PgauditError

LIB = ["scope_x as (select 1 as oid)"]


def test_a_query_without_with_gets_one() -> None:
    assert compose(LIB, "select oid from scope_x") == (
        "with scope_x as (select 1 as oid)\nselect oid from scope_x"
    )


def test_the_library_joins_the_query_s_own_with_list() -> None:
    out = compose(LIB, "with recursive t as (select 1) select * from t, scope_x")
    assert out == (
        "with recursive scope_x as (select 1 as oid),\nt as (select 1) select * from t, scope_x"
    )


def test_leading_comments_do_not_hide_the_query_s_with() -> None:
    # the schema snapshot file opens with comments: a second WITH after them is a syntax error
    out = compose(LIB, "-- a comment\n-- another\nwith t as (select 1) select * from t")
    assert out.count("with ") == 1
    assert out.startswith("with scope_x as (select 1 as oid),\nt as (select 1)")


# --- a shared header: include = "_shared.toml" ----------------------------------------------

SHARED = """message = "{object}: {_what} is off"
ok_message = "{_what} is on"

[severity]
info = ["superuser"]
ok = ["_configured"]

[labels]
value = "Value"
set_by = "Set by"
"""

OWN = """/* pgaudit
id = "zz_shared"
title = "Settings that are off"
section = "4.2"
format = 2
include = "{include}"
detects = "d"
why = "w"
example = "e"
fix = "f"
ignore_when = "i"
ok = "All on"
impact = "x"
severity.default = "critical"

[labels]
value = "Own value"
*/
select 1
"""


def _load(tmp_path: Path, include: str, shared: str | None = SHARED) -> CheckSpec:
    if shared is not None:
        (tmp_path / "_shared.toml").write_text(shared, encoding="utf-8")
    path = tmp_path / "zz_shared.sql"
    path.write_text(OWN.replace("{include}", include), encoding="utf-8")
    return parse_check(path)


def test_a_shared_header_lies_under_the_check_s_own_keys(tmp_path: Path) -> None:
    spec = _load(tmp_path, "_shared.toml")
    assert spec.message == "{object}: {_what} is off" and spec.ok_message == "{_what} is on"
    # tables merged key by key, the check's own keys winning
    assert spec.labels == {"value": "Own value", "set_by": "Set by"}
    assert spec.severity == "critical"
    assert spec.severity_rule.levels() == {"critical", "info", "ok"}


@pytest.mark.parametrize(("include", "shared", "said"), [
    ("_missing.toml", SHARED, "included header _missing.toml does not exist"),
    ("../_shared.toml", SHARED, "include names a TOML file of the checks folder"),
    ("shared.toml", SHARED, "include names a TOML file of the checks folder"),
    ("_shared.toml", "message = ", "_shared.toml: not valid TOML"),
])  # fmt: skip
def test_a_bad_include_is_one_clear_error(
    tmp_path: Path, include: str, shared: str, said: str
) -> None:
    with pytest.raises(PgauditError) as err:
        _load(tmp_path, include, shared)
    assert said in str(err.value), err.value
