"""The report model: an AuditRun turned into what the templates print.

Everything that needs a decision (grouping, numbering, ordering, priorities, the assessment
paragraph) happens here, so the templates only loop and escape. Finding counts are the run's
``summary`` (``pgaudit.model.summarise``), the same numbers every other output prints; the
report adds only its own grouping (numbered items). ``pgaudit render run.json`` builds the run
from its JSON document first, so it needs no database.

Priority buckets of "Priority Action Items": ``immediate`` → 🔴 IMMEDIATE, ``high`` → 🟡 HIGH,
``low`` → 🟢 LOW; ``medium`` goes to HIGH when the finding is critical or warning (a defect that
will bite at scale) and to LOW when it is info (an optimisation).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pgaudit.charts import trend_charts
from pgaudit.checkfile import CheckSpec
from pgaudit.model import CHAPTERS, SECTIONS, AuditRun, Diff, Finding, Severity, Summary

SQL_CAP = 30  # remediation statements shown per finding group
SPLIT_MAX = 5  # up to this many objects with one defect get a numbered finding each
TABLE_CAP = 50  # evidence rows shown per finding group
EVIDENCE_COLUMNS = 6

PRIORITY_RANK = {"immediate": 3, "high": 2, "medium": 1, "low": 0}
PRIORITY_TEXT = {
    "immediate": "IMMEDIATE — before production",
    "high": "HIGH — before scale",
    "medium": "MEDIUM — plan it",
    "low": "LOW — optimization",
}
ASSUMPTION_LABELS = {
    "high_traffic": "high traffic",
    "multi_tenant": "multi-tenant",
    "cloud_hosted": "cloud-hosted",
    "cost_optimized": "cost-optimized",
}
PRIVILEGES = ("superuser", "pg_monitor", "pg_read_all_stats", "pg_read_all_settings",
              "pg_read_all_data")


@dataclass
class Group:
    """One numbered finding: one check's defect on one or many objects."""

    number: str
    anchor: str
    check: str
    section: str
    title: str
    severity: str
    priority: str
    bucket: str  # immediate | high | low
    findings: list[Finding]
    description: str
    evidence: list[tuple[str, str]]  # single object: label, value; group: values common to all
    table_headers: list[str]
    table_rows: list[list[str]]
    table_more: int
    sql: str
    sql_more: int
    fix: str
    impact: str

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def single(self) -> bool:
        return len(self.findings) == 1

    @property
    def object_label(self) -> str:
        f = self.findings[0]
        return f"{f.object} ({f.index})" if f.index else f.object

    @property
    def one_object(self) -> bool:
        """Several findings on the same object (columns of one table): headed by that object."""
        return not self.single and len({f.object for f in self.findings}) == 1

    @property
    def count_label(self) -> str:
        if self.one_object:
            noun = "columns" if all(f.columns for f in self.findings) else "findings"
            return f"{self.findings[0].object} ({self.count} {noun})"
        return f"{self.count} objects"

    @property
    def objects_preview(self) -> str:
        names = [f.object for f in self.findings]
        unique = list(dict.fromkeys(names))
        text = ", ".join(unique[:3])
        return text + (f" and {len(unique) - 3} more" if len(unique) > 3 else "")

    @property
    def priority_text(self) -> str:
        return PRIORITY_TEXT.get(self.priority, self.priority.upper())

    @property
    def severity_label(self) -> str:
        return self.severity.upper()


@dataclass
class OkItem:
    check: str
    title: str
    detail: str


@dataclass
class Subsection:
    key: str
    title: str
    anchor: str
    ok: list[OkItem] = field(default_factory=list)
    critical: list[Group] = field(default_factory=list)
    optimization: list[Group] = field(default_factory=list)
    not_run: list[tuple[str, str, str]] = field(default_factory=list)  # id, status, reason

    @property
    def empty(self) -> bool:
        return not (self.ok or self.critical or self.optimization)

    @property
    def heading(self) -> str:
        return f"{self.key} {self.title}"


@dataclass
class Chapter:
    key: str
    title: str
    anchor: str
    subsections: list[Subsection]

    @property
    def heading(self) -> str:
        return f"{self.key}. {self.title}"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "critical": sum(len(s.critical) for s in self.subsections),
            "optimization": sum(len(s.optimization) for s in self.subsections),
            "ok": sum(len(s.ok) for s in self.subsections),
        }


@dataclass
class ActionItem:
    number: str
    anchor: str
    title: str
    count: int
    objects: str
    severity: str


