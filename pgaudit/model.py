"""The data every layer shares: review sections, severities, check specs, findings, runs.

The typed ``AuditRun`` goes from the engine to every output; its counts are ``AuditRun.summary``,
computed in one place (``summarise``). The JSON document written by ``pgaudit audit --format
json`` is ``AuditRun.to_dict()``, read back only by ``pgaudit render`` (``AuditRun.from_dict``);
its field names are part of the public interface.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pgaudit.errors import PgauditError

if TYPE_CHECKING:
    from pgaudit.snapshot import Snapshot

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
    # True only for the engine's 🟢 of a check that returned no row at all: its title is the
    # check's ``ok`` line. An ``ok`` row a severity rule rated (a partial positive about one
    # object) carries its own sentence and is not check-wide.
    check_wide: bool = False
    # Other checks' findings on the same object and column, merged into this one by
    # ``pgaudit.consolidate`` (most severe first): each keeps its check, title, severity,
    # detail and identity (object, columns, index, fingerprint), so waivers and the history
    # store still see it; ``fix`` says what became of its remediation.
    also: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.check, self.object, self.columns, self.index)

    @property
    def fingerprints(self) -> list[str]:
        """This finding's fingerprint and those of the findings merged into it."""
        return [self.fingerprint, *(str(a.get("fingerprint") or "") for a in self.also)]

    @property
    def checks(self) -> list[str]:
        """This finding's check and the checks of the findings merged into it."""
        return [self.check, *(str(a.get("check") or "") for a in self.also)]

    @property
    def counted(self) -> bool:
        """The one "not waived" rule: a finding counts unless a waiver accepted it."""
        return not self.waived

    def to_dict(self) -> dict[str, Any]:
        # evidence is decoded JSON (plain values): a shallow copy is enough, and a deep one
        # costs seconds with the tens of thousands of findings of a large catalog
        doc = dict(self.__dict__)  # the fields, in their declared order
        doc["columns"] = list(self.columns)
        doc["evidence"] = dict(self.evidence)
        if self.waived is not None:
            doc["waived"] = dict(self.waived)
        doc["also"] = [dict(a) for a in self.also]
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Finding:
        """A finding of a JSON run document. Documents written before ``check_wide`` existed
        gave every ``ok`` finding the check's ``ok`` title: the engine's 🟢 of an empty result
        is told apart by its shape (about the database, its detail the title itself), and a
        partial positive gets its own sentence back as its title."""
        fields = dict(doc)
        if "check_wide" not in fields and fields.get("severity") == Severity.OK:
            wide = fields.get("object_type") == "database" and (
                not fields.get("detail") or fields.get("detail") == fields.get("title"))
            fields["check_wide"] = wide
            if not wide and fields.get("detail"):
                fields["title"] = fields["detail"]
        return cls(**fields)

    def brief(self) -> dict[str, Any]:
        """The short form the history store's comparison lists."""
        return {
            "check": self.check,
            "object": self.object,
            "columns": list(self.columns),
            "index": self.index,
            "severity": self.severity,
            "title": self.title,
            "fingerprint": self.fingerprint,
        }

    def parts(self) -> list[Finding]:
        """This finding as the checks gave it, and each finding merged into it, rebuilt from
        its ``also`` entry (for waivers, the history store and tests that look for a check)."""
        if not self.also:
            return [self]
        own = dataclasses.replace(self, also=[])
        return [own, *(Finding.from_also(self, a) for a in self.also)]

    @classmethod
    def from_also(cls, primary: Finding, entry: Mapping[str, Any]) -> Finding:
        return cls(
            check=str(entry["check"]),
            section=str(entry.get("section") or primary.section),
            severity=str(entry["severity"]),
            priority=str(entry.get("priority") or DEFAULT_PRIORITY[SEVERITIES[entry["severity"]]]),
            object=str(entry.get("object") or primary.object),
            object_type=str(entry.get("object_type") or primary.object_type),
            title=str(entry.get("title") or ""),
            detail=str(entry.get("detail") or ""),
            columns=list(entry.get("columns") or []),
            index=entry.get("index"),
            evidence=dict(entry.get("evidence") or {}),
            remediation=entry.get("original_remediation"),
            impact=entry.get("impact"),
            fingerprint=str(entry.get("fingerprint") or ""),
            waived=primary.waived,
        )


CHECK_STATUSES = ("ran", "not_applicable", "skipped", "error")


