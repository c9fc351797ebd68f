"""Accepted risks: waivers from ``pgaudit.toml`` applied to a run, and ``pgaudit baseline``.

A waiver matches a finding on check + object, and also on ``columns`` and/or ``fingerprint``
when the waiver gives them. A matched finding stays in the run with ``waived`` set (reason,
approver, expiry) and no longer counts for ``--fail-on``. An expired waiver stops applying and
is reported as expired; a live waiver that matches nothing is reported as stale.

Waivers match findings as their checks gave them. Applied to a consolidated run (findings of
several checks merged into one entry, ``pgaudit.consolidate``), the entries are split into
their parts first and merged again after: a waiver on a merged check's finding still waives
it, and that accepted finding then stands apart from the entry it was merged into.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pgaudit.config import Waiver
from pgaudit.consolidate import consolidate, expand
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Finding
from pgaudit.output import write_atomic


def matches(waiver: Waiver, finding: Finding) -> bool:
    if finding.severity == "ok" or waiver.check != finding.check or waiver.object != finding.object:
        return False
    if waiver.columns is not None and list(waiver.columns) != list(finding.columns):
        return False
    return not (waiver.fingerprint and waiver.fingerprint != finding.fingerprint)


def _describe(waiver: Waiver) -> dict[str, Any]:
    doc: dict[str, Any] = {"check": waiver.check, "object": waiver.object}
    if waiver.columns is not None:
        doc["columns"] = list(waiver.columns)
    if waiver.fingerprint:
        doc["fingerprint"] = waiver.fingerprint
    doc.update(reason=waiver.reason, approved_by=waiver.approved_by,
               expires=waiver.expires.isoformat())
    return doc


def apply(run: AuditRun, waivers: Iterable[Waiver], today: dt.date | None = None) -> dict[str, Any]:
    """Mark waived findings in place; record applied/expired/stale waivers in ``run.waivers``.

    Apply them before the run is recorded in a history store: what it stores is counted."""
    today = today or dt.date.today()
    merged = any(f.also for f in run.findings)
    if merged:
        run.findings = expand(run.findings)
    applied: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    for waiver in waivers:
        hits = [f for f in run.findings if matches(waiver, f)]
        entry = {**_describe(waiver), "matched": len(hits)}
        if waiver.expires < today:
            expired.append(entry)
            continue
        if not hits:
            stale.append(entry)
            continue
        for f in hits:
            if f.counted:
                f.waived = {"reason": waiver.reason, "approved_by": waiver.approved_by,
                            "expires": waiver.expires.isoformat()}
        applied.append(entry)
    summary = {"applied": applied, "expired": expired, "stale": stale}
    run.waivers = summary
    if merged:
        run.findings = consolidate(run.findings)
    return summary


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = ['"']
    named = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
             "\r": "\\r"}
    for ch in value:
        if ch in named:
            out.append(named[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def baseline_text(findings: Iterable[Finding], *, reason: str, approved_by: str,
                  expires: dt.date) -> tuple[str, int]:
    """``[[waivers]]`` tables for every non-ok, not yet waived finding, and their number."""
    blocks: list[str] = []
    seen: set[str] = set()
    for f in expand(findings):  # the findings merged into another are accepted too
        if f.severity == "ok" or not f.counted or f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        lines = [
            "[[waivers]]",
            f"check = {toml_string(f.check)}",
            f"object = {toml_string(f.object)}",
        ]
        if f.columns:
            lines.append("columns = [" + ", ".join(toml_string(c) for c in f.columns) + "]")
        lines += [
            f"fingerprint = {toml_string(f.fingerprint)}",
            f"reason = {toml_string(reason)}",
            f"approved_by = {toml_string(approved_by)}",
            f"expires = {expires.isoformat()}",
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks), len(blocks)


def write_baseline(path: Path, findings: Iterable[Finding], *, reason: str, approved_by: str,
                   expires: dt.date) -> int:
    """Append waivers to ``path`` (created when missing); the result must still parse."""
    body, count = baseline_text(findings, reason=reason, approved_by=approved_by, expires=expires)
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise PgauditError(f"cannot read {path}: {exc}") from None
    if count == 0:
        return 0
    stamp = dt.date.today().isoformat()
    header = f"# pgaudit baseline {stamp}: {count} accepted finding(s)\n"
    if not existing or existing.endswith("\n\n"):
        sep = ""
    else:
        sep = "\n" if existing.endswith("\n") else "\n\n"
    text = existing + sep + header + body
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PgauditError(
            f"{path}: appending waivers would make it invalid TOML ({exc})") from None
    write_atomic(path, text)
    return count
