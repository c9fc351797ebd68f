"""A check's documentation, from its header: one content, two forms.

``pgaudit explain ID`` prints :func:`text`; ``scripts/gen_docs.py`` writes :func:`markdown` to
``docs/checks/<id>.md`` and builds the catalogue tables with :func:`severity_range`. The content
(title, section, what it detects, why, example, fix, when to ignore it, severity rule with the
parameters it reads, statistics window, needs, references, parameters) is assembled once, in
:func:`blocks`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli

from pgaudit.checkfile import CheckSpec
from pgaudit.model import SECTIONS
from pgaudit.rules import LEVELS, Rule
from pgaudit.wording import duration

NEEDS = {
    "catalog": "`pg_catalog` only: any role",
    "stats": "`pg_stat_*` counters (`track_counts` on)",
    "column_stats": "`pg_stats` column statistics: `pg_read_all_data` (PostgreSQL 14+)",
    "activity": "other roles' `pg_stat_activity` rows: `pg_read_all_stats` or `pg_monitor`",
    "data": "reads table rows (bounded): `pg_read_all_data`; off under `--no-data`",
    "pg_stat_statements": "the `pg_stat_statements` extension, preloaded and readable",
    "history": "the previous run: a history store (`--store`)",
    "settings": "settings hidden from other roles (`shared_preload_libraries` …): "
                "`pg_read_all_settings` or `pg_monitor`",
    "hba_file_rules": "`pg_hba_file_rules`: superuser, or SELECT on the view and EXECUTE on "
                      "its function",
}


@dataclass
class Block:
    """One section of a check's page: prose, an SQL listing, a list, then more prose."""

    heading: str
    prose: list[str] = field(default_factory=list)
    sql: str = ""
    items: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # prose after the list