@dataclass
class Accepted:
    check: str
    title: str
    severity: str
    object: str
    columns: list[str]
    reason: str
    approved_by: str
    expires: str
    expires_soon: bool


@dataclass
class ReportContext:
    title: str
    database: str
    server_version: str
    host: str
    user: str
    date: str
    generated_at: str
    pgaudit_version: str
    role: str
    privileges: list[tuple[str, bool]]
    privileges_text: str
    stats_age: str
    is_replica: bool
    schemas: list[str]
    checks_run: int
    checks_skipped: int
    checks_error: int
    thresholds: list[tuple[str, str]]
    assumptions: list[str]
    assumptions_notes: str
    counts: dict[str, int]
    well_designed_line: str
    assessment: str
    chapters: list[Chapter]
    actions: dict[str, list[ActionItem]]
    critical_risks: list[ActionItem]
    optimizations: list[ActionItem]
    well_designed: list[str]
    accepted: list[Accepted]
    expired_waivers: list[dict[str, Any]]
    stale_waivers: list[dict[str, Any]]
    not_run: list[tuple[str, str, str, str]]  # id, title, status, reason
    notes: list[tuple[str, str]]  # id, reason for checks that ran with a caveat
    skipped_objects: list[tuple[str, str]]  # check id, object
    diff: dict[str, Any] | None
    duration_s: float
    trends: list[str] = field(default_factory=list)  # inline SVG charts (escaped in charts.py)
    history_runs: list[dict[str, Any]] = field(default_factory=list)


def build(run: AuditRun, specs: Mapping[str, CheckSpec] | None = None,
          today: dt.date | None = None) -> ReportContext:
    """The report model of one run. ``specs`` adds check docs when available."""
    specs = specs or {}
    today = today or _date_of(run.generated_at) or dt.date.today()
    facts, target, scope = run.facts or {}, run.target or {}, run.scope or {}
    summary = run.summary

    live = [f for f in run.findings if f.counted]
    chapters = _chapters(live, run, specs)
    groups = [g for ch in chapters for s in ch.subsections for g in (*s.critical, *s.optimization)]
    items = [_action(g) for g in groups]
    actions: dict[str, list[ActionItem]] = {"immediate": [], "high": [], "low": []}
    for g, item in sorted(zip(groups, items, strict=True),
                          key=lambda gi: (-PRIORITY_RANK.get(gi[0].priority, 0),
                                          -Severity(gi[0].severity).rank)):
        actions[g.bucket].append(item)

    critical = [g for g in groups if g.severity == "critical"]
    optimization = [g for g in groups if g.severity != "critical"]
    ok_items = [o for ch in chapters for s in ch.subsections for o in s.ok]
    counts = {  # items are the report's numbered groups; objects are the run's findings
        "critical": len(critical),
        "critical_objects": summary.critical,
        "optimization": len(optimization),
        "optimization_objects": summary.warning + summary.info,
        "warning": sum(1 for g in optimization if g.severity == "warning"),
        "info": sum(1 for g in optimization if g.severity == "info"),
        "ok": summary.ok,
        "waived": summary.waived,
    }
    privileges = [(p, bool((facts.get("privileges") or {}).get(p))) for p in PRIVILEGES]
    held = [p for p, ok in privileges if ok]
    if "superuser" in held:
        privileges_text = "superuser"
    elif held:
        privileges_text = ", ".join(held)
    else:
        privileges_text = "no monitoring role (pg_monitor would let more checks run)"

    results = {c.id: c for c in run.checks}
    not_run = [(c.id, _spec_title(specs, c.id), c.status, c.reason or "")
               for c in run.checks if c.status != "ran"]
    notes = [(c.id, c.reason) for c in run.checks if c.status == "ran" and c.reason]
    skipped_objects = [(c.id, o) for c in run.checks for o in c.skipped_objects]
    waivers = run.waivers or {}
    generated = _datetime_text(run.generated_at)
    ctx = ReportContext(
        title=f"Production Database Review — {target.get('database', '?')}",
        database=str(target.get("database", "")),
        server_version=str(target.get("server_version", "")),
        host=_host(target),
        user=str(target.get("user") or facts.get("role") or ""),
        date=(_date_of(run.generated_at) or today).isoformat(),
        generated_at=generated,
        pgaudit_version=run.pgaudit_version,
        role=str(facts.get("role") or target.get("user") or ""),
        privileges=privileges,
        privileges_text=privileges_text,
        stats_age=_stats_age(facts),
        is_replica=bool(target.get("is_replica") or facts.get("is_replica")),
        schemas=list(scope.get("schemas") or []),
        checks_run=int(scope.get("checks_run", sum(1 for c in run.checks if c.status == "ran"))),
        checks_skipped=int(scope.get("checks_skipped",
                                     sum(1 for c in run.checks if c.status == "skipped"))),
        checks_error=int(scope.get("checks_error",
                                   sum(1 for c in run.checks if c.status == "error"))),
        thresholds=_thresholds(scope),
        assumptions=[label for key, label in ASSUMPTION_LABELS.items()
                     if (run.assumptions or {}).get(key)],
        assumptions_notes=str((run.assumptions or {}).get("notes") or ""),
        counts=counts,
        well_designed_line=_well_designed_line(ok_items),
        assessment="",
        chapters=chapters,
        actions=actions,
        critical_risks=[_action(g) for g in critical],
        optimizations=[_action(g) for g in optimization],
        well_designed=list(dict.fromkeys(o.title for o in ok_items)),
        accepted=_accepted(run.findings, specs, today),
        expired_waivers=list(waivers.get("expired") or []),
        stale_waivers=list(waivers.get("stale") or []),
        not_run=not_run,
        notes=notes,
        skipped_objects=skipped_objects,
        diff=_diff(run.diff, summary),
        duration_s=round(run.duration_ms / 1000, 1),
    )
    ctx.assessment = _assessment(ctx, critical, optimization, ok_items, results)
    history = run.history or {}
    ctx.trends = trend_charts(history)
    ctx.history_runs = list(history.get("runs") or [])[-10:]
    return ctx


