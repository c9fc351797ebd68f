"""The report model: an AuditRun turned into what the templates print.

Everything that needs a decision (grouping, numbering, ordering, priorities, the assessment
paragraph, which 🟢 lines are true, which facts a person reads) happens here, so the templates
only loop and escape. Finding counts are the run's ``summary`` (``pgaudit.model.summarise``),
the same numbers every other output prints; the report adds only its own grouping (numbered
items). ``pgaudit render run.json`` builds the run from its JSON document first, so it needs
no database.

🟢 lines: a check-wide line (the check found nothing) shows only when no finding of that check
says otherwise; an observation about some objects (a partial positive) shows its own sentence;
a check that had nothing to judge (``not_applicable``) says so in one line and is not counted
as well-designed. The well-designed count is the number of 🟢 lines listed.

Priority buckets of "Priority Action Items": ``immediate`` → 🔴 IMMEDIATE, ``high`` → 🟡 HIGH,
``low`` → 🟢 LOW; ``medium`` goes to HIGH when the finding is critical or warning (a defect that
will bite at scale) and to LOW when it is info (an optimisation). The action items name each
check once, with every numbered finding it gave.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pgaudit import evidence
from pgaudit.charts import trend_charts
from pgaudit.checkfile import CheckSpec
from pgaudit.model import (
    CHAPTERS,
    SECTIONS,
    AuditRun,
    Diff,
    Finding,
    SchemaChange,
    Severity,
    Summary,
)
from pgaudit.wording import plural

SQL_CAP = 30  # remediation statements shown per finding group
SPLIT_MAX = 5  # up to this many objects with a critical or warning get a numbered finding each
INLINE_ROWS = 10  # a finding lists up to this many objects; a longer list goes to the appendix
INLINE_PREVIEW = 5  # ...and the finding shows its first few
APPENDIX_CAP = 1000  # object rows per list in the appendix; the JSON run file has them all
EVIDENCE_COLUMNS = 5
PREVIEW = 3  # objects named in an action item
DIFF_CAP = 50  # new and resolved findings listed in "Changes since the last audit"

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
# What a finding's object is, by its object_type, and what it counts when it has columns
NOUNS = {"column": "table", "index": "table", "": "object"}
@dataclass
class ObjectList:
    """A finding group's full table of objects, in "Appendix: object lists"."""

    number: str
    anchor: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    more: int  # rows beyond APPENDIX_CAP: in the JSON run file only


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
    table_rows: list[list[str]]  # the rows shown inline (INLINE_ROWS at most)
    table_more: int  # rows not shown inline
    sql: str
    sql_more: int
    fix: str
    impact: str
    also: list[str] = field(default_factory=list)  # other checks on the same columns
    fix_ref: str = ""  # the number of an earlier finding of this check with the same fix
    object_list: ObjectList | None = None

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
        return count_phrase(self.findings)

    @property
    def objects_preview(self) -> str:
        return preview(self.findings)

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
    check_wide: bool = True


@dataclass
class Subsection:
    key: str
    title: str
    anchor: str
    ok: list[OkItem] = field(default_factory=list)
    critical: list[Group] = field(default_factory=list)
    optimization: list[Group] = field(default_factory=list)
    not_run: list[tuple[str, str, str]] = field(default_factory=list)  # id, status, reason
    not_applicable: list[tuple[str, str]] = field(default_factory=list)  # title, reason

    @property
    def empty(self) -> bool:
        return not (self.ok or self.critical or self.optimization or self.not_applicable)

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
    """One check in "Priority Action Items" or the closing summary: every numbered finding
    it gave in that bucket."""

    numbers: list[str]
    anchor: str
    title: str
    count: int
    objects: str
    severity: str
    count_text: str = ""

    @property
    def number(self) -> str:
        return ", ".join(self.numbers)


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
class Inventory:
    """The appendix "Inventory": what the database holds, from one catalog query."""

    totals: list[tuple[str, str]]
    schemas: list[list[str]]
    tables: list[list[str]]
    tables_shown: int
    tables_total: int
    never_analyzed: list[str]
    never_analyzed_count: int
    skipped: list[str]
    note: str


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
    optimizations_by_chapter: list[tuple[str, list[ActionItem]]]
    well_designed: list[str]
    well_designed_by_chapter: list[tuple[str, list[str]]]
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
    object_lists: list[ObjectList] = field(default_factory=list)
    inventory: Inventory | None = None
    not_applicable: int = 0
    inline_rows: int = INLINE_ROWS
    # the reviewer's sign-off recorded in the history store (pgaudit signoff): by, role,
    # comment, at, sha256; None leaves the sign-off table to fill in by hand
    signoff: dict[str, Any] | None = None


