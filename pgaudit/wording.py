"""The sentences findings are made of: a header's ``message`` over a row's facts, and the one
wording for a statistics window too short to judge rates.

Facts fill ``{placeholders}``; an unknown value reads "unknown", a list reads as a comma list,
and a format spec (``{dead_pct:.1f}``) applies to numbers only. The spec ``plural:`` writes a
count with its noun in the right number, never "type(s)": ``{enum_types:plural:enum type}``
reads "1 enum type" or "8 enum types"; an irregular plural is given after a bar
(``{n:plural:function or other object|functions or other objects}``). The spec ``size`` writes
bytes as pg_size_pretty does, in the largest unit ("8.2 MB", never "8383 kB"), and
``window:<fact>`` says why a statistics window of ``value`` seconds is too short for the
``<fact>`` seconds it needs (", not judged: the statistics cover ..."), and nothing when it is
long enough.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from typing import Any

_FORMATTER = string.Formatter()
_PLURAL = "plural:"
_WINDOW = "window:"


def placeholders(template: str) -> set[str]:
    """The fact names a message needs."""
    return {
        field.split(".", 1)[0].split("[", 1)[0]
        for _, field, _, _ in _FORMATTER.parse(template)
        if field
    }


def plural(count: Any, noun: str) -> str:
    """``count`` and its noun, singular for exactly 1: "1 unique index", "2 unique indexes".

    ``noun`` is the singular, or ``singular|plural`` when adding -s/-es to the last word is wrong.
    """
    singular, _, many = noun.partition("|")
    if not many:
        many = _plural_word(singular)
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    # thousands separated, as people write counts: "12,556 tables"
    number = f"{count:,}" if isinstance(count, int) and not isinstance(count, bool) \
        else _text(count, "")
    return f"{number} {singular if number == '1' else many}"


def _plural_word(noun: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"


def size(n: float) -> str:
    """Bytes as a size: 512 bytes, 8.0 kB, 1.2 GB (powers of 1024, as pg_size_pretty)."""
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{int(value):,} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"


def _unjudged(age: Any, needed: Any) -> str:
    if not isinstance(needed, int | float) or (isinstance(age, int | float) and age >= needed):
        return ""
    return ", not judged: " + window_too_short(
        float(age) if isinstance(age, int | float) else None, float(needed), stable=True)


def _text(value: Any, spec: str, facts: Mapping[str, Any] | None = None) -> str:
    if spec.startswith(_PLURAL):
        return plural(value, spec[len(_PLURAL):])
    if spec.startswith(_WINDOW):
        return _unjudged(value, (facts or {}).get(spec[len(_WINDOW):]))
    if spec == "size" and isinstance(value, int | float):
        return size(value)
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


@functools.lru_cache(maxsize=512)
def _parsed(template: str) -> tuple[tuple[str, str | None, str], ...]:
    # a check's template is filled once per finding: tens of thousands of times, parsed once
    return tuple((literal, field, spec or "")
                 for literal, field, spec, _ in _FORMATTER.parse(template))


def fill(template: str, facts: Mapping[str, Any]) -> str:
    """The template with each placeholder replaced by its fact; a missing fact stays visible."""
    out: list[str] = []
    for literal, field, spec in _parsed(template):
        out.append(literal)
        if field is None:
            continue
        if field in facts:
            value = facts[field]
            # a plain string placeholder: itself (the common case, no formatting to apply)
            out.append(value if not spec and type(value) is str else _text(value, spec, facts))
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


def window_too_short(stats_age_s: float | None, needed_s: float, *, stable: bool = False) -> str:
    """Why a rate cannot be judged yet: one sentence for every check.

    ``stable``: for a finding's sentence, which must read the same on the next run (the age
    moves every second; it is in the run's facts): the window needed, not the one there is."""
    if stats_age_s is None:
        return (
            f"the statistics have no reset time to measure rates from; rates need a window of "
            f"{duration(needed_s)}"
        )
    if stable:
        return f"the statistics cover less than the {duration(needed_s)} needed to judge rates"
    return (
        f"the statistics cover {duration(stats_age_s)} of the {duration(needed_s)} needed to "
        f"judge rates"
    )
