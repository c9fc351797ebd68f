"""The library CTEs go first in a query's own WITH list, whatever comes before it."""

from __future__ import annotations

from pgaudit.checkfile import compose

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