def build(run: AuditRun, specs: Mapping[str, CheckSpec] | None = None,
          today: dt.date | None = None) -> ReportContext:
    """The report model of one run. ``specs`` adds check docs when available."""
    specs = specs or {}
    today = today or _date_of(run.generated_at) or dt.date.today()
    facts, target, scope = run.facts or {}, run.target or {}, run.scope or {}
    summary = run.summary

    chapters = _chapters(run, specs)
    groups = [g for ch in chapters for s in ch.subsections for g in (*s.critical, *s.optimization)]
    ordered = sorted(groups, key=lambda g: (-PRIORITY_RANK.get(g.priority, 0),
                                            -Severity(g.severity).rank))
    actions = {key: _actions([g for g in ordered if g.bucket == key])
               for key in ("immediate", "high", "low")}

    critical = [g for g in groups if g.severity == "critical"]
    optimization = [g for g in groups if g.severity != "critical"]
    ok_items = [o for ch in chapters for s in ch.subsections for o in s.ok]
    # items are the report's numbered groups; every other count is the run's summary (the
    # terminal's, the JSON's, SARIF's and Prometheus's), and well_designed is the 🟢 lines listed
    counts = {
        "critical": len(critical),
        "critical_objects": summary.critical,
        # the IMMEDIATE action items: one per check, where the items are one per subsection
        "critical_kinds": len(_actions(critical)),
        "optimization": len(optimization),
        "optimization_objects": summary.warning + summary.info,
        "warning": summary.warning,
        "info": summary.info,
        "ok": summary.ok,
        "well_designed": len(ok_items),
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

    not_run = [(c.id, _spec_title(specs, c.id), c.status, c.reason or "")
               for c in run.checks
               if c.status not in ("ran", "not_applicable")
               or (c.status == "not_applicable" and c.id not in specs)]
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
        critical_risks=_actions(critical),
        optimizations=_actions(optimization),
        optimizations_by_chapter=[
            (ch.heading, _actions([g for s in ch.subsections for g in s.optimization]))
            for ch in chapters if ch.counts["optimization"]],
        well_designed=[o.title for o in ok_items],
        well_designed_by_chapter=[(ch.heading, [o.title for s in ch.subsections for o in s.ok])
                                  for ch in chapters if ch.counts["ok"]],
        accepted=_accepted(run.findings, specs, today),
        expired_waivers=list(waivers.get("expired") or []),
        stale_waivers=list(waivers.get("stale") or []),
        not_run=not_run,
        notes=notes,
        skipped_objects=skipped_objects,
        diff=_diff(run.diff, summary, run.changes),
        duration_s=round(run.duration_ms / 1000, 1),
        object_lists=[g.object_list for g in groups if g.object_list is not None],
        inventory=_inventory(run.inventory),
        not_applicable=sum(len(s.not_applicable) for ch in chapters for s in ch.subsections),
    )
    ctx.assessment = _assessment(ctx, critical, optimization, ok_items)
    history = run.history or {}
    ctx.trends = trend_charts(history)
    ctx.history_runs = list(history.get("runs") or [])[-10:]
    signed = run.extra.get("signoff")
    ctx.signoff = dict(signed) if isinstance(signed, dict) else None
    return ctx


# --- sections and groups -------------------------------------------------------------------

