"""The census: every ``census`` condition of an audit's checks, evaluated in one statement.

Several checks are about columns named or typed a certain way (JSON columns, soft-delete
flags, balances, expiry times, personal data). On a database with none, each used to scan
``pg_attribute`` to say so, some twice (the query, then ``applies``). A check's ``census``
condition is a necessary condition of its query finding anything and of its ``applies``,
written over the distinct table names, column names and types and the largest table's size
in scope (``checks/_lib/census_*.sql``). The engine evaluates the conditions of all the
audit's checks together, on the first check that needs one, in that check's session: one scan
of the catalogs for all of them, shared by every session. A check whose condition is false
runs no statement of its own.

The census only saves work: if its statement fails, every condition counts as true and each
check runs its query as it would without one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

import psycopg

from pgaudit.checkfile import CheckSpec, with_library
from pgaudit.resources import checks_dir
from pgaudit.sessions import StatementCounter

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_LIBRARY = ["census_tables", "census_columns", "census_sizes"]


def census_sql(conditions: dict[str, tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """One statement answering every check's condition (a boolean column named by the check),
    and its parameters: each check's own, prefixed with its id so that two checks' params of
    one name (``exclude_pattern``) keep their values. Other placeholders are the engine's."""
    columns: list[str] = []
    params: dict[str, Any] = {}
    for check, (condition, own) in conditions.items():
        def prefixed(m: re.Match[str], check: str = check, own: dict[str, Any] = own) -> str:
            return f"%({check}__{m.group(1)})s" if m.group(1) in own else m.group(0)

        columns.append(f"({_PLACEHOLDER.sub(prefixed, condition.strip())}) as \"{check}\"")
        params.update({f"{check}__{name}": value for name, value in own.items()})
    path = checks_dir() / "_lib" / "census_columns.sql"
    return with_library(_LIBRARY, "select " + ",\n       ".join(columns), path), params


class Census:
    """The conditions of an audit's checks, answered at most once; whichever session asks
    first reads them all, the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted: dict[str, tuple[str, dict[str, Any]]] = {}
        self._answers: dict[str, bool] = {}

    def expect(self, checks: Iterable[tuple[CheckSpec, dict[str, Any]]]) -> None:
        """The checks (with their params) the audit will ask about: read in one statement."""
        for spec, params in checks:
            if spec.census:
                self._wanted[spec.id] = (spec.census, params)

    def maybe(self, spec: CheckSpec, params: dict[str, Any], cur: psycopg.Cursor[Any],
              base: dict[str, Any], counter: StatementCounter) -> bool:
        """Whether ``spec``'s query could find anything (its census condition)."""
        assert spec.census
        with self._lock:
            if spec.id not in self._answers:
                todo = {k: v for k, v in self._wanted.items() if k not in self._answers}
                todo.setdefault(spec.id, (spec.census, params))
                self._answers.update(self._read(todo, cur, base, counter))
            return self._answers[spec.id]

    @staticmethod
    def _read(todo: dict[str, tuple[str, dict[str, Any]]], cur: psycopg.Cursor[Any],
              base: dict[str, Any], counter: StatementCounter) -> dict[str, bool]:
        sql, params = census_sql(todo)
        try:
            with cur.connection.transaction():  # a savepoint: a failure leaves the check's own
                counter.execute(cur, sql, {**base, **params})
                row = cur.fetchone()
        except psycopg.errors.QueryCanceled:
            row = None
        except psycopg.Error:
            if cur.connection.broken or cur.connection.closed:
                raise
            row = None
        if row is None:  # fail open: the checks run their queries
            return dict.fromkeys(todo, True)
        return {check: bool(row[check]) for check in todo}
