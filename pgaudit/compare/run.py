"""``pgaudit compare`` as a library call: resolve, read, compare, write the DDL."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pgaudit.compare.ddl import attach
from pgaudit.compare.diff import Comparison, Side, compare, parse_ignore
from pgaudit.compare.sides import Source, read_both
from pgaudit.config import duration_ms, load
from pgaudit.connection import SessionOptions


@dataclass
class Request:
    a: str
    b: str
    config: Path | None = None
    schemas: list[str] = field(default_factory=list)
    exclude_schemas: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


def run(request: Request) -> Comparison:
    """Bad input (an unknown kind, an unreadable file, a bad DSN) fails before any connection."""
    ignore = parse_ignore(request.ignore)
    config = load(request.config)
    a, b = Source("A", request.a, config), Source("B", request.b, config)
    audit = config.audit
    options = SessionOptions(lock_timeout_ms=duration_ms(audit.lock_timeout),
                             statement_timeout_ms=duration_ms(audit.statement_timeout),
                             application_name="pgaudit compare")
    schemas = request.schemas or list(audit.schemas)
    exclude = request.exclude_schemas or list(audit.exclude_schemas)
    ca, cb = read_both(a, b, schemas, exclude, options)
    comparison = compare(Side("A", a.source, a.shown, ca, a.findings),
                         Side("B", b.source, b.shown, cb, b.findings), ignore)
    attach(comparison)
    return comparison


def exit_code(comparison: Comparison, fail_on_diff: bool) -> int:
    """1 with --fail-on-diff when anything differs outside --ignore (the server's version
    included; what it explains is not counted twice), else 0."""
    return int(fail_on_diff and bool(comparison.drift))
