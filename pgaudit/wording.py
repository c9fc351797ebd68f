"""The sentences findings are made of: a header's ``message`` over a row's facts, and the one
wording for a statistics window too short to judge rates.

Facts fill ``{placeholders}``; an unknown value reads "unknown", a list reads as a comma list,
and a format spec (``{dead_pct:.1f}``) applies to numbers only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

_FORMATTER = string.Formatter()


def placeholders(template: str) -> set[str]:
    """The fact names a message needs."""
    return {
        field.split(".", 1)[0].split("[", 1)[0]
        for _, field, _, _ in _FORMATTER.parse(template)
        if field
    }


def _text(value: Any, spec: str) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v, "") for v in value)
    if spec and isinstance(value, int | float):
        return format(value, spec)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fill(template: str, facts: Mapping[str, Any]) -> str:
    """The template with each placeholder replaced by its fact; a missing fact stays visible."""
    out: list[str] = []
    for literal, field, spec, _ in _FORMATTER.parse(template):
        out.append(literal)
        if field is None:
            continue
        if field in facts:
            out.append(_text(facts[field], spec or ""))
        else:
            out.append("{" + field + "}")
    return "".join(out)


def duration(seconds: float | None) -> str:
    """A span as people say it: 45 s, 12 min, 3.5 h, 2.0 days."""
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def window_too_short(stats_age_s: float | None, needed_s: float) -> str:
    """Why a rate cannot be judged yet: one sentence for every check."""
    if stats_age_s is None:
        return (
            f"the statistics have no reset time to measure rates from; rates need a window of "
            f"{duration(needed_s)}"
        )
    return (
        f"the statistics window is {duration(stats_age_s)}; rates need at least "
        f"{duration(needed_s)}"
    )