def _chapters(run: AuditRun, specs: Mapping[str, CheckSpec]) -> list[Chapter]:
    by_section: dict[str, list[Finding]] = {}
    for f in run.findings:
        if f.counted:
            by_section.setdefault(f.section if f.section in SECTIONS else "7.3", []).append(f)
    not_run_by_section: dict[str, list[tuple[str, str, str]]] = {}
    not_applicable: dict[str, list[tuple[str, str]]] = {}
    inapplicable = set()
    for c in run.checks:
        if c.status == "not_applicable":
            inapplicable.add(c.id)
            if c.id in specs:
                not_applicable.setdefault(specs[c.id].section, []).append(
                    (specs[c.id].title, _reason_text(c.reason)))
        elif c.status != "ran" and c.id in specs:
            not_run_by_section.setdefault(specs[c.id].section, []).append(
                (c.id, c.status, c.reason or ""))
    # any finding of a check other than ok (waived ones too) makes its check-wide 🟢 untrue
    faulted = {f.check for f in run.findings if f.severity != Severity.OK}
    chapters = []
    fixes: dict[str, str] = {}  # check -> the number of its first finding with its fix prose
    for ckey, ctitle in CHAPTERS.items():
        subs = []
        for key, section in SECTIONS.items():
            if key.split(".")[0] != ckey:
                continue
            sub = Subsection(key, section.title, "s-" + key.replace(".", "-"),
                             not_run=not_run_by_section.get(key, []),
                             not_applicable=not_applicable.get(key, []))
            _fill(sub, by_section.get(key, []), specs, faulted, inapplicable, fixes)
            subs.append(sub)
        chapters.append(Chapter(ckey, ctitle, f"c-{ckey}", subs))
    return chapters


