"""Evidence for people: a finding's facts as a DBA reads them in the report.

The JSON run file keeps every fact as measured; the report shows only what a person reads:
labels from the check's ``[labels]`` (else the fact's name in words), numbers with their units
(``_bytes`` as sizes, ``_s``/``_ms`` as durations, ``_pct`` as percentages, ``_per_s`` as
rates), lists as comma lists. Regular expressions, JSON blobs, dictionaries, internal
parameters (a check's ``[params]``, the statistics age) and facts named with a leading ``_``
never show, nor facts that repeat the finding's own sentence, object or columns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from pgaudit.wording import duration
from pgaudit.wording import size as size

LIST_CAP = 8  # list items shown before "and N more"

# Facts that describe how the audit ran, not the database.
INTERNAL = frozenset({
    "stats_age_s", "read_budget", "lock_budget", "rates_ok", "min_stats_age_s", "own_pids",
})  # fmt: skip

# Words spelled as DBAs write them.
WORDS = {
    "fk": "FK", "fks": "FKs", "pk": "PK", "xid": "XID", "mxid": "MultiXact", "wal": "WAL",
    "rls": "RLS", "id": "ID", "ids": "IDs", "json": "JSON", "jsonb": "JSONB", "uuid": "UUID",
    "ip": "IP", "sql": "SQL", "idx": "index", "tup": "tuples", "oid": "OID", "lsn": "LSN",
    "gin": "GIN", "gist": "GiST", "brin": "BRIN", "ddl": "DDL", "dml": "DML", "ssl": "SSL",
    "tx": "transaction", "pgaudit": "pgAudit", "toast": "TOAST", "ms": "ms",
}
PHRASES = (
    ("pg_stat_statements", "pg_stat_statements"),
    ("pgstattuple_approx", "pgstattuple"),
    ("auto_explain", "auto_explain"),
    ("shared_preload_libraries", "shared_preload_libraries"),
    ("max_connections", "max_connections"),
)

_REGEX = re.compile(
    r"\\[dDwWsSbBAZ.()\[\]{}|+*?^$]"  # escapes
    r"|\(\?[:=!<imsx]"  # groups with flags
    r"|\[\^"  # negated classes
    r"|\.[*+?]"  # .* .+ .?
    r"|\(\w+(\|\w+)+\)"  # (a|b)
    r"|^\^|(?<![\s\d])\$$"  # anchors
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


def label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """The label a DBA reads: the check's own, else the fact's name in words, without its
    unit suffix ("heap_bytes" → "Heap size", "usage_pct" → "Usage", "n_blocks" → "Blocks")."""
    if labels and key in labels:
        return labels[key]
    name = key.strip("_")
    for suffix, word in (("_per_s", " per s"), ("_per_day", " per day")):
        if name.endswith(suffix):
            return _words(name[: -len(suffix)]) + word
    unit = _unit(name)
    if unit == "bytes":
        name = name[: -len("_bytes")]
        if "_" not in name and not name.endswith("size"):
            name += "_size"
    elif unit in ("s", "ms", "pct"):
        name = name[: -len(unit) - 1]
    if name.startswith("n_") and len(name) > 2:
        name = name[2:] + "_count"
    return _words(name or key)


def _words(name: str) -> str:
    text = name
    tokens: list[str] = []
    for phrase, shown in PHRASES:
        if phrase in text:
            text = text.replace(phrase, "\x00" + str(len(tokens)) + "\x00")
            tokens.append(shown)
    words = [w for w in text.split("_") if w]
    out = []
    for w in words:
        if w.startswith("\x00"):
            out.append(tokens[int(w.strip("\x00"))])
        else:
            out.append(WORDS.get(w.lower(), w))
    sentence = " ".join(out)
    first = sentence[:1]
    if first.islower() and not sentence.startswith(tuple(s for _, s in PHRASES)):
        sentence = first.upper() + sentence[1:]
    return sentence


def _unit(key: str) -> str:
    for unit in ("bytes", "ms", "pct", "s"):
        if key.endswith("_" + unit):
            return unit
    return ""


def approx(n: float) -> str:
    """A count rounded as people say it: 950, 12 k, 1.2 M, 3.4 G."""
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(n) >= limit:
            shown = n / limit
            return f"{shown:,.1f} {unit}".replace(".0 ", " ")
    return f"{n:,.0f}"


def number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    if value and abs(value) < 1:
        return f"{value:.2g}%"
    return f"{value:,.1f}".rstrip("0").rstrip(".") + "%"


def text(key: str, value: Any, params: Mapping[str, Any] | None = None,
         labels: Mapping[str, str] | None = None) -> str | None:
    """A fact's value as a person reads it, or None when it is not for people."""
    name = key.strip()
    if name.startswith("_") or name in INTERNAL or (params and name in params):
        return None
    if "pattern" in name or "regex" in name:
        return None
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, dict):
        return None
    if isinstance(value, bool):
        if value:
            return "yes"
        return "no" if labels and name in labels else None
    if isinstance(value, int | float):
        return _measure(name, value)
    if isinstance(value, list | tuple):
        if any(isinstance(v, dict | list | tuple) for v in value):
            return None
        shown = [t for t in (text("", v) for v in value) if t]
        if not shown:
            return None
        more = len(shown) - LIST_CAP
        return ", ".join(shown[:LIST_CAP]) + (f" and {more} more" if more > 0 else "")
    return _string(str(value), params)


def _measure(key: str, value: float) -> str:
    if key.endswith(("_per_s", "_per_day")):
        return number(value)
    unit = _unit(key)
    if unit == "bytes":
        return size(value)
    if unit == "s":
        return duration(float(value))
    if unit == "ms":
        return f"{number(value)} ms" if value < 1000 else duration(value / 1000)
    if unit == "pct":
        return percent(float(value))
    return number(value)


def _string(value: str, params: Mapping[str, Any] | None) -> str | None:
    stripped = value.strip()
    if not stripped:
        return None
    if stripped[0] in "{[":
        return None  # JSON, or a Python repr
    if _REGEX.search(stripped):
        return None
    if params and any(len(p) > 4 and p in stripped for p in params):
        return None  # names an internal parameter
    if _ISO.match(stripped):
        try:
            when = dt.datetime.fromisoformat(stripped.replace("Z", "+00:00"))
        except ValueError:
            return stripped
        if when.tzinfo is not None:
            return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return when.strftime("%Y-%m-%d %H:%M")
    return stripped


def items(evidence: Mapping[str, Any], *, params: Mapping[str, Any] | None = None,
          labels: Mapping[str, str] | None = None, sentence: str = "",
          repeats: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(label, value) of every fact a person reads, in the check's order. A fact that repeats
    the finding's sentence, object, index or columns (``repeats``) is left out."""
    out = []
    for key, value in evidence.items():
        shown = text(key, value, params, labels)
        if shown is None or shown in repeats:
            continue
        if len(shown) >= 12 and shown in sentence:
            continue
        out.append((_without_unit(label(key, labels), key), shown))
    return out


UNIT_IN_LABEL = {"ms": " (ms)", "s": " (s)", "pct": " (%)"}


def _without_unit(text: str, key: str) -> str:
    """A check's label "Server level (ms)" without its unit when the value carries it already
    ("0 ms"), so the line does not read "Server level (ms): 0 ms"."""
    if key.endswith(("_per_s", "_per_day")):
        return text  # a rate is shown as a bare number: its label keeps the unit
    suffix = UNIT_IN_LABEL.get(_unit(key.strip()), "")
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text