# --- sections and groups -------------------------------------------------------------------

def _chapters(findings: list[Finding], run: AuditRun, specs: Mapping[str, CheckSpec]
              ) -> list[Chapter]:
    by_section: dict[str, list[Finding]] = {}
    for f in findings:
        by_section.setdefault(f.section if f.section in SECTIONS else "7.3", []).append(f)
    not_run_by_section: dict[str, list[tuple[str, str, str]]] = {}
    for c in run.checks:
        if c.status != "ran" and c.id in specs:
            not_run_by_section.setdefault(specs[c.id].section, []).append(
                (c.id, c.status, c.reason or ""))
    chapters = []
    for ckey, ctitle in CHAPTERS.items():
        subs = []
        for key, section in SECTIONS.items():
            if key.split(".")[0] != ckey:
                continue
            sub = Subsection(key, section.title, "s-" + key.replace(".", "-"),
                             not_run=not_run_by_section.get(key, []))
            _fill(sub, by_section.get(key, []), specs)
            subs.append(sub)
        chapters.append(Chapter(ckey, ctitle, f"c-{ckey}", subs))
    return chapters


def _fill(sub: Subsection, findings: list[Finding], specs: Mapping[str, CheckSpec]) -> None:
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.severity == "ok":
            sub.ok.append(OkItem(f.check, f.title, "" if f.detail == f.title else f.detail))
        else:
            grouped.setdefault((f.check, f.severity), []).append(f)
    order = sorted(grouped.items(), key=lambda kv: (-Severity(kv[0][1]).rank,
                                                   -len(kv[1]), kv[0][0]))
    n = 0
    for (check, severity), members in order:
        # A few objects: one numbered finding each, as a reviewer writes them (2.1.1 on
        # generated_images, 2.1.2 on user_businesses); many: one finding with a table.
        by_object: dict[str, list[Finding]] = {}
        for f in members:
            by_object.setdefault(f.object, []).append(f)
        parts = list(by_object.values()) if len(by_object) <= SPLIT_MAX else [members]
        for part in parts:
            n += 1
            group = _group(f"{sub.key}.{n}", check, severity, part, specs.get(check))
            (sub.critical if severity == "critical" else sub.optimization).append(group)


