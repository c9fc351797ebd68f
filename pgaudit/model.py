"""The data every layer shares: review sections, severities, check specs, findings, runs.

The JSON document written by ``pgaudit audit --format json`` is ``AuditRun.to_dict()``; it is the
contract between the engine and the renderers, so its field names are part of the public interface.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    @property
    def rank(self) -> int:
        return {"critical": 3, "warning": 2, "info": 1, "ok": 0}[self.value]

    @property
    def emoji(self) -> str:
        return {"critical": "🔴", "warning": "🟡", "info": "🟡", "ok": "🟢"}[self.value]


# Severity by value and rank by value: dictionary lookups, not an Enum call, for each of the
# tens of thousands of findings of a large catalog
SEVERITIES = {s.value: s for s in Severity}
RANK = {s.value: s.rank for s in Severity}


class Priority(StrEnum):
    IMMEDIATE = "immediate"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


DEFAULT_PRIORITY = {
    Severity.CRITICAL: Priority.IMMEDIATE,
    Severity.WARNING: Priority.HIGH,
    Severity.INFO: Priority.LOW,
    Severity.OK: Priority.LOW,
}


@dataclass(frozen=True)
class Section:
    key: str  # "2.1"
    title: str
    chapter: str  # "2. Relationships & Constraints"


# The review's own headings, in its order (../shared/seed/production-database-review.md).
CHAPTERS = {
    "1": "Schema Design",
    "2": "Relationships & Constraints",
    "3": "Indexes & Performance",
    "4": "Transactions & Consistency",
    "5": "Migrations & Versioning",
    "6": "Security & Data Safety",
    "7": "Scalability & Cost Optimization",
}

_SUBSECTIONS = {
    "1.1": "Table Structure & Naming",
    "1.2": "Normalization vs Denormalization",
    "1.3": "Enum Usage vs Lookup Tables",
    "2.1": "One-to-One, One-to-Many, Many-to-Many",
    "2.2": "Foreign Keys, Cascade Rules, Referential Integrity",
    "2.3": "Orphan Handling and Soft Delete Strategy",
    "3.1": "Missing or Unnecessary Indexes",
    "3.2": "Composite Indexes and Query Patterns",
    "3.3": "Read/Write Performance and Scalability Risks",
    "4.1": "ACID Compliance and Transaction Boundaries",
    "4.2": "Concurrency, Race Conditions, Locking Concerns",
    "4.3": "Idempotency at DB Level",
    "5.1": "Migration Safety and Rollback Strategy",
    "5.2": "Data Migration Risks in Production",
    "5.3": "Backward Compatibility",
    "6.1": "Sensitive Data Storage (PII, Encryption, Hashing)",
    "6.2": "Row-Level Security Considerations",
    "6.3": "Auditability and Traceability",
    "7.1": "Growth Risks (Table Size, Hot Partitions)",
    "7.2": "Read Replicas, Partitioning, Archiving",
    "7.3": "Cost-Efficient Design for Cloud Databases",
}

SECTIONS: dict[str, Section] = {
    key: Section(key, title, f"{key.split('.')[0]}. {CHAPTERS[key.split('.')[0]]}")
    for key, title in _SUBSECTIONS.items()
}


def fingerprint(
    check: str, obj: str, columns: list[str] | tuple[str, ...], index: str | None
) -> str:
    """Stable identity of a finding across runs: what is wrong and where, never how much."""
    raw = "\x1f".join([check, obj, ",".join(columns), index or ""])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def default_target_name(target: dict[str, Any]) -> str:
    """How a database is named in the history store when the user gives no name."""
    return f"{target.get('database')}@{target.get('host')}:{target.get('port')}"


@dataclass
class Finding:
    check: str
    section: str
    severity: str
    priority: str
    object: str
    object_type: str
    title: str
    detail: str
    columns: list[str] = field(default_factory=list)
    index: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str | None = None
    impact: str | None = None
    fingerprint: str = ""
    waived: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.check, self.object, self.columns, self.index)

    def to_dict(self) -> dict[str, Any]:
        # evidence is decoded JSON (plain values): a shallow copy is enough, and a deep one
        # costs seconds with the tens of thousands of findings of a large catalog
        doc = dict(self.__dict__)  # the fields, in their declared order
        doc["columns"] = list(self.columns)
        doc["evidence"] = dict(self.evidence)
        if self.waived is not None:
            doc["waived"] = dict(self.waived)
        return doc



@dataclass
class CheckResult:
    id: str
    status: str  # ran | skipped | error
    reason: str | None = None
    duration_ms: float = 0.0
    skipped_objects: list[str] = field(default_factory=list)
    statements: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AuditRun:
    pgaudit_version: str
    generated_at: str
    target: dict[str, Any]
    facts: dict[str, Any]
    scope: dict[str, Any]
    assumptions: dict[str, Any]
    findings: list[Finding]
    checks: list[CheckResult]
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # Table sizes and schema objects for the history store; not part of the JSON document.
    snapshot: Any = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            if not f.waived:
                counts[f.severity] += 1
        counts["waived"] = sum(1 for f in self.findings if f.waived)
        return counts

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "pgaudit_version": self.pgaudit_version,
            "generated_at": self.generated_at,
            "duration_ms": round(self.duration_ms, 1),
            "target": self.target,
            "facts": self.facts,
            "scope": self.scope,
            "assumptions": self.assumptions,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "checks": [c.to_dict() for c in self.checks],
        }
        doc.update(self.extra)
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> AuditRun:
        known = {
            "schema_version",
            "pgaudit_version",
            "generated_at",
            "duration_ms",
            "target",
            "facts",
            "scope",
            "assumptions",
            "summary",
            "findings",
            "checks",
        }
        return cls(
            pgaudit_version=doc["pgaudit_version"],
            generated_at=doc["generated_at"],
            target=doc["target"],
            facts=doc.get("facts", {}),
            scope=doc.get("scope", {}),
            assumptions=doc.get("assumptions", {}),
            findings=[Finding(**f) for f in doc["findings"]],
            checks=[CheckResult(**c) for c in doc["checks"]],
            duration_ms=doc.get("duration_ms", 0.0),
            extra={k: v for k, v in doc.items() if k not in known},
        )
