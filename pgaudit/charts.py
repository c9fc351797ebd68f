"""Inline SVG line charts for the HTML report: no JavaScript library, no network.

Each chart has a title, a y axis with round ticks in its unit and an axis title that names the
unit, and a real time axis: every run is one point at its own instant, and the x ticks are
round instants (seconds to years, five at most) labelled once each. Two runs on one day are two
points under one day's tick, never two identical labels; the date is written under a time of
day only where it changes. Series differ by colour and by dash, so a black-and-white print
tells them apart. The drawing is 400 units wide: at the width of a 420 px phone its 12-unit
text is still about 11 px, and the stylesheet caps its width on a wide screen.

Every label is escaped here, since the result is inserted into the page as markup. The output
depends only on the data (no random ids): reports are reproducible and diffable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 400
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 38, 50  # margins around the plot: ticks, titles
PLOT_H = 150
LEGEND_ROW = 18
FONT = 12
CHAR_W = 6.6  # average advance of a 12-unit sans-serif character, for legend layout
COLOURS = ("#b42318", "#b54708", "#175cd3", "#067647", "#6941c6", "#344054")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2")
INK, MUTED, GRID = "#1d2433", "#5b6475", "#e3e7ee"
BYTE_UNITS = ("bytes", "kB", "MB", "GB", "TB")

Point = tuple[str, float]  # (ISO 8601 instant, value)


@dataclass(frozen=True)
class Axis:
    """Ticks of an axis: positions in data units and their labels."""

    lo: float
    hi: float
    ticks: list[tuple[float, str]]


def line_chart(title: str, series: dict[str, list[Point]], unit: str = "",
               y_title: str = "") -> str:
    """One chart, one line per series of (ISO instant, value) points; "" with fewer than two
    points. ``unit`` "bytes" scales the y axis to the largest value's unit (kB, MB, ...)."""
    series = {name: sorted(pts, key=lambda p: _when(p[0])) for name, pts in series.items() if pts}
    points = [(t, v) for pts in series.values() for t, v in pts]
    if len(points) < 2:
        return ""
    xaxis = time_axis([_when(t) for t, _ in points])
    yaxis, scale, y_unit = value_axis([v for _, v in points], unit)
    plot_w = WIDTH - LEFT - RIGHT
    legend = _legend_rows(list(series))
    height = TOP + PLOT_H + BOTTOM + LEGEND_ROW * len(legend) + 6
    base = TOP + PLOT_H

    def sx(t: float) -> float:
        return LEFT + (t - xaxis.lo) / (xaxis.hi - xaxis.lo) * plot_w

    def sy(v: float) -> float:
        return base - (v / scale - yaxis.lo) / (yaxis.hi - yaxis.lo) * PLOT_H

    axis_title = y_title or "Value"
    if y_unit:
        axis_title += f" ({y_unit})"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif" '
        f'font-size="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT - 44}" y="20" font-size="15" font-weight="600" fill="{INK}">'
        f"{escape(title)}</text>",
    ]
    for v, label in yaxis.ticks:
        y = base - (v - yaxis.lo) / (yaxis.hi - yaxis.lo) * PLOT_H
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                   f"{escape(label)}</text>")
    mid = TOP + PLOT_H / 2
    out.append(f'<text transform="translate(13 {mid:.0f}) rotate(-90)" text-anchor="middle" '
               f'fill="{MUTED}">{escape(axis_title)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" '
               f'stroke="{MUTED}"/>')
    for t, label in xaxis.ticks:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 5}" '
                   f'stroke="{MUTED}"/>')
        lines = label.split("\n")
        spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 13}">{escape(part)}</tspan>'
                        for i, part in enumerate(lines))
        out.append(f'<text y="{base + 18}" text-anchor="middle" fill="{MUTED}">{spans}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{base + BOTTOM - 4}" '
               f'text-anchor="middle" fill="{MUTED}">Time of the audit (UTC)</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        coords = " ".join(f"{sx(_when(stamp)):.1f},{sy(v):.1f}" for stamp, v in pts)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dashed} '
                   f'stroke-linejoin="round" points="{coords}"/>')
        for stamp, v in pts:
            out.append(f'<circle cx="{sx(_when(stamp)):.1f}" cy="{sy(v):.1f}" r="3.5" '
                       f'fill="{colour}" stroke="#fff" stroke-width="1">'
                       f"<title>{escape(name)}: {escape(_value_text(v, unit))} at "
                       f"{escape(_instant_text(_when(stamp)))}</title></circle>")
    for row, items in enumerate(legend):
        y = base + BOTTOM + 12 + LEGEND_ROW * row
        for x, i, text in items:
            colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 22}" y2="{y - 4}" '
                       f'stroke="{colour}" stroke-width="2"{dashed}/>')
            out.append(f'<circle cx="{x + 11}" cy="{y - 4}" r="3" fill="{colour}"/>')
            out.append(f'<text x="{x + 28}" y="{y}" fill="{INK}">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend_rows(names: list[str]) -> list[list[tuple[float, int, str]]]:
    """Legend entries (x, series index, text) in rows that fit the width; a name too long for
    a row is shortened with an ellipsis (the point tooltips keep it whole)."""
    room = WIDTH - RIGHT - LEFT
    most = int((room - 28) / CHAR_W)
    rows: list[list[tuple[float, int, str]]] = [[]]
    x = float(LEFT)
    for i, name in enumerate(names):
        text = name if len(name) <= most else name[: most - 1] + "…"
        width = 28 + len(text) * CHAR_W + 14
        if rows[-1] and x + width - 14 > LEFT + room:
            rows.append([])
            x = float(LEFT)
        rows[-1].append((x, i, text))
        x += width
    return rows


# --- axes -----------------------------------------------------------------------------------

def value_axis(values: Sequence[float], unit: str = "") -> tuple[Axis, float, str]:
    """Round ticks from 0 to at least the largest value; with ``unit`` "bytes", in the unit of
    the largest value. Returns the axis in display units, the divisor from data to display
    units, and the unit's name ("" for plain counts)."""
    top = max([0.0, *values])
    scale, name = 1.0, unit
    if unit == "bytes":
        power = 0
        while top / 1024 ** power >= 1024 and power < len(BYTE_UNITS) - 1:
            power += 1
        scale, name = float(1024 ** power), BYTE_UNITS[power]
    shown = top / scale
    step = _nice_step(shown / 4 if shown > 0 else 1, whole=unit != "bytes" or scale == 1)
    hi = max(step, math.ceil(shown / step - 1e-9) * step)
    count = round(hi / step)
    shown_step = f"{step:g}"
    digits = len(shown_step.split(".")[1]) if "." in shown_step else 0
    ticks = [(k * step, f"{k * step:,.{digits}f}") for k in range(count + 1)]
    return Axis(0.0, hi, ticks), scale, name


def _nice_step(raw: float, whole: bool) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at least ``raw`` (whole numbers only for counts)."""
    exp = math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * 10.0 ** exp
        if step >= raw - 1e-12 and (not whole or (step >= 1 and float(step).is_integer())):
            return step
    return 10.0 ** (exp + 1)


_S, _MIN, _H, _D = 1, 60, 3600, 86400
# (step in seconds, or months when negative): the candidates for the time axis, shortest first
_TIME_STEPS = (1, 2, 5, 10, 15, 30, _MIN, 2 * _MIN, 5 * _MIN, 10 * _MIN, 15 * _MIN, 30 * _MIN,
               _H, 2 * _H, 3 * _H, 6 * _H, 12 * _H, _D, 2 * _D, 7 * _D, 14 * _D,
               -1, -2, -3, -6, -12, -24, -60, -120)
MAX_TICKS = 5
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def time_axis(instants: Sequence[float]) -> Axis:
    """A time axis over the instants (POSIX seconds), padded a little on both sides, with at
    most MAX_TICKS round ticks, each labelled once: a time of day with the date under the first
    and wherever the day changes, a date with the year where it changes, or a month."""
    first, last = min(instants), max(instants)
    span = last - first
    pad = max(span * 0.06, 30.0)
    lo, hi = first - pad, last + pad
    for step in _TIME_STEPS:
        # at least this many ticks fit in the span: skip a step that cannot fit, rather than
        # list a year in seconds (a month is 31 days at most)
        least = (hi - lo) // (step if step > 0 else -step * 31 * _D)
        if least > MAX_TICKS and step != _TIME_STEPS[-1]:
            continue
        ticks = _ticks(lo, hi, step)
        if len(ticks) <= MAX_TICKS:
            break
    return Axis(lo, hi, _labels(ticks, step))


def _ticks(lo: float, hi: float, step: int) -> list[dt.datetime]:
    start = dt.datetime.fromtimestamp(lo, dt.UTC)
    out: list[dt.datetime] = []
    if step > 0:
        if step == 7 * _D or step == 14 * _D:  # weeks start on Monday
            day = start.replace(hour=0, minute=0, second=0, microsecond=0)
            t = day - dt.timedelta(days=day.weekday())
            while t.timestamp() < lo:
                t += dt.timedelta(seconds=step)
        else:
            t = dt.datetime.fromtimestamp(math.ceil(lo / step) * step, dt.UTC)
        while t.timestamp() <= hi:
            out.append(t)
            t += dt.timedelta(seconds=step)
        return out
    months = -step
    index = start.year * 12 + start.month - 1
    index = -(-index // months) * months  # the first month boundary on the step
    while True:
        t = dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)
        if t.timestamp() > hi:
            return out
        if t.timestamp() >= lo:
            out.append(t)
        index += months


def _labels(ticks: list[dt.datetime], step: int) -> list[tuple[float, str]]:
    """Each tick labelled once, no two alike: the year is added where it changes (or on every
    tick when the step is a quarter or more), the date under a time of day on the first tick
    when all ticks fall on one day, else under every tick."""
    out: list[tuple[float, str]] = []
    one_day = len({t.date() for t in ticks}) <= 1
    previous: dt.datetime | None = None
    for t in ticks:
        new_year = previous is None or previous.year != t.year
        if step <= -12:
            label = f"{t.year}"
        elif step <= -3:
            label = f"{MONTHS[t.month - 1]} {t.year}"
        elif step < 0:
            label = MONTHS[t.month - 1] + (f"\n{t.year}" if new_year else "")
        elif step >= _D:
            label = f"{MONTHS[t.month - 1]} {t.day}" + (f"\n{t.year}" if new_year else "")
        else:
            clock = t.strftime("%H:%M:%S" if step < _MIN else "%H:%M")
            dated = previous is None or not one_day
            label = clock + (f"\n{MONTHS[t.month - 1]} {t.day}" if dated else "")
        out.append((t.timestamp(), label))
        previous = t
    return out


# --- text -----------------------------------------------------------------------------------

def _when(stamp: str) -> float:
    when = dt.datetime.fromisoformat(stamp)
    if when.tzinfo is None:  # the store writes UTC
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _instant_text(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _value_text(value: float, unit: str) -> str:
    if unit == "bytes":
        n = float(value)
        for suffix in BYTE_UNITS:
            if abs(n) < 1024 or suffix == BYTE_UNITS[-1]:
                return f"{n:,.0f} {suffix}" if suffix == "bytes" else f"{n:,.1f} {suffix}"
            n /= 1024
    return f"{value:,.0f}"


def trend_charts(history: dict[str, object]) -> list[str]:
    """The report's trend charts from a run document's ``history`` block: findings per audit,
    and the size of the largest tables, one point per stored run."""
    charts: list[str] = []
    runs = history.get("runs") or []
    if isinstance(runs, list) and len(runs) >= 2:
        charts.append(line_chart("Findings per audit", {
            "critical": [(r["generated_at"], r["critical"]) for r in runs],
            "warning": [(r["generated_at"], r["warning"]) for r in runs],
            "info": [(r["generated_at"], r["info"]) for r in runs],
        }, y_title="Findings"))
    growth = history.get("growth") or {}
    if isinstance(growth, dict):
        series = {rel: [(t, b) for t, b in pts] for rel, pts in growth.items() if len(pts) >= 2}
        if series:
            charts.append(line_chart("Size of the largest tables", series, unit="bytes",
                                     y_title="Size"))
    return [c for c in charts if c]


def sparkline(title: str, series: dict[str, list[float]], width: int = 120,
              height: int = 28) -> str:
    """A small line chart for a table cell (the dashboard's fleet page): one line per series,
    on one shared scale from 0, no axes; the title (the values in words) is its accessible
    name and tooltip. "" with fewer than two points."""
    values = [v for vs in series.values() for v in vs]
    longest = max((len(vs) for vs in series.values()), default=0)
    if longest < 2:
        return ""
    top = max([1.0, *values])
    pad = 3

    def sx(i: int) -> float:
        return pad + i / (longest - 1) * (width - 2 * pad)

    def sy(v: float) -> float:
        return height - pad - v / top * (height - 2 * pad)

    out = [f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
           f'stroke="{GRID}"/>']
    for i, vs in enumerate(series.values()):
        if not vs:
            continue
        offset = longest - len(vs)  # a shorter series ends at the right edge, like the others
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{sx(offset + j):.1f},{sy(v):.1f}" for j, v in enumerate(vs))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dashed} '
                   f'stroke-linejoin="round" points="{coords}"/>')
        out.append(f'<circle cx="{sx(longest - 1):.1f}" cy="{sy(vs[-1]):.1f}" r="2" '
                   f'fill="{colour}"/>')
    out.append("</svg>")
    return "".join(out)