def _group(number: str, check: str, severity: str, members: list[Finding],
           spec: CheckSpec | None) -> Group:
    first = members[0]
    priority = max((f.priority for f in members), key=lambda p: PRIORITY_RANK.get(p, 0))
    bucket = priority if priority in ("immediate", "high", "low") else (
        "high" if severity in ("critical", "warning") else "low")
    statements = [f.remediation.strip() for f in members if f.remediation and f.remediation.strip()]
    statements = list(dict.fromkeys(statements))
    title = spec.title if spec else first.title
    if len(members) == 1:
        description = first.detail
        evidence = [(_label(k), _value(k, v)) for k, v in first.evidence.items()]
        if first.columns:
            evidence.insert(0, ("Columns", ", ".join(first.columns)))
        headers: list[str] = []
        rows: list[list[str]] = []
    else:
        description = spec.detects if spec else f"{len(members)} objects show this defect."
        evidence, headers, rows = _table(members)
    return Group(
        number=number,
        anchor="f-" + number.replace(".", "-"),
        check=check,
        section=first.section,
        title=title,
        severity=severity,
        priority=priority,
        bucket=bucket,
        findings=members,
        description=description,
        evidence=evidence,
        table_headers=headers,
        table_rows=rows[:TABLE_CAP],
        table_more=max(0, len(rows) - TABLE_CAP),
        sql="\n\n".join(statements[:SQL_CAP]),
        sql_more=max(0, len(statements) - SQL_CAP),
        fix=spec.remediation if spec else "",
        impact=first.impact or (spec.impact if spec else ""),
    )


def _table(members: list[Finding]) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    keys: list[str] = []
    for f in members:
        for k, v in f.evidence.items():
            if k not in keys and not isinstance(v, dict | list):
                keys.append(k)
    common = [k for k in keys
              if all(k in f.evidence for f in members)
              and len({json.dumps(f.evidence[k], sort_keys=True) for f in members}) == 1]
    varying = [k for k in keys if k not in common][:EVIDENCE_COLUMNS]
    has_cols = any(f.columns for f in members)
    has_index = any(f.index for f in members)
    headers = ["Object"] + (["Columns"] if has_cols else []) + (["Index"] if has_index else [])
    headers += [_label(k) for k in varying] or ["Detail"]
    rows = []
    for f in members:
        row = [f.object]
        if has_cols:
            row.append(", ".join(f.columns))
        if has_index:
            row.append(f.index or "")
        if varying:
            row += [_value(k, f.evidence.get(k)) for k in varying]
        else:
            row.append(f.detail)
        rows.append(row)
    evidence = [(_label(k), _value(k, members[0].evidence[k])) for k in common]
    return evidence, headers, rows


def _action(g: Group) -> ActionItem:
    return ActionItem(g.number, g.anchor, g.title, g.count, g.objects_preview, g.severity)


def _accepted(findings: list[Finding], specs: Mapping[str, CheckSpec], today: dt.date
              ) -> list[Accepted]:
    out = []
    for f in findings:
        if f.counted or f.waived is None:
            continue
        expires = str(f.waived.get("expires", ""))
        soon = False
        with contextlib.suppress(ValueError):
            soon = (dt.date.fromisoformat(expires) - today).days <= 30
        out.append(Accepted(f.check, _spec_title(specs, f.check) or f.title, f.severity, f.object,
                            list(f.columns), str(f.waived.get("reason", "")),
                            str(f.waived.get("approved_by", "")), expires, soon))
    return out


# --- text ----------------------------------------------------------------------------------

def _assessment(ctx: ReportContext, critical: list[Group], optimization: list[Group],
                ok_items: list[OkItem], results: Mapping[str, Any]) -> str:
    db = ctx.database or "the database"
    parts = []
    if critical:
        lead = "; ".join(f"{_lower_first(g.title)} ({g.count} object{'s' if g.count != 1 else ''})"
                         for g in critical[:3])
        more = f", and {len(critical) - 3} more" if len(critical) > 3 else ""
        parts.append(
            f"The audit of {db} found {len(critical)} critical issue"
            f"{'s' if len(critical) != 1 else ''} that should be fixed before production or "
            f"before the next release: {lead}{more}.")
    else:
        parts.append(f"The audit of {db} found no critical issue.")
    if optimization:
        parts.append(
            f"{len(optimization)} optimization opportunit{'ies' if len(optimization) != 1 else 'y'}"
            f" ({ctx.counts['optimization_objects']} object"
            f"{'s' if ctx.counts['optimization_objects'] != 1 else ''}) would improve performance,"
            " maintainability or cost; none of them blocks a release on its own.")
    checks_ok = len({o.check for o in ok_items})
    if checks_ok:
        parts.append(f"{checks_ok} check{'s' if checks_ok != 1 else ''} found nothing to fault"
                     f" — the well-designed aspects are listed in each section.")
    if ctx.checks_skipped or ctx.checks_error:
        parts.append(
            f"{ctx.checks_skipped + ctx.checks_error} check"
            f"{'s' if ctx.checks_skipped + ctx.checks_error != 1 else ''} gave no verdict"
            " (see Checks not run); their absence from the findings is not a clean bill of health.")
    if ctx.counts["waived"]:
        waived = ctx.counts["waived"]
        parts.append(f"{waived} finding{'s are' if waived != 1 else ' is'} accepted as"
                     f" {'risks' if waived != 1 else 'a risk'} under a waiver"
                     " (see Accepted Risks).")
    return " ".join(parts)


