"""Connection strings: where the DSN comes from, how it is normalised, how it is shown.

libpq does the real work (``PG*`` variables, ``~/.pgpass``, service files); this module only
accepts the extra spellings DBAs paste (SQLAlchemy URLs) and hides passwords everywhere.
"""

from __future__ import annotations

import os
import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pgaudit.errors import PgauditError

_SQLALCHEMY = re.compile(r"^postgres(?:ql)?\+[a-z0-9_]+://", re.I)
_URI_PASSWORD = re.compile(r"(?P<head>postgres(?:ql)?(?:\+[a-z0-9_]+)?://[^:/@\s]*:)[^@\s]*@", re.I)
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def resolve(dsn: str | None) -> str:
    """The DSN to use: the argument, else ``PGAUDIT_DSN``, else libpq's environment ("")."""
    chosen = dsn if dsn else os.environ.get("PGAUDIT_DSN", "")
    return normalise(chosen)


def normalise(dsn: str) -> str:
    dsn = dsn.strip()
    if _SQLALCHEMY.match(dsn):
        dsn = "postgresql://" + dsn.split("://", 1)[1]
    try:
        conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise PgauditError(f"invalid connection string: {redact_text(str(exc))}") from None
    return dsn


def redact_text(text: str) -> str:
    """Remove anything that looks like a password from free text (error messages included)."""
    text = _URI_PASSWORD.sub(r"\g<head>***@", text)
    return _KV_PASSWORD.sub(r"\1***", text)


def display(params: dict[str, object]) -> str:
    """``user@host:port/dbname`` from connection parameters, never the password."""
    user = params.get("user") or ""
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    db = params.get("dbname") or ""
    return f"{user}@{host}:{port}/{db}" if user else f"{host}:{port}/{db}"
