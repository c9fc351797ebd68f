"""Which findings a plan covers: a live audit's or a JSON run's, waived ones and ``ok`` lines
out, then filtered by check, severity and fingerprint. Only findings with SQL to run are kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pgaudit.errors import PgauditError
from pgaudit.model import RANK, AuditRun, Finding, Severity

MIN_SEVERITIES = ("critical", "warning", "info")


def read_run(path: Path) -> AuditRun:
    """The run a ``pgaudit audit -f json`` document holds (``--from``)."""
    from pgaudit.render import as_run

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PgauditError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PgauditError(f"{path} is not a JSON document: {exc}") from None
    try:
        return as_run(doc)
    except PgauditError:
        raise PgauditError(f"{path} is not a pgaudit run document") from None


def select(
    findings: Iterable[Finding],
    *,
    checks: Iterable[str] = (),
    skip: Iterable[str] = (),
    min_severity: str = "info",
    fingerprints: Iterable[str] = (),
) -> list[Finding]:
    """The findings a plan fixes. A merged finding is chosen when any of its checks (or
    fingerprints) is asked for, and left out when any of its checks is skipped."""
    if min_severity not in MIN_SEVERITIES:
        raise PgauditError(f"--min-severity must be one of {', '.join(MIN_SEVERITIES)}, "
                           f"not {min_severity!r}")
    want, unwanted, prints = set(checks), set(skip), set(fingerprints)
    floor = RANK[min_severity]
    chosen: list[Finding] = []
    for f in findings:
        if not f.counted or f.severity == Severity.OK or not (f.remediation or "").strip():
            continue
        if RANK.get(f.severity, 0) < floor:
            continue
        if want and not want & set(f.checks):
            continue
        if unwanted & set(f.checks):
            continue
        if prints and not prints & set(f.fingerprints):
            continue
        chosen.append(f)
    return chosen


def unknown_fingerprints(findings: Iterable[Finding], fingerprints: Iterable[str]) -> list[str]:
    """The ``--fingerprint`` values no finding of the run carries (a typo, or fixed already)."""
    known = {fp for f in findings for fp in f.fingerprints}
    return [fp for fp in fingerprints if fp not in known]
