"""Inline SVG line charts for the HTML report: no JavaScript library, no network.

Every label is escaped here, since the result is inserted into the page as markup.
"""

from __future__ import annotations

import datetime as dt
from html import escape

WIDTH, HEIGHT, PAD = 560, 180, 36
COLOURS = ("#b42318", "#b54708", "#175cd3", "#067647", "#6941c6", "#344054")


def _when(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


def line_chart(title: str, series: dict[str, list[tuple[str, float]]], unit: str = "") -> str:
    """One chart, one polyline per series of (iso time, value) points."""
    points = [(t, v) for pts in series.values() for t, v in pts]
    if len(points) < 2:
        return ""
    xs = [_when(t) for t, _ in points]
    ys = [v for _, v in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y1 = max(ys) if max(ys) > 0 else 1
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def sx(t: str) -> float:
        return PAD + (_when(t) - x0) / (x1 - x0) * plot_w

    def sy(v: float) -> float:
        return HEIGHT - PAD - v / y1 * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 20 * len(series)}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#98a2b3"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#98a2b3"/>',
        f'<text x="{PAD}" y="{PAD - 8}" font-size="11" fill="#475467">'
        f"{escape(_fmt(y1, unit))}</text>",
        f'<text x="{PAD}" y="{HEIGHT - PAD + 14}" font-size="11" fill="#475467">'
        f"{escape(dt.datetime.fromtimestamp(x0, dt.UTC).date().isoformat())}</text>",
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 14}" font-size="11" fill="#475467" '
        f'text-anchor="end">{escape(dt.datetime.fromtimestamp(x1, dt.UTC).date().isoformat())}'
        "</text>",
    ]
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{sx(t):.1f},{sy(v):.1f}" for t, v in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{coords}"/>')
        for t, v in pts:
            parts.append(f'<circle cx="{sx(t):.1f}" cy="{sy(v):.1f}" r="2.5" fill="{colour}">'
                         f"<title>{escape(name)}: {escape(_fmt(v, unit))} at {escape(t)}"
                         "</title></circle>")
        y = HEIGHT + 14 + 20 * i - 6
        parts.append(f'<rect x="{PAD}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{PAD + 16}" y="{y}" font-size="12" fill="#101828">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float, unit: str) -> str:
    if unit == "bytes":
        n = float(value)
        for suffix in ("B", "kB", "MB", "GB", "TB"):
            if n < 1024 or suffix == "TB":
                return f"{n:.0f} {suffix}" if suffix == "B" else f"{n:.1f} {suffix}"
            n /= 1024
    return f"{value:.0f}"


def trend_charts(history: dict[str, object]) -> list[str]:
    """The report's trend charts from a run document's ``history`` block."""
    charts: list[str] = []
    runs = history.get("runs") or []
    if isinstance(runs, list) and len(runs) >= 2:
        charts.append(line_chart("Findings per audit", {
            "critical": [(r["generated_at"], r["critical"]) for r in runs],
            "warning": [(r["generated_at"], r["warning"]) for r in runs],
            "info": [(r["generated_at"], r["info"]) for r in runs],
        }))
    growth = history.get("growth") or {}
    if isinstance(growth, dict):
        series = {rel: [(t, b) for t, b in pts] for rel, pts in growth.items() if len(pts) >= 2}
        if series:
            charts.append(line_chart("Size of the largest tables", series, unit="bytes"))
    return [c for c in charts if c]
