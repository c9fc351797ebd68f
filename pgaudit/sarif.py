"""SARIF 2.1.0 for code-scanning dashboards: one rule per check, one result per finding.

Findings have no file location; each result names its object with a ``logicalLocation``.
Positive (``ok``) findings are not results. Waived findings carry an accepted ``suppression``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgaudit.checkfile import CheckSpec
from pgaudit.model import AuditRun, Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "warning": "warning", "info": "note"}
_KINDS = {"function": "function", "schema": "namespace", "type": "type", "column": "member"}


def _rule(check: str, spec: CheckSpec | None, sample: Finding | None) -> dict[str, Any]:
    if spec is None:
        assert sample is not None  # a rule without a spec is made for a check that found
        return {"id": check, "name": check, "shortDescription": {"text": sample.title},
                "properties": {"section": sample.section}}
    docs = "\n\n".join(f"{head}: {text}" for head, text in spec.docs().items())
    markdown = "\n\n".join(f"**{head}**\n\n{text}" for head, text in spec.docs().items())
    if spec.remediation:
        docs += f"\n\nRemediation: {spec.remediation}"
        markdown += f"\n\n**Remediation**\n\n{spec.remediation}"
    if spec.references:
        markdown += "\n\n**References**\n\n" + "\n".join(f"- {u}" for u in spec.references)
    rule: dict[str, Any] = {
        "id": check,
        "name": "".join(w.capitalize() for w in check.split("_")),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.detects},
        "help": {"text": docs, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[spec.severity]},
        "properties": {"section": spec.section, "tags": [spec.chapter, "postgresql"],
                       "needs": list(spec.needs)},
    }
    if spec.references:
        rule["helpUri"] = spec.references[0]
    return rule


def build(run: AuditRun, specs: Mapping[str, CheckSpec] | None = None) -> dict[str, Any]:
    specs = specs or {}
    findings = [f for f in run.findings if f.severity != "ok"]
    order: list[str] = []
    samples: dict[str, Finding] = {}
    for f in findings:
        if f.check not in samples:
            order.append(f.check)
            samples[f.check] = f
    for c in run.checks:  # rules also for checks that ran clean
        if c.id in specs and c.id not in samples:
            order.append(c.id)
    rules = [_rule(c, specs.get(c), samples.get(c)) for c in order if c in specs or c in samples]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        name = f.object + (f" ({f.index})" if f.index else "")
        location: dict[str, Any] = {"fullyQualifiedName": f.object, "name": f.object,
                                    "kind": _KINDS.get(f.object_type, "resource")}
        locations = [{"logicalLocations": [location]}]
        if f.index:
            locations[0]["logicalLocations"].append(
                {"fullyQualifiedName": f.index, "name": f.index, "kind": "resource"})
        result: dict[str, Any] = {
            "ruleId": f.check,
            "ruleIndex": index[f.check],
            "level": LEVELS.get(f.severity, "note"),
            "message": {"text": f.detail or f"{f.title}: {name}"},
            "locations": locations,
            "partialFingerprints": {"pgauditFingerprint/v1": f.fingerprint},
            "fingerprints": {"pgaudit/v1": f.fingerprint},
            "properties": {
                "severity": f.severity, "priority": f.priority, "section": f.section,
                "objectType": f.object_type, "columns": list(f.columns),
                "evidence": f.evidence, "remediation": f.remediation,
            },
        }
        if not f.counted and f.waived is not None:
            result["suppressions"] = [{
                "kind": "external", "status": "accepted",
                "justification": f"{f.waived.get('reason', '')} (approved by "
                                 f"{f.waived.get('approved_by', '')}, expires "
                                 f"{f.waived.get('expires', '')})",
            }]
        results.append(result)
    notifications = [
        {"level": "error" if c.status == "error" else "note",
         "message": {"text": f"{c.id}: {c.status}: {c.reason or ''}"},
         "descriptor": {"id": c.id}}
        for c in run.checks if c.status != "ran"
    ]
    target = run.target
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pgaudit",
                "version": str(run.pgaudit_version),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": True,
                "endTimeUtc": run.generated_at,
                "toolExecutionNotifications": notifications,
            }],
            "properties": {"database": target.get("database"),
                           "serverVersion": target.get("server_version"),
                           "host": target.get("host"),
                           # the counts every output prints (pgaudit.model.summarise)
                           "summary": run.summary.to_dict()},
            "results": results,
        }],
    }