def _reason_text(reason: str | None) -> str:
    text = (reason or "").strip()
    for prefix in ("not applicable:", "not_applicable:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):].strip()
    return text


def ok_item(f: Finding) -> OkItem:
    """A 🟢 line: the check's ``ok`` title when it passed on everything it judged
    (``check_wide``), else the observation's own sentence (a partial positive)."""
    return OkItem(f.check, f.title, "" if f.detail in ("", f.title) else f.detail, f.check_wide)


def _fill(sub: Subsection, findings: list[Finding], specs: Mapping[str, CheckSpec],
          faulted: set[str], inapplicable: set[str], fixes: dict[str, str]) -> None:
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.severity == "ok":
            if f.check in inapplicable:
                continue  # nothing was judged: not a well-designed aspect
            item = ok_item(f)
            if item.check_wide and f.check in faulted:
                continue  # a finding of the same check says otherwise
            sub.ok.append(item)
        else:
            grouped.setdefault((f.check, f.severity), []).append(f)
    order = sorted(grouped.items(), key=lambda kv: (-Severity(kv[0][1]).rank,
                                                   -len(kv[1]), kv[0][0]))
    n = 0
    for (check, severity), members in order:
        # A few objects with a defect: one numbered finding each, as a reviewer writes them
        # (2.1.1 on generated_images, 2.1.2 on user_businesses); many, or informational
        # findings on several objects: one finding with a table.
        by_object: dict[str, list[Finding]] = {}
        for f in members:
            by_object.setdefault(f.object, []).append(f)
        split = len(by_object) <= SPLIT_MAX and severity != Severity.INFO
        parts = list(by_object.values()) if split else [members]
        for part in parts:
            n += 1
            group = _group(f"{sub.key}.{n}", check, severity, part, specs.get(check))
            if group.fix and check in fixes:
                group.fix_ref = fixes[check]
            elif group.fix:
                fixes[check] = group.number
            (sub.critical if severity == "critical" else sub.optimization).append(group)


def _group(number: str, check: str, severity: str, members: list[Finding],
           spec: CheckSpec | None) -> Group:
    first = members[0]
    priority = max((f.priority for f in members), key=lambda p: PRIORITY_RANK.get(p, 0))
    bucket = priority if priority in ("immediate", "high", "low") else (
        "high" if severity in ("critical", "warning") else "low")
    statements = [f.remediation.strip() for f in members if f.remediation and f.remediation.strip()]
    statements = list(dict.fromkeys(statements))
    shown = statements[:SQL_CAP]
    # one statement per object; blank lines between them only when they run long
    joiner = "\n\n" if any(s.count("\n") > 2 for s in shown) else "\n"
    title = spec.title if spec else first.title
    params = spec.params if spec else {}
    labels = spec.labels if spec else {}
    anchor = "f-" + number.replace(".", "-")
    object_list = None
    if len(members) == 1:
        description = first.detail
        facts = evidence.items(first.evidence, params=params, labels=labels,
                               sentence=first.detail, repeats=_repeats(first))
        headers: list[str] = []
        rows: list[list[str]] = []
    else:
        description = group_sentence(members)
        facts, headers, rows = _table(members, params, labels)
        if len(rows) > INLINE_ROWS:
            object_list = ObjectList(number, "a-" + number.replace(".", "-"), title, headers,
                                     rows[:APPENDIX_CAP], max(0, len(rows) - APPENDIX_CAP))
    return Group(
        number=number,
        anchor=anchor,
        check=check,
        section=first.section,
        title=title,
        severity=severity,
        priority=priority,
        bucket=bucket,
        findings=members,
        description=description,
        evidence=facts,
        table_headers=headers,
        table_rows=rows if object_list is None else rows[:INLINE_PREVIEW],
        table_more=0 if object_list is None else len(rows) - INLINE_PREVIEW,
        sql=joiner.join(shown),
        sql_more=max(0, len(statements) - SQL_CAP),
        fix=spec.remediation if spec else "",
        impact=first.impact or (spec.impact if spec else ""),
        also=_also(members),
        object_list=object_list,
    )


def _repeats(f: Finding) -> tuple[str, ...]:
    """What a finding already says in its heading: its object, index and columns."""
    return tuple(v for v in (f.object, f.index or "", ", ".join(f.columns)) if v)


def _also(members: list[Finding]) -> list[str]:
    """Other checks that fired on the same columns, merged into this entry: "title
    (severity)", with how many of the group's objects when not all."""
    seen: dict[tuple[str, str], int] = {}
    for f in members:
        for other in f.also:
            if not isinstance(other, Mapping):
                continue
            title = str(other.get("title") or other.get("check") or "").strip()
            if title:
                key = (title, str(other.get("severity") or ""))
                seen[key] = seen.get(key, 0) + 1
    out = []
    for (title, severity), n in seen.items():
        text = f"{title} ({severity})" if severity else title
        if len(members) > 1 and n < len(members):
            text += f" on {n} of {len(members)}"
        out.append(text)
    return out


def _table(members: list[Finding], params: Mapping[str, Any], labels: Mapping[str, str]
           ) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """A group's facts: those with one value for every member (shown once) and the rest as
    table columns, one row per finding."""
    shown = [{k: evidence.text(k, v, params, labels) for k, v in f.evidence.items()}
             for f in members]
    keys: list[str] = []
    for f, texts in zip(members, shown, strict=True):
        for k, value in texts.items():
            if value is None or k in keys:
                continue
            if value in _repeats(f):
                continue
            keys.append(k)
    # a fact that only repeats each member's object or columns is left out
    keys = [k for k in keys
            if not all(t.get(k) is None or t.get(k) in _repeats(f)
                       for f, t in zip(members, shown, strict=True))]
    common = [k for k in keys if len({t.get(k) for t in shown}) == 1]
    varying = [k for k in keys if k not in common][:EVIDENCE_COLUMNS]
    has_cols = any(f.columns for f in members)
    has_index = any(f.index for f in members)
    headers = ["Object"] + (["Columns"] if has_cols else []) + (["Index"] if has_index else [])
    headers += [evidence.label(k, labels) for k in varying] or ["Detail"]
    rows = []
    for f, texts in zip(members, shown, strict=True):
        row = [f.object]
        if has_cols:
            row.append(", ".join(f.columns))
        if has_index:
            row.append(f.index or "")
        if varying:
            row += [texts.get(k) or "—" for k in varying]
        else:
            row.append(f.detail)
        rows.append(row)
    facts = [(evidence.label(k, labels), str(shown[0][k])) for k in common]
    return facts, headers, rows


def object_noun(f: Finding) -> str:
    kind = (f.object_type or "").strip()
    return NOUNS.get(kind, kind or "object")


def item_noun(findings: list[Finding]) -> str:
    """What each finding of a group is about: an index, a column, or its object."""
    if all(f.index for f in findings):
        return "index"
    if all(f.columns for f in findings) and object_noun(findings[0]) == "table":
        return "column"
    return object_noun(findings[0])


def count_phrase(findings: list[Finding]) -> str:
    """How much a group covers: "3 tables", "4 columns on 2 tables", "2 indexes of public.t"."""
    objects = list(dict.fromkeys(f.object for f in findings))
    obj, item = object_noun(findings[0]), item_noun(findings)
    if item == obj:
        return plural(len(findings), obj)
    if len(objects) == 1:
        return f"{plural(len(findings), item)} of {objects[0]}"
    return f"{plural(len(findings), item)} on {plural(len(objects), obj)}"


def preview(findings: list[Finding], limit: int = PREVIEW) -> str:
    unique = list(dict.fromkeys(f.object for f in findings))
    text = ", ".join(unique[:limit])
    return text + (f" and {len(unique) - limit:,} more" if len(unique) > limit else "")


def schema_of(name: str) -> str | None:
    """The schema of a qualified name as SQL writes it (``app."a.b"`` → ``app``)."""
    if name.startswith('"'):
        i = 1
        while i < len(name):
            if name[i] == '"':
                if name[i + 1:i + 2] == '"':
                    i += 2
                    continue
                break
            i += 1
        head, rest = name[:i + 1], name[i + 1:]
        return head if rest.startswith(".") else None
    head, dot, _ = name.partition(".")
    return head if dot and head else None


SIZE_FACTS = ("total_bytes", "heap_bytes", "table_bytes", "bytes")
ROW_FACTS = ("estimated_rows", "rows", "live_rows", "reltuples")


def group_sentence(findings: list[Finding]) -> str:
    """A group's opening sentence about this database: how many objects in how many schemas,
    and the largest of them when the facts say."""
    phrase = count_phrase(findings)
    objects = list(dict.fromkeys(f.object for f in findings))
    schemas = list(dict.fromkeys(s for s in map(schema_of, objects) if s))
    where = ""
    if schemas and len(objects) > 1:
        named = ", ".join(schemas[:3]) + (f" and {len(schemas) - 3} more" if len(schemas) > 3
                                          else "")
        where = f" in {plural(len(schemas), 'schema')} ({named})"
    sentence = f"Found on {phrase}{where}"
    largest = _largest(findings) if len(objects) > 1 else None
    if largest:
        sentence += f"; the largest, {largest}"
    return sentence + "."


def _largest(findings: list[Finding]) -> str | None:
    def measure(f: Finding, names: tuple[str, ...]) -> float | None:
        for name in names:
            value = f.evidence.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return float(value)
        return None

    for names, word in ((SIZE_FACTS, "size"), (ROW_FACTS, "rows")):
        sized = [(measure(f, names), f) for f in findings]
        ranked = [(v, f) for v, f in sized if v is not None]
        if not ranked:
            continue
        value, f = max(ranked, key=lambda vf: vf[0])
        if value <= 0:
            return None
        rows = measure(f, ROW_FACTS)
        if word == "size":
            text = f"{f.object}, is {evidence.size(value)}"
            return text + (f" with ~{evidence.approx(rows)} rows" if rows is not None else "")
        return f"{f.object}, has ~{evidence.approx(value)} rows"
    return None


def _actions(groups: list[Group]) -> list[ActionItem]:
    """One item per check, in the order of its first group, with all its groups' findings."""
    by_check: dict[str, list[Group]] = {}
    for g in groups:
        by_check.setdefault(g.check, []).append(g)
    items = []
    for check_groups in by_check.values():
        first = check_groups[0]
        findings = [f for g in check_groups for f in g.findings]
        severity = max((g.severity for g in check_groups), key=lambda s: Severity(s).rank)
        counted = count_phrase(findings)
        named = len({f.object for f in findings}) == 1 and findings[0].object in counted
        items.append(ActionItem([g.number for g in check_groups], first.anchor, first.title,
                                len(findings), "" if named else preview(findings), severity,
                                counted))
    return items


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


# --- inventory -----------------------------------------------------------------------------

def _inventory(doc: Mapping[str, Any] | None) -> Inventory | None:
    """The run's inventory (``pgaudit.inventory``) as the appendix prints it; None for runs
    written without one."""
    if not isinstance(doc, Mapping):
        return None

    def n(value: Any) -> str:
        return f"{int(value):,}" if isinstance(value, int | float) else "—"

    def rows(value: Any) -> str:
        return "never analyzed" if value is None else n(value)

    def sz(value: Any) -> str:
        return evidence.size(value) if isinstance(value, int | float) else "—"

    totals = doc.get("totals") or {}
    schemas = [[str(s.get("schema", "")), n(s.get("tables")), rows(s.get("rows")),
                sz(s.get("bytes"))] for s in doc.get("schemas") or []]
    def table(t: Mapping[str, Any]) -> list[str]:
        name = str(t.get("table", ""))
        parts = t.get("partitions") or 0
        if parts:
            name += f" ({parts:,} partition{'s' if parts != 1 else ''})"
        about = "" if t.get("exact", True) else "~"  # estimated from the planner's page counts
        return [name, rows(t.get("rows")), about + sz(t.get("total_bytes")),
                about + sz(t.get("table_bytes")), n(t.get("indexes")),
                about + sz(t.get("index_bytes"))]

    tables = [table(t) for t in doc.get("tables") or []]
    never = [str(x) for x in doc.get("never_analyzed") or []]
    return Inventory(
        totals=[
            ("Schemas", n(totals.get("schemas"))),
            ("Tables", n(totals.get("tables")) + (f" (and {n(totals['partitions'])} partitions)"
                                                  if totals.get("partitions") else "")),
            ("Indexes", n(totals.get("indexes"))),
            ("Estimated rows", n(totals.get("rows"))),
            ("Size (tables, TOAST and indexes)", sz(totals.get("bytes"))),
        ],
        schemas=schemas,
        tables=tables,
        tables_shown=len(tables),
        tables_total=int(totals.get("tables") or len(tables)),
        never_analyzed=never,
        never_analyzed_count=int(doc.get("never_analyzed_count") or len(never)),
        skipped=[str(x) for x in doc.get("skipped") or []],
        note=str(doc.get("note") or ""),
    )


# --- text ----------------------------------------------------------------------------------

def _assessment(ctx: ReportContext, critical: list[Group], optimization: list[Group],
                ok_items: list[OkItem]) -> str:
    db = ctx.database or "the database"
    parts = []
    if critical:
        risks = _actions(critical)  # one per check: no category named twice
        lead = "; ".join(f"{_lower_first(a.title)} ({a.count_text})" for a in risks[:3])
        more = f", and {len(risks) - 3} more" if len(risks) > 3 else ""
        # issues are counted by subsection, the action items by check: say both when they differ,
        # or "and 2 more" after three named kinds reads as a miscount of the issues
        kinds = (f" of {len(risks)} kind{'s' if len(risks) != 1 else ''}"
                 if len(risks) != len(critical) else "")
        parts.append(
            f"The audit of {db} found {len(critical)} critical issue"
            f"{'s' if len(critical) != 1 else ''}{kinds} that should be fixed before production or "
            f"before the next release: {lead}{more}.")
    else:
        parts.append(f"The audit of {db} found no critical issue.")
    if optimization:
        parts.append(
            f"{len(optimization)} optimization opportunit{'ies' if len(optimization) != 1 else 'y'}"
            f" ({plural(ctx.counts['optimization_objects'], 'finding')}) would improve"
            " performance, maintainability or cost; none of them blocks a release on its own.")
    if ok_items:
        n = len(ok_items)
        parts.append(f"{n} well-designed aspect{'s are' if n != 1 else ' is'} listed in"
                     " their sections.")
    if ctx.checks_skipped or ctx.checks_error:
        parts.append(
            f"{ctx.checks_skipped + ctx.checks_error} check"
            f"{'s' if ctx.checks_skipped + ctx.checks_error != 1 else ''} gave no verdict"
            " (see Checks Not Run); their absence from the findings is not a clean bill of"
            " health.")
    if ctx.counts["waived"]:
        waived = ctx.counts["waived"]
        parts.append(f"{waived} finding{'s are' if waived != 1 else ' is'} accepted as"
                     f" {'risks' if waived != 1 else 'a risk'} under a waiver"
                     " (see Accepted Risks).")
    return " ".join(parts)


def _well_designed_line(ok_items: list[OkItem]) -> str:
    if not ok_items:
        return "nothing to report as well-designed yet"
    titles = [o.title for o in ok_items if o.check_wide] or [o.title for o in ok_items]
    shown = "; ".join(titles[:3])
    n = len(ok_items)
    return f"{n} aspect{'s' if n != 1 else ''} — {shown}" + ("; …" if n > 3 else "")


def _lower_first(title: str) -> str:
    """'Tables without a primary key' → 'tables without…'; acronyms ('FK …') stay."""
    if title[:1].isupper() and title[1:2].islower():
        return title[:1].lower() + title[1:]
    return title


def _value(key: str, value: Any) -> str:
    """A configuration value (thresholds): its unit from its name, never a blob."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return evidence.text(key, value) or str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) if value else "none"
    return "—" if value is None else str(value)


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
        # read by a manager signing the report: no engine word ("probes")
        out.append(("Table rows read", "yes, bounded samples" if scope["allow_data"] else
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


CHANGE_ORDER = {"dropped": 0, "altered": 1, "added": 2}


def _diff(diff: Diff | None, summary: Summary, changes: list[SchemaChange] | None = None
          ) -> dict[str, Any] | None:
    """The history store's comparison as the report lists it; counts from the summary. The
    schema's change log (``changes``) is listed apart: events of this run, not findings."""
    if diff is None or diff.previous_run is None:
        return None  # the first recorded run has nothing to compare with
    prev = diff.previous_run
    prev_text = (_datetime_text(str(prev["generated_at"])) if prev.get("generated_at")
                 else str(prev.get("id") or json.dumps(prev, default=str)))

    def items(values: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [{"severity": str(v.get("severity", "")),
                 "title": str(v.get("title") or v.get("check") or ""),
                 "object": str(v.get("object", ""))} for v in values]

    new = items(diff.new)
    rank = {"critical": 0, "warning": 1, "info": 2}
    new.sort(key=lambda item: rank.get(item["severity"], 3))  # new 🔴 first
    logged = sorted(changes or [], key=lambda c: (CHANGE_ORDER.get(c.change, 3), c.object))
    by_kind = {k: sum(1 for c in logged if c.change == k) for k in CHANGE_ORDER}
    return {"previous_run": prev_text, "new_count": summary.new, "new": new[:DIFF_CAP],
            "resolved_count": summary.resolved,
            "resolved": items(diff.resolved)[:DIFF_CAP],
            "persisting_count": diff.persisting,
            # None: no change log this run (schema_drift did not run); []: schema unchanged
            "schema": None if changes is None else {
                "count": len(logged),
                "counts": ", ".join(f"{n} {k}" for k, n in by_kind.items() if n),
                "events": [{"change": c.change, "kind": c.object_type or
                           c.identity.split(" ", 1)[0], "object": c.object or c.identity}
                          for c in logged[:DIFF_CAP]],
                "more": max(0, len(logged) - DIFF_CAP)}}