def code(value: str) -> str:
    """An inline code span that survives backticks in the value."""
    fence = "`" * (max((len(m) for m in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return str(n)  # unreachable


def toml_value(value: Any) -> str:
    """A value as a TOML header writes it (regular expressions as 'literal strings')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if "'" not in value and "\n" not in value:
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


def param_value(name: str, value: Any) -> str:
    """A parameter's default as TOML writes it, with its size or duration where the name says."""
    shown = code(toml_value(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if name.endswith("_bytes"):
            return f"{shown} ({_size(value)})"
        if name.endswith("_s") and value >= 120:
            return f"{shown} ({duration(value)})"
    return shown


def param_comments(spec: CheckSpec) -> dict[str, str]:
    """The ``#`` comment lines above each key of the header's ``[params]`` table."""
    try:
        source = Path(spec.path).read_text(encoding="utf-8")
    except OSError:
        return {}
    header = source.split("*/", 1)[0]
    found: dict[str, str] = {}
    inside, pending = False, list[str]()
    for line in header.splitlines():
        stripped = line.strip()
        if re.match(r"^\[[^\]]*\]", stripped):
            inside, pending = stripped == "[params]", []
        elif not inside:
            continue
        elif stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
        elif not stripped:
            pending = []
        elif m := re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=", stripped):
            own = _trailing_comment(stripped)
            if pending or own:
                found[m.group(1)] = " ".join([*pending, *([own] if own else [])])
            pending = []
    return found


def _trailing_comment(line: str) -> str:
    """The comment after a key's value (``low_rows = 10000  # under this many rows``): the
    text after the first ``#`` that leaves valid TOML before it (a ``#`` inside a string does
    not)."""
    for at in (i for i, ch in enumerate(line) if ch == "#"):
        try:
            tomli.loads(line[:at])
        except tomli.TOMLDecodeError:
            continue
        return line[at + 1:].strip()
    return ""


def severity_range(spec: CheckSpec) -> str:
    """The default level, then the levels a finding can rise to: ``warning → critical``."""
    levels = spec.levels() | set(spec.raise_when.values())
    rank = {level: i for i, level in enumerate(LEVELS)}  # critical first
    higher = sorted((lv for lv in levels if rank[lv] < rank[spec.severity]), key=rank.__getitem__,
                    reverse=True)
    lower = sorted((lv for lv in levels if rank[lv] > rank[spec.severity]), key=rank.__getitem__)
    out = " → ".join([spec.severity, *higher])
    return f"{out} (or {', '.join(lower)})" if lower else out


def _rule_items(rule: Rule) -> list[str]:
    return [f"**{level}**{' (a 🟢 line, not a finding)' if level == 'ok' else ''} when "
            + " or ".join(code(c) for c in conds) for level, conds in rule.describe()]


def _severity(spec: CheckSpec) -> Block:
    block = Block("Severity", [f"Default **{spec.severity}**."])
    rule = spec.severity_rule
    block.items += _rule_items(rule)
    for assumption, level in spec.raise_when.items():
        block.items.append(
            f"at least **{level}** when the config declares `[assumptions] {assumption} = true`"
        )
    if spec.priority_rule is not None:
        block.items += [f"priority {item}" for item in _rule_items(spec.priority_rule)]
    names = rule.names() | (spec.priority_rule.names() if spec.priority_rule else set())
    used = [n for n in spec.params if n in names]
    if used:
        block.notes.append(
            "With the default parameters "
            + ", ".join(f"{code(n)} = {param_value(n, spec.params[n])}" for n in used)
            + "."
        )
    block.notes.append(
        f"A config's `[checks.{spec.id}] severity` replaces the rule's level (not an ok row's)."
    )
    if spec.priority and spec.priority_rule is None:
        block.notes.append(f"Priority **{spec.priority}**.")
    return block


def _window(spec: CheckSpec) -> Block | None:
    seconds = spec.min_stats_age_s
    if seconds is None:
        seconds = spec.params.get("min_stats_age_s")
        if not isinstance(seconds, int | float):
            return None
        return Block("Statistics window", [
            f"Rates need statistics covering at least {duration(seconds)} (parameter "
            f"`min_stats_age_s`)."
        ])
    before = ("the check gives no verdict" if spec.stats_window == "required" else
              "it judges on its other facts and reads the rates as unknown")
    return Block("Statistics window", [
        f"Rates need statistics covering at least {duration(seconds)} "
        f"(`min_stats_age_s = {seconds:g}`; a config may override it). Before that, {before}."
    ])


def blocks(spec: CheckSpec) -> list[Block]:
    """Everything a check's documentation says, in order."""
    why = [spec.why]
    if spec.impact:
        why.append(f"Impact: {spec.impact}")
    fix = [spec.remediation.strip()] if spec.remediation.strip() else []
    out = [
        Block("What it detects", [spec.detects]),
        Block("Why it matters", why),
        Block("Example", sql=spec.example),
        Block("Fix", fix, sql=spec.fix),
        Block("When to ignore it", [spec.ignore_when]),
        _severity(spec),
    ]
    window = _window(spec)
    if window:
        out.append(window)
    needs = Block("Needs", items=[f"`{n}`: {NEEDS.get(n, n)}" for n in spec.needs])
    needs.items.append(f"PostgreSQL {spec.min_server_version}+")
    if spec.locks:
        needs.items.append("measures sizes or reads rows: skips relations with a granted or "
                           "pending AccessExclusiveLock")
    if spec.not_applicable:
        needs.items.append(f"not applicable (no 🟢 line) when {spec.not_applicable}")
    out.append(needs)
    if spec.replica_note:
        out.append(Block("On a standby", [spec.replica_note]))
    if spec.params:
        comments = param_comments(spec)
        items = []
        for name, value in spec.params.items():
            note = f": {comments[name]}" if name in comments else ""
            items.append(f"{code(name)} = {param_value(name, value)}{note}")
        out.append(Block(
            "Parameters",
            [f"Override in `pgaudit.toml`: `[checks.{spec.id}] params = {{ name = value }}`, or "
             f"add to a list with `[checks.{spec.id}.extend]`; an unknown name is an error."],
            items=items,
        ))
    out.append(Block("References", items=[f"<{u}>" for u in spec.references]))
    return out


def meta(spec: CheckSpec) -> str:
    section = SECTIONS[spec.section]
    return (f"severity {severity_range(spec)} · section {spec.section} {section.title} "
            f"({section.chapter}) · needs {', '.join(spec.needs)} · "
            f"PostgreSQL {spec.min_server_version}+")


def markdown(spec: CheckSpec, source: str | None = None) -> str:
    """The check's page (docs/checks/<id>.md); ``source`` links the check file."""
    line = meta(spec)
    out = [f"# `{spec.id}`: {spec.title}", "", line[0].upper() + line[1:], ""]
    if source:
        out += [f"Generated from [`{Path(source).name}`]({source}) by `scripts/gen_docs.py`; "
                f"`pgaudit explain {spec.id}` prints the same.", ""]
    for block in blocks(spec):
        out += [f"## {block.heading}", ""]
        for para in block.prose:
            out += [para.strip(), ""]
        if block.sql.strip():
            out += ["```sql", block.sql.strip(), "```", ""]
        if block.items:
            out += [f"- {item}" for item in block.items] + [""]
        for para in block.notes:
            out += [para.strip(), ""]
    return "\n".join(out)


def text(spec: CheckSpec) -> str:
    """The same content for the terminal (``pgaudit explain``)."""
    out = [f"{spec.id}: {spec.title}", "", meta(spec)]
    for block in blocks(spec):
        out += ["", block.heading, "-" * len(block.heading)]
        paras = [p.strip().replace("**", "") for p in block.prose]
        out += "\n\n".join(paras).splitlines() if paras else []
        if block.sql.strip():
            out += [""] if paras else []
            out += [f"    {line}" for line in block.sql.strip().splitlines()]
        if block.items:
            out += ([""] if paras or block.sql.strip() else [])
            out += [f"- {item.replace('**', '')}" for item in block.items]
        for para in block.notes:
            out += ["", para.strip().replace("**", "")]
    return "\n".join(out)