@dataclass
class CheckResult:
    id: str
    # ran | not_applicable (nothing in scope to judge: no 🟢, not well-designed) | skipped
    # (no verdict: a privilege, a need or the statistics window; the reason says which) | error
    status: str
    reason: str | None = None
    duration_ms: float = 0.0
    skipped_objects: list[str] = field(default_factory=list)
    statements: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diff:
    """What changed since the target's previous stored run: findings (not ``ok``) by
    fingerprint. A first run has no ``previous_run`` and nothing new or resolved. A new finding
    a waiver accepts is not news: it is not listed as new (nor as persisting)."""

    previous_run: dict[str, Any] | None
    new: list[dict[str, Any]] = field(default_factory=list)  # Finding.brief() of this run
    resolved: list[dict[str, Any]] = field(default_factory=list)  # as the previous run had them
    persisting: int = 0
    run_id: int | None = None

    @classmethod
    def compare(
        cls,
        findings: list[Finding],
        before: dict[str, dict[str, Any]],
        previous_run: dict[str, Any] | None,
        run_id: int | None = None,
    ) -> Diff:
        """This run's findings against the previous run's (``before``: fingerprint -> brief)."""
        # the findings merged into another are still there: their fingerprints are current
        current = [p for f in findings if f.severity != Severity.OK for p in f.parts()]
        now = {f.fingerprint for f in current}
        return cls(
            previous_run=previous_run,
            new=[f.brief() for f in current if f.counted and f.fingerprint not in before]
            if previous_run
            else [],
            resolved=[v for k, v in before.items() if k not in now],
            persisting=len(now & set(before)),
            run_id=run_id,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "previous_run": self.previous_run,
            "new": self.new,
            "resolved": self.resolved,
            "persisting": self.persisting,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Diff:
        def briefs(items: Any) -> list[dict[str, Any]]:
            return [i if isinstance(i, dict) else {"title": str(i)} for i in items or []]

        persisting = doc.get("persisting") or 0
        previous = doc.get("previous_run")
        return cls(
            previous_run=previous
            if isinstance(previous, dict) or previous is None
            else {"generated_at": str(previous)},
            new=briefs(doc.get("new")),
            resolved=briefs(doc.get("resolved")),
            persisting=persisting if isinstance(persisting, int) else len(persisting),
            run_id=doc.get("run_id"),
        )


@dataclass
class SchemaChange:
    """One object of the audited schemas added, dropped or altered since the target's previous
    stored run: an event of this run (its change log), never a finding. The rows of a check
    marked ``change_log`` (schema_drift) become these (``take_change_log``)."""

    object: str
    object_type: str
    change: str  # added | dropped | altered
    identity: str = ""  # "table public.orders": the snapshot's key
    previous_md5: str | None = None
    current_md5: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> SchemaChange:
        return cls(
            object=str(doc.get("object") or ""),
            object_type=str(doc.get("object_type") or ""),
            change=str(doc.get("change") or ""),
            identity=str(doc.get("identity") or ""),
            previous_md5=doc.get("previous_md5"),
            current_md5=doc.get("current_md5"),
        )

    @classmethod
    def from_finding(cls, f: Finding) -> SchemaChange:
        facts = f.evidence
        return cls(
            object=f.object,
            object_type=f.object_type,
            change=str(facts.get("change") or ""),
            identity=str(facts.get("identity") or ""),
            previous_md5=facts.get("previous_md5"),
            current_md5=facts.get("current_md5"),
        )


def take_change_log(run: AuditRun, change_log: set[str]) -> None:
    """Move the rows of the change-log checks ``change_log`` (check ids) out of the findings
    into ``run.changes``: ``[]`` when such a check ran and found no change, None when none ran
    (no previous snapshot, or not selected). Their 🟢 line goes too: no change is no verdict."""
    ran = any(c.id in change_log and c.status == "ran" for c in run.checks)
    if ran:
        run.changes = [
            SchemaChange.from_finding(f)
            for f in run.findings
            if f.check in change_log and f.severity != Severity.OK
        ]
    run.findings = [f for f in run.findings if f.check not in change_log]


class Counted(Protocol):
    """What the exit status and the metrics read of a run: an ``AuditRun``, or the digest an
    ``audit --all`` keeps of each target's run (``pgaudit.targets.Digest``)."""

    @property
    def summary(self) -> Summary: ...

    @property
    def generated_at(self) -> str: ...

    @property
    def diff(self) -> object: ...  # None: no stored run to compare with


@dataclass(frozen=True)
class Summary:
    """Every count of a run, computed once (``AuditRun.summary``) and read by every output:
    findings counted per severity (waived ones apart), and with a history store what is new
    and resolved since the previous run."""

    critical: int = 0
    warning: int = 0
    info: int = 0
    ok: int = 0
    waived: int = 0
    new: int | None = None  # None: no stored run to compare with
    resolved: int | None = None
    new_by_severity: dict[str, int] = field(default_factory=dict)
    by_check: dict[tuple[str, str], int] = field(default_factory=dict)  # (check, severity)
    critical_titles: dict[str, int] = field(default_factory=dict)
    # checks that had nothing in scope to judge: neither well-designed (ok) nor skipped
    not_applicable: int = 0
    # findings merged into another on the same object and column (each counted once, there)
    merged: int = 0

    def count(self, severity: str) -> int:
        return int(getattr(self, Severity(severity).value))

    def at_or_above(self, severity: str) -> int:
        """Counted findings, ``ok`` aside, at or above ``severity``."""
        floor = RANK[severity]
        return sum(self.count(s) for s in ("critical", "warning", "info") if RANK[s] >= floor)

    def new_at_or_above(self, severity: str) -> int:
        floor = RANK[severity]
        return sum(n for s, n in self.new_by_severity.items() if RANK.get(s, 0) >= floor)

    def to_dict(self) -> dict[str, int]:
        doc = {
            "critical": self.critical,
            "warning": self.warning,
            "info": self.info,
            "ok": self.ok,
            "waived": self.waived,
        }
        if self.new is not None and self.resolved is not None:
            doc.update(new=self.new, resolved=self.resolved)
        if self.not_applicable:
            doc["not_applicable"] = self.not_applicable
        if self.merged:
            doc["merged"] = self.merged
        return doc


def summarise(
    findings: list[Finding], diff: Diff | None = None, checks: list[CheckResult] | None = None
) -> Summary:
    """The counts of a run: the only place findings are counted."""
    counts = dict.fromkeys(SEVERITIES, 0)
    waived = 0
    merged = 0
    by_check: dict[tuple[str, str], int] = {}
    titles: dict[str, int] = {}
    ok, critical = Severity.OK.value, Severity.CRITICAL.value  # plain str: looked up once
    for f in findings:
        merged += len(f.also)
        if not f.counted:
            waived += 1
            continue
        counts[f.severity] += 1
        if f.severity != ok:
            by_check[f.check, f.severity] = by_check.get((f.check, f.severity), 0) + 1
        if f.severity == critical:
            titles[f.title] = titles.get(f.title, 0) + 1
    new: int | None = None
    resolved: int | None = None
    new_by_severity: dict[str, int] = {}
    if diff is not None:
        for item in diff.new:
            severity = str(item.get("severity") or "")
            new_by_severity[severity] = new_by_severity.get(severity, 0) + 1
        new, resolved = sum(new_by_severity.values()), len(diff.resolved)
    return Summary(
        critical=counts["critical"],
        warning=counts["warning"],
        info=counts["info"],
        ok=counts["ok"],
        waived=waived,
        new=new,
        resolved=resolved,
        new_by_severity=new_by_severity,
        by_check=dict(sorted(by_check.items())),
        critical_titles=titles,
        not_applicable=sum(1 for c in checks or [] if c.status == "not_applicable"),
        merged=merged,
    )


_KNOWN = frozenset({
    "schema_version", "pgaudit_version", "generated_at", "duration_ms", "target", "facts",
    "scope", "assumptions", "summary", "findings", "checks", "diff", "history", "waivers",
    "inventory", "changes",
})  # fmt: skip


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
    # with a history store: the comparison with the previous run, and the target's history
    diff: Diff | None = None
    history: dict[str, Any] | None = None
    # with waivers in the config: which applied, which expired, which matched nothing
    waivers: dict[str, Any] | None = None
    # the report's appendix "Inventory" (pgaudit.inventory); None in runs written without it
    inventory: dict[str, Any] | None = None
    # with a history store: the schema's change log since the previous run (SchemaChange);
    # None when no change-log check ran, [] when one ran and nothing changed
    changes: list[SchemaChange] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys of a read document
    # Table sizes and schema objects for the history store; not part of the JSON document.
    snapshot: Snapshot | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> Summary:
        return summarise(self.findings, self.diff, self.checks)

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
            "summary": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.diff is not None:
            doc["diff"] = self.diff.to_dict()
        if self.history is not None:
            doc["history"] = self.history
        if self.waivers is not None:
            doc["waivers"] = self.waivers
        if self.inventory is not None:
            doc["inventory"] = self.inventory
        if self.changes is not None:
            doc["changes"] = [c.to_dict() for c in self.changes]
        doc.update(self.extra)
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> AuditRun:
        """A run from its JSON document (``pgaudit render``); a malformed one is a
        PgauditError. The document's ``summary`` is not read: counts are recomputed."""
        try:
            diff = doc.get("diff")
            return cls(
                pgaudit_version=doc["pgaudit_version"],
                generated_at=doc["generated_at"],
                target=doc["target"],
                facts=doc.get("facts") or {},
                scope=doc.get("scope") or {},
                assumptions=doc.get("assumptions") or {},
                findings=[Finding.from_dict(f) for f in doc["findings"]],
                checks=[CheckResult(**c) for c in doc["checks"]],
                duration_ms=doc.get("duration_ms", 0.0),
                diff=Diff.from_dict(diff) if diff else None,
                history=doc.get("history"),
                waivers=doc.get("waivers"),
                inventory=doc.get("inventory"),
                changes=None
                if doc.get("changes") is None
                else [SchemaChange.from_dict(c) for c in doc["changes"]],
                extra={k: v for k, v in doc.items() if k not in _KNOWN},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise PgauditError(f"not a pgaudit run document: {exc}") from None