def _well_designed_line(ok_items: list[OkItem]) -> str:
    titles = list(dict.fromkeys(o.title for o in ok_items))
    if not titles:
        return "nothing to report as well-designed yet"
    shown = "; ".join(titles[:4])
    return f"{len(titles)} aspects — {shown}" + ("; …" if len(titles) > 4 else "")


def _lower_first(title: str) -> str:
    """'Tables without a primary key' → 'tables without…'; acronyms ('FK …') stay."""
    if title[:1].isupper() and title[1:2].islower():
        return title[:1].lower() + title[1:]
    return title


def _label(key: str) -> str:
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _value(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        if key.endswith("bytes") or key in {"size", "table_size", "index_size", "total_size"}:
            return _bytes(value)
        return f"{value:,}"
    if isinstance(value, float):
        if key.endswith("bytes"):
            return _bytes(int(value))
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(_value("", v) for v in value) if value else "none"
    if isinstance(value, dict):
        if not value:
            return "none"
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def _host(target: Mapping[str, Any]) -> str:
    host, port = target.get("host") or "", target.get("port") or ""
    if host.startswith("/"):
        return f"Unix socket {host}" + (f" (port {port})" if port else "")
    return f"{host}:{port}" if port else str(host)


def _stats_age(facts: Mapping[str, Any]) -> str:
    age = facts.get("stats_age_s")
    if age is None:
        return "unknown (statistics not visible)"
    age = float(age)
    if age >= 2 * 86400:
        text = f"{age / 86400:.0f} days"
    elif age >= 2 * 3600:
        text = f"{age / 3600:.0f} hours"
    else:
        text = f"{max(age, 0) / 60:.0f} minutes"
    reset = facts.get("stats_reset")
    since = f"since the reset on {str(reset)[:10]}" if reset else "since the server started"
    return f"{text} ({since})"


def _thresholds(scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    if "lock_timeout_ms" in scope:
        out.append(("Audit lock_timeout", f"{scope['lock_timeout_ms']} ms"))
    if "statement_timeout_ms" in scope:
        out.append(("Audit statement_timeout per check", f"{scope['statement_timeout_ms']} ms"))
    if "connections" in scope:
        note = scope.get("connections_note")
        out.append(("Audit read-only sessions",
                    f"{scope['connections']}" + (f" ({note})" if note else "")))
    if "allow_data" in scope:
        out.append(("Table rows read", "yes (bounded probes)" if scope["allow_data"] else
                    "no (--no-data)"))
    for key, value in (scope.get("thresholds") or {}).items():
        out.append((str(key), _value(str(key), value)))
    return out


def _spec_title(specs: Mapping[str, CheckSpec], check: str) -> str:
    spec = specs.get(check)
    return spec.title if spec else ""


def _date_of(stamp: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(stamp).date()
    except (TypeError, ValueError):
        return None


def _datetime_text(stamp: str) -> str:
    try:
        when = dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
        return when.strftime("%Y-%m-%d %H:%M UTC")
    return when.strftime("%Y-%m-%d %H:%M")


def _diff(diff: Diff | None, summary: Summary) -> dict[str, Any] | None:
    """The history store's comparison as the report lists it; counts from the summary."""
    if diff is None or diff.previous_run is None:
        return None  # the first recorded run has nothing to compare with
    prev = diff.previous_run
    prev_text = str(prev.get("generated_at") or prev.get("id") or json.dumps(prev, default=str))

    def items(values: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [{"severity": str(v.get("severity", "")),
                 "title": str(v.get("title") or v.get("check") or ""),
                 "object": str(v.get("object", ""))} for v in values]

    new = items(diff.new)
    rank = {"critical": 0, "warning": 1, "info": 2}
    new.sort(key=lambda item: rank.get(item["severity"], 3))  # new 🔴 first
    return {"previous_run": prev_text, "new_count": summary.new, "new": new[:TABLE_CAP],
            "resolved_count": summary.resolved, "resolved": items(diff.resolved)[:TABLE_CAP],
            "persisting_count": diff.persisting}
