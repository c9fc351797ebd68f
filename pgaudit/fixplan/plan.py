"""The remediation plan: the selected findings' statements, classified, predicted and ordered.

``build`` reads the audited database only through ``Catalog`` (the read-only audit session):
definitions for undo statements, table sizes, and the data preconditions' counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pgaudit import __version__
from pgaudit.fixplan import preconditions as pre
from pgaudit.fixplan.statements import (
    Source,
    Statement,
    classify,
    clean,
    collect,
    guard,
    number,
    order,
    undo_of,
)
from pgaudit.model import Finding


@dataclass
class PlanOptions:
    include_destructive: bool = False
    include_cluster: bool = False
    lock_timeout: str = "5s"
    precondition_timeout_ms: int = 10000


@dataclass
class Plan:
    target: dict[str, Any]
    findings: list[dict[str, Any]]
    statements: list[Statement]
    options: PlanOptions
    generated_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    rehearsal: dict[str, Any] | None = None

    @property
    def predicted_failures(self) -> list[Statement]:
        return [s for s in self.statements if s.will_fail]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pgaudit_version": __version__,
            "generated_at": self.generated_at,
            "target": self.target,
            "options": {
                "include_destructive": self.options.include_destructive,
                "include_cluster": self.options.include_cluster,
                "lock_timeout": self.options.lock_timeout,
                "precondition_timeout_ms": self.options.precondition_timeout_ms,
            },
            "summary": {
                "findings": len(self.findings),
                "statements": len(self.statements),
                "included": sum(1 for s in self.statements if s.included),
                "predicted_failures": len(self.predicted_failures),
            },
            "findings": self.findings,
            "statements": [s.to_dict() for s in self.statements],
            "rehearsal": self.rehearsal,
        }


def _brief(f: Finding) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "fingerprints": f.fingerprints,
        "check": f.check,
        "checks": f.checks,
        "severity": f.severity,
        "object": f.object,
        "object_type": f.object_type,
        "columns": list(f.columns),
        "index": f.index,
        "title": f.title,
        "parts": [{"check": p.check, "object": p.object, "object_type": p.object_type,
                   "columns": list(p.columns), "index": p.index,
                   "fingerprint": p.fingerprint} for p in f.parts()],
    }


def _include(st: Statement, options: PlanOptions) -> None:
    info = st.info
    if info.scope == "cluster" and not options.include_cluster:
        st.included = False
        st.excluded_because = ("server-wide (every database of the server): "
                               "written commented out; --include-cluster to include it")
    elif info.destructive and not options.include_destructive:
        st.included = False
        st.excluded_because = ("destructive or data-changing: written commented out; "
                               "--include-destructive to include it")


def build(findings: list[Finding], target: dict[str, Any], catalog: pre.Catalog | None,
          options: PlanOptions) -> Plan:
    """The plan for ``findings`` (already selected). Without ``catalog`` (no database), no
    precondition is counted, no size read and drops get no undo."""
    sources = [Source(f.fingerprints, f.checks, f.remediation or "") for f in findings]
    items = order(collect(sources))
    for st in items:
        _include(st, options)
    # a transaction block of a remediation is applied whole or not at all
    for block in {s.block for s in items if s.block}:
        members = [s for s in items if s.block == block]
        out = next((s for s in members if not s.included), None)
        if out is None:
            continue
        for s in members:
            if s.included:
                s.included = False
                s.excluded_because = (f"part of one transaction with [{out.kind}]: "
                                      f"{out.excluded_because}")
    for st in items:
        st.undo = undo_of(clean(st.original), st.kind, st.table, catalog)
        if catalog is not None and st.table and st.kind != "create table":
            st.table_bytes = catalog.table_bytes(st.table)
    # the data preconditions, and the statements that would resolve them
    final: list[Statement] = []
    for st in items:
        if catalog is not None:
            for check, record in pre.predict(st, items, catalog):
                resolver: Statement | None = None
                if record["status"] == "fails" and check.resolve_sql:
                    text = clean(check.resolve_sql)
                    kind, table, _ = classify(text)
                    resolver = Statement(sql=guard(text, kind, table) + ";",
                                         original=text + ";", kind=kind, table=table,
                                         fingerprints=list(st.fingerprints),
                                         checks=list(st.checks))
                    _include(resolver, options)
                    final.append(resolver)
                record["resolved_by_included_statement"] = bool(resolver and resolver.included)
                st.precondition = record if st.precondition is None else st.precondition
                if record["status"] == "fails" and not (resolver and resolver.included):
                    st.will_fail = True
                    st.precondition = record
                if resolver is not None:
                    resolver.precondition = None
                    resolver.resolves = id(st)  # replaced by the number below
        final.append(st)
    # a resolver stands right before the statement whose precondition it fixes
    numbered = number(final)
    for st in numbered:
        if st.resolves is not None:
            st.resolves = next(s.number for s in numbered if id(s) == st.resolves)
    statement_findings = {fp: [s.number for s in numbered if fp in s.fingerprints]
                          for f in findings for fp in f.fingerprints}
    briefs = []
    for f in findings:
        brief = _brief(f)
        brief["statements"] = sorted({n for fp in f.fingerprints
                                      for n in statement_findings.get(fp, [])})
        briefs.append(brief)
    return Plan(target=target, findings=briefs, statements=numbered, options=options)
