"""The census: the distinct table and column names and types in scope, read once per audit.

Several checks are about columns named or typed a certain way (JSON columns, soft-delete
flags, balances, expiry times). On a database with none, each used to scan ``pg_attribute``
twice to say so: its query found nothing, then its ``applies`` statement. A check's
``census`` condition, a necessary condition of both over this census, decides that without
reading the catalogs: false, the check is not applicable. The census is read on the first
check that needs it, in that check's session, and shared by every session of the audit.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from pgaudit.checkfile import with_library
from pgaudit.resources import checks_dir
from pgaudit.sessions import StatementCounter


def census_sql() -> str:
    path = checks_dir() / "_census.sql"
    return with_library(["scope_tables"], path.read_text(encoding="utf-8"), path)


class Census:
    """Read at most once per audit, whichever session asks first; the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._params: dict[str, Any] | None = None

    def params(self, cur: psycopg.Cursor[Any], base: dict[str, Any],
               counter: StatementCounter) -> dict[str, Any]:
        """The census as the parameters of ``checks/_lib/census_*.sql``."""
        with self._lock:
            if self._params is None:
                counter.execute(cur, census_sql(), base)
                row = cur.fetchone()  # aggregates: always one row, nulls coalesced in SQL
                assert row is not None
                self._params = {
                    "census_relnames": list(row["relnames"]),
                    "census_attnames": list(row["attnames"]),
                    "census_atttypids": list(row["atttypids"]),
                    "census_atttypmods": list(row["atttypmods"]),
                    # the largest ordinary table's estimates: %(census_max_rows)s::float8
                    "census_max_rows": float(row["max_rows"]),
                    "census_max_bytes": float(row["max_bytes"]),
                }
            return self._params
