"""The command's A and B: a run file with a recorded snapshot, a named target, or a DSN.

A path to an existing file (or any argument ending in ``.json``) is a run file; a name listed in
the config's ``[[targets]]`` is that target's DSN; anything else must parse as a connection
string. Both live sides are read at once, each on its own read-only session.
"""

from __future__ import annotations

import fnmatch
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pgaudit.compare.catalog import Catalog, read
from pgaudit.config import Config, interpolate_env
from pgaudit.connection import SessionOptions
from pgaudit.dsn import display, normalise
from pgaudit.errors import PgauditError

RUN_KEY = "catalog"  # where an audit run document records its snapshot


class Source:
    """One argument, resolved but not read."""

    def __init__(self, label: str, arg: str, config: Config) -> None:
        self.label = label
        self.arg = arg
        self.dsn: str | None = None
        self.doc: dict[str, Any] | None = None
        path = Path(arg)
        if arg.endswith(".json") or path.is_file():
            self.source, self.shown = "run file", str(path)
            self.doc = _run_document(label, path)
            return
        target = next((t for t in config.targets if t.name == arg), None)
        if target is not None:
            self.source, self.shown = "target", arg
            self.dsn = normalise(interpolate_env(target.dsn))
            return
        try:
            self.dsn = normalise(arg)
        except PgauditError:
            raise PgauditError(f"{label} {arg!r} is neither a run file, a target of the "
                               "config nor a connection string") from None
        from psycopg.conninfo import conninfo_to_dict

        self.source, self.shown = "database", display(dict(conninfo_to_dict(self.dsn).items()))

    def catalog(self, schemas: list[str], exclude: list[str], options: SessionOptions
                ) -> Catalog:
        if self.doc is not None:
            catalog = Catalog.from_dict(self.doc[RUN_KEY])
            return _scoped(catalog, schemas, exclude)
        assert self.dsn is not None
        try:
            return read(self.dsn, schemas=schemas, exclude_schemas=exclude, options=options)
        except PgauditError as exc:
            raise PgauditError(f"{self.label} ({self.shown}): {exc}") from None

    @property
    def findings(self) -> list[dict[str, Any]] | None:
        if self.doc is None:
            return None
        return [f for f in self.doc.get("findings") or [] if isinstance(f, dict)]


def _run_document(label: str, path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PgauditError(f"{label} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PgauditError(f"{label} {path} is not a JSON document: {exc}") from None
    if not isinstance(doc, dict) or "findings" not in doc:
        raise PgauditError(f"{label} {path} is not a pgaudit run document")
    if RUN_KEY not in doc:
        raise PgauditError(f"{label} {path} was recorded without a catalog snapshot: audit "
                           "with --catalog-snapshot (or [audit] catalog_snapshot = true)")
    return doc


def _scoped(catalog: Catalog, schemas: list[str], exclude: list[str]) -> Catalog:
    """A recorded snapshot narrowed to the schemas asked for (config objects have none)."""
    if not schemas and not exclude:
        return catalog

    def keep(schema: str) -> bool:
        if not schema:
            return True
        if schemas and not any(fnmatch.fnmatchcase(schema, g) for g in schemas):
            return False
        return not any(fnmatch.fnmatchcase(schema, g) for g in exclude)

    catalog.objects = {k: v for k, v in catalog.objects.items() if keep(k[1])}
    catalog.schemas = [s for s in catalog.schemas if keep(s)]
    return catalog


def read_both(a: Source, b: Source, schemas: list[str], exclude: list[str],
              options: SessionOptions) -> tuple[Catalog, Catalog]:
    """Both snapshots, the live ones at the same time (one thread and session each)."""
    with ThreadPoolExecutor(2, thread_name_prefix="pgaudit-compare") as pool:
        fa = pool.submit(a.catalog, schemas, exclude, options)
        fb = pool.submit(b.catalog, schemas, exclude, options)
        return fa.result(), fb.result()
