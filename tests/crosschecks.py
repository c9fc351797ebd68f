"""Cross-checks a finished run must pass whatever the database (issue 12): what a DBA would
otherwise have to edit out of the report by hand. Each returns what is wrong (empty: fine)."""

from __future__ import annotations

from pgaudit.consolidate import alterations
from pgaudit.model import AuditRun


def contradicting_ok(run: AuditRun) -> list[str]:
    """(a) Checks whose check-wide 🟢 stands beside a finding of theirs (merged ones included):
    "every foreign key is indexed" above an unindexed foreign key."""
    fired = {p.check for f in run.findings if f.severity != "ok" for p in f.parts()}
    return sorted({f.check for f in run.findings if f.check_wide and f.check in fired})


def disagreeing_fixes(run: AuditRun) -> list[str]:
    """(b) Columns two remediations of the report alter in different ways (two ALTER COLUMN
    ... TYPE, two SET DEFAULT …, or one sequence given two types), as "table.column kind"."""
    seen: dict[tuple[tuple[str, ...], str, str], set[str]] = {}
    for f in run.findings:
        if f.severity == "ok":
            continue
        for a in alterations(f.remediation):
            seen.setdefault((a.table, a.column, a.kind), set()).add(a.clause)
    return sorted(f"{'.'.join((*t, c) if c else t)} {k}"
                  for (t, c, k), clauses in seen.items() if len(clauses) > 1)


def not_applicable_with_ok(run: AuditRun) -> list[str]:
    """(c) Not-applicable checks that still emitted a finding (a 🟢 above all)."""
    na = {c.id for c in run.checks if c.status == "not_applicable"}
    return sorted({f.check for f in run.findings if f.check in na})


def ok_titles_claiming_too_much(run: AuditRun, ok_titles: dict[str, str]) -> list[str]:
    """A partial positive (an ok row about some objects) carrying its check's check-wide ok
    title; ``ok_titles``: check id -> its header's ``ok``."""
    return sorted({f.check for f in run.findings
                   if f.severity == "ok" and not f.check_wide
                   and f.title == ok_titles.get(f.check)})
