"""What each dashboard page shows, from the store's reads: plain data for the templates.

No HTTP and no database here: the routes (``app.py``) fetch, these functions sort, count and
word, and the templates only loop and escape. ``now`` and ``today`` are parameters so a test
can pin them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pgaudit.charts import line_chart, sparkline
from pgaudit.config import Waiver

# open findings by age: (label, the age in days a finding must reach to fall in it)
AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("under a week", 0), ("1 to 4 weeks", 7), ("1 to 3 months", 30),
    ("3 to 12 months", 90), ("over a year", 365),
)
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
RUNS_LISTED = 60  # the target page's run table; the chart keeps them all
CRITICALS_LISTED = 200
WAIVER_DAYS = 30
DAILY_FOR = dt.timedelta(days=90)  # trend charts: every run this far back, then one a week


def when(value: str) -> dt.datetime:
    """A stored instant (ISO 8601; UTC when it carries no zone)."""
    at = dt.datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def stamp(value: str) -> str:
    """An instant for the page: UTC to the minute."""
    return when(value).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def age_text(days: float) -> str:
    """A duration in the largest unit that fits: "5 hours", "3 days", "5 weeks", "4 months"
    (rounded down; hours up to two days, so a run 23 hours old is not "today")."""
    hours = int(days * 24)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    whole = int(days)
    if whole < 14:
        return f"{whole} day{'s' if whole != 1 else ''}"
    if whole < 61:
        return f"{whole // 7} weeks"
    if whole < 730:
        return f"{whole // 30} months"
    return f"{whole // 365} years"


def _days(since: str, now: dt.datetime) -> float:
    return max(0.0, (now - when(since)).total_seconds() / 86400)


@dataclass(frozen=True)
class FleetRow:
    name: str
    last_run_id: int
    last_run_at: str
    last_run_age: str
    critical: int
    warning: int
    new: int
    spark: str


def fleet(targets: Sequence[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """The fleet page: every target, the worst first (criticals, then warnings, then name)."""
    rows = [
        FleetRow(
            name=t["name"], last_run_id=t["last_run_id"], last_run_at=stamp(t["last_run_at"]),
            last_run_age=age_text(_days(t["last_run_at"], now)), critical=t["critical"],
            warning=t["warning"], new=t["new"],
            spark=sparkline(
                f"{t['name']}: critical and warning findings over the last "
                f"{len(t['series'])} runs (now {t['critical']} critical, {t['warning']} warning)",
                {"critical": [s["critical"] for s in t["series"]],
                 "warning": [s["warning"] for s in t["series"]]}),
        )
        for t in targets
    ]
    rows.sort(key=lambda r: (-r.critical, -r.warning, r.name))
    return {
        "rows": rows,
        "totals": {
            "targets": len(rows),
            "with_critical": sum(1 for r in rows if r.critical),
            "critical": sum(r.critical for r in rows),
            "warning": sum(r.warning for r in rows),
            "new": sum(r.new for r in rows),
        },
    }


@dataclass(frozen=True)
class OpenFinding:
    target: str
    check: str
    severity: str
    object: str
    detail: str
    first_seen_at: str
    first_seen_run: int
    age: str
    days: float


def _open(findings: Iterable[dict[str, Any]], now: dt.datetime) -> list[OpenFinding]:
    return [
        OpenFinding(
            target=f["target"], check=f["check"], severity=f["severity"], object=f["object"],
            detail=f["detail"] or "", first_seen_at=stamp(f["first_seen_at"]),
            first_seen_run=f["first_seen_run"], age=age_text(_days(f["first_seen_at"], now)),
            days=_days(f["first_seen_at"], now),
        )
        for f in findings
    ]


def by_age(findings: Sequence[OpenFinding]) -> list[dict[str, Any]]:
    """Open findings in age buckets, the oldest bucket first; each the count per severity and
    the findings, most severe then oldest first. Empty buckets are left out."""
    out: list[dict[str, Any]] = []
    bounds = [*(lo for _, lo in AGE_BUCKETS[1:]), None]
    for (label, lo), hi in zip(AGE_BUCKETS, bounds, strict=True):
        inside = [f for f in findings if f.days >= lo and (hi is None or f.days < hi)]
        if not inside:
            continue
        inside.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), -f.days, f.check,
                                   f.object))
        counts = {s: sum(1 for f in inside if f.severity == s) for s in SEVERITY_ORDER}
        out.append({"label": label, "counts": counts, "findings": inside})
    out.reverse()
    return out


def thinned(runs: Sequence[dict[str, Any]], daily: dt.timedelta = DAILY_FOR
             ) -> list[dict[str, Any]]:
    """The runs a trend chart plots: every run of the last ``daily`` before the newest, and
    before that the last run of each ISO week (the store thins table sizes the same way). A
    year of nightly runs is about 140 points, not 365: the page stays small and quick."""
    if not runs:
        return []
    since = when(runs[-1]["generated_at"]) - daily
    week_last: dict[tuple[int, int], int] = {}
    for i, r in enumerate(runs):
        at = when(r["generated_at"])
        if at < since:
            iso = at.isocalendar()
            week_last[(iso[0], iso[1])] = i
    kept = set(week_last.values())
    return [r for i, r in enumerate(runs) if i in kept or when(r["generated_at"]) >= since]


def target(name: str, runs: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]],
           growth: dict[str, list[Any]], now: dt.datetime) -> dict[str, Any]:
    """The target page: trend charts, the runs (newest first) and open findings by age."""
    plotted = thinned(runs)
    charts = [
        line_chart("Findings per audit", {
            "critical": [(r["generated_at"], r["critical"]) for r in plotted],
            "warning": [(r["generated_at"], r["warning"]) for r in plotted],
            "info": [(r["generated_at"], r["info"]) for r in plotted],
        }, y_title="Findings"),
        line_chart("New and resolved per audit", {
            "new": [(r["generated_at"], r["new"]) for r in plotted],
            "resolved": [(r["generated_at"], r["resolved"]) for r in plotted],
        }, y_title="Findings"),
        line_chart("Size of the largest tables", {
            rel: [(t, b) for t, b in pts] for rel, pts in growth.items() if len(pts) >= 2
        }, unit="bytes", y_title="Size"),
    ]
    newest = list(reversed(runs))
    open_ = _open(findings, now)
    last = newest[0] if newest else None
    return {
        "name": name,
        "last": last,
        "charts": [c for c in charts if c],
        "plotted": len(plotted),
        "runs": [{**r, "at": stamp(r["generated_at"])} for r in newest[:RUNS_LISTED]],
        "runs_total": len(runs),
        "open_total": len(open_),
        "open_counts": {s: sum(1 for f in open_ if f.severity == s) for s in SEVERITY_ORDER},
        "buckets": by_age(open_),
    }


def oldest_criticals(findings: Sequence[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """Open criticals across the fleet, the oldest first."""
    crit = [f for f in _open(findings, now) if f.severity == "critical"]
    crit.sort(key=lambda f: (-f.days, f.target, f.check, f.object))
    return {"findings": crit[:CRITICALS_LISTED], "total": len(crit),
            "targets": len({f.target for f in crit})}


@dataclass(frozen=True)
class ExpiringWaiver:
    check: str
    object: str
    columns: str
    reason: str
    approved_by: str
    expires: str
    days_left: int


def expiring_waivers(waivers: Sequence[Waiver] | None, today: dt.date,
                     days: int = WAIVER_DAYS) -> dict[str, Any]:
    """The config's waivers that expire within ``days`` (soonest first), and the number already
    expired; ``configured`` False when no config file was given."""
    if waivers is None:
        return {"configured": False, "waivers": [], "expired": 0, "days": days, "total": 0}
    soon = sorted((w for w in waivers if 0 <= (w.expires - today).days <= days),
                  key=lambda w: (w.expires, w.check, w.object))
    return {
        "configured": True,
        "days": days,
        "total": len(waivers),
        "expired": sum(1 for w in waivers if w.expires < today),
        "waivers": [
            ExpiringWaiver(check=w.check, object=w.object,
                           columns=", ".join(w.columns) if w.columns else "",
                           reason=w.reason, approved_by=w.approved_by,
                           expires=w.expires.isoformat(), days_left=(w.expires - today).days)
            for w in soon
        ],
    }
