"""One object and column, one line: findings of several checks about the same thing merge.

A run's findings are consolidated once, after the waivers and before anything is counted
(``engine.audit``, ``api.run_audit``, and ``render.as_run`` for a JSON document written before
this existed). ``consolidate`` is idempotent: a consolidated run comes out as it went in.

**Same object and column.** Findings of different checks with the same ``object``, the same
columns (in any order) and the same ``index`` merge into one entry. Table-level findings
(no columns) do not, except the two naming checks (``identifier_requires_quoting``,
``naming_inconsistency``), which are about the table's name and merge by object. Checks whose
``columns`` name a key a table-level fix uses (the RLS policy column, the partition key, the
time column of an archive) are not about that column and stay apart (``CONTEXT_COLUMNS``).

**The primary** is the most severe finding, then the one with the more specific fix (a fix
before none; a conversion with an explicit ``USING`` expression before a plain cast; the
longer one), then the check id. It keeps its title, detail and remediation, takes the most
urgent priority of the group, and gains ``also``: one entry per merged finding, most severe
first, with its check, title, severity, detail and identity (object, columns, index,
fingerprint), so a waiver or the history store still finds it.

**One fix.** A merged finding's remediation is appended to the primary's when it does
something else (create an index after a type change); it is dropped when it alters a column
the primary's fix already alters in another way (two ``ALTER COLUMN ... TYPE`` of one
column, one ``AT TIME ZONE 'UTC'`` and one a plain cast), and when it adds nothing. ``fix`` in
its ``also`` entry says which (``appended``, ``dropped``, ``same``, ``none``).

**No two fixes disagree about a column.** Findings on different objects can still alter the
same column (``column_type_inconsistent`` is reported per column name and alters each table
whose type differs). When two entries' remediations alter one column differently, the less
preferred one merges into the other when everything its fix alters is altered there too;
otherwise its conflicting clauses are taken out of its fix, with a comment naming the finding
whose fix is kept.

Waived findings never merge: an accepted risk stays its own line, and a waiver on a check
whose finding was merged into another still applies (``waivers.apply`` splits a consolidated
run into its parts, applies the waivers, and consolidates again).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pgaudit.model import RANK, Finding, Severity

# Checks whose columns name a key a table-level fix uses, not a defect of that column.
CONTEXT_COLUMNS = frozenset({
    "rls_not_enabled",  # the tenant or owner column a policy would filter on
    "large_table_not_partitioned",  # the partition key
    "archiving_candidate",  # the age column of the archive
    "expired_rows_accumulating",  # the expiry column of the cleanup
    "soft_delete_without_partial_index",  # the soft-delete column of the partial index
})

# Checks about a table's name: the same table reported twice is one line, whatever columns.
NAMING = frozenset({"identifier_requires_quoting", "naming_inconsistency"})

_OK = Severity.OK.value  # a plain str: an enum member's lookup costs, 70,000 times a run
_PRIORITY_RANK = {"immediate": 3, "high": 2, "medium": 1, "low": 0}


# --- SQL: statements and the column alterations they make ---------------------------------------

# Where something other than plain text may start: a comment, a quote, a dollar quote and (for
# ``statements``) a semicolon. The scanners jump from one to the next with a regex search, so
# plain text is skipped in C, not read character by character in Python (18,000 remediations
# of a 50,000-table catalog: 1.5 s -> 0.1 s).
_SPECIAL = re.compile(r"--|/\*|['\"]|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_SPECIAL_OR_SEMI = re.compile(r"--|/\*|['\"]|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$|;")


def _skip(sql: str, token: str, at: int) -> int:
    """Where the comment, quoted text or dollar-quoted text ``token`` starting at ``at`` ends;
    unterminated, it runs to the end."""
    n = len(sql)
    if token == "--":
        end = sql.find("\n", at)
        return n if end < 0 else end
    if token == "/*":
        end = sql.find("*/", at + 2)
        return n if end < 0 else end + 2
    if token in ("'", '"'):
        end = at + 1
        while True:
            end = sql.find(token, end)
            if end < 0:
                return n
            if end + 1 < n and sql[end + 1] == token:  # doubled quote
                end += 2
                continue
            return end + 1
    end = sql.find(token, at + len(token))  # a dollar quote: its own tag ends it
    return n if end < 0 else end + len(token)


def statements(sql: str) -> list[str]:
    """The statements of a remediation, each with the comments that precede it and the comment
    that ends its line; quotes, dollar quotes and comments are respected. A trailing part
    without a semicolon is a statement too."""
    units: list[str] = []
    start = i = 0
    n = len(sql)
    while i < n:
        m = _SPECIAL_OR_SEMI.search(sql, i)
        if m is None:
            break
        token = m.group(0)
        if token != ";":
            i = _skip(sql, token, m.start())
            continue
        i = m.end()
        rest = sql.find("\n", i)
        line_end = n if rest < 0 else rest
        tail = sql[i:line_end].strip()
        if not tail or tail.startswith("--"):
            i = line_end
        units.append(sql[start:i])
        start = i
    if sql[start:].strip():
        units.append(sql[start:])
    return [s for u in units if (s := u.strip())]


def _strip_comments(sql: str) -> str:
    if _SPECIAL.search(sql) is None:  # most statements: nothing to take out, no copy
        return sql
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        m = _SPECIAL.search(sql, i)
        if m is None:
            break
        token, at = m.group(0), m.start()
        out.append(sql[i:at])
        i = _skip(sql, token, at)
        # a comment becomes one space; quoted text is kept as written
        out.append(" " if token in ("--", "/*") else sql[at:i])
    out.append(sql[i:])
    return "".join(out)


def normalise(statement: str) -> str:
    """A statement without comments, whitespace collapsed, no final semicolon."""
    text = " ".join(_strip_comments(statement).split())
    return text.rstrip(";").strip()


_IDENT = r'(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)'
_ALTER_TABLE = re.compile(
    rf"^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?(?P<name>{_IDENT}(?:\.{_IDENT})*)"
    r"\s+(?P<actions>.*)$",
    re.I | re.S,
)
_ALTER_COLUMN = re.compile(
    rf"^alter\s+(?:column\s+)?(?!constraint\s)(?P<col>{_IDENT})\s+(?P<rest>.*)$", re.I | re.S
)
_ALTER_SEQUENCE = re.compile(
    rf"^alter\s+sequence\s+(?:if\s+exists\s+)?(?P<name>{_IDENT}(?:\.{_IDENT})*)\s+(?P<rest>.*)$",
    re.I | re.S,
)
# Where any ALTER TABLE or ALTER SEQUENCE of a remediation starts, with the relation it names:
# the same prefix as the two patterns above, searched in the whole text. Searched for in the
# text lowercased (a literal first: see _MAYBE_LOWER), the name then read from the text as
# written at the same place; re.I where lowercasing could move it (non-ASCII).
_TARGET_PREFIX = (r"alter\s+(?:table\s+(?:if\s+exists\s+)?(?:only\s+)?"
                  r"|sequence\s+(?:if\s+exists\s+)?)")
# followed by a space as there: with ``only`` or a name the pattern cannot read, the name
# they find is the one backtracking finds (``alter table only "x".é ...`` alters "only")
_TARGET_NAME = rf"(?P<name>{_IDENT}(?:\.{_IDENT})*)(?=\s)"
_TARGET = re.compile(r"\b" + _TARGET_PREFIX + _TARGET_NAME, re.I)
_TARGET_LOWER = re.compile(r"alter(?<!\walter)" + _TARGET_PREFIX[5:] + _TARGET_NAME)
_KINDS = (
    (re.compile(r"^(?:set\s+data\s+)?type\b", re.I), "type"),
    (re.compile(r"^(?:set|drop)\s+default\b", re.I), "default"),
    (re.compile(r"^(?:set|drop)\s+not\s+null\b", re.I), "not null"),
    (re.compile(r"^(?:add\s+generated|set\s+generated|drop\s+identity|drop\s+expression)\b",
                re.I), "identity"),
)


def _ident(text: str) -> str:
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


_IDENT_RE = re.compile(_IDENT)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*")


def relation_key(name: str) -> tuple[str, ...]:
    """``public."AuditEvents"`` as ("public", "AuditEvents"): how SQL resolves the name."""
    if _PLAIN_NAME.fullmatch(name):  # unquoted parts and dots only: the common case, fast
        return tuple(name.lower().split("."))
    return tuple(_ident(p) for p in _IDENT_RE.findall(name))


_COMMA_SPECIAL = re.compile(r"""['"(),]""")


def _top_level_commas(text: str) -> list[str]:
    parts: list[str] = []
    depth = start = i = 0
    while (m := _COMMA_SPECIAL.search(text, i)) is not None:
        ch, at = m.group(0), m.start()
        if ch in "'\"":
            i = _skip(text, ch, at)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            parts.append(text[start:at])
            start = at + 1
        i = at + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class Alteration:
    """One ``ALTER COLUMN`` clause: which column of which table, what kind, and how."""

    table: tuple[str, ...]
    column: str
    kind: str  # type | default | not null | identity | the clause's first word
    clause: str  # the rest of the clause, comments and extra whitespace out: compared as is

    @property
    def target(self) -> str:
        return ".".join((*self.table, self.column) if self.column else self.table)


# A remediation that could alter a column or a sequence: an ALTER SEQUENCE, or an ALTER that is
# not the start of an ALTER TABLE (a clause: ALTER COLUMN x, ALTER x). Most fixes (create index,
# add constraint) do not, and are not parsed at all: a large catalog has thousands of them.
_MAYBE_TAIL = r"\s+(?:sequence\b|(?!table\b|index\b|materialized\b|view\b)\S)"
_MAYBE = re.compile(r"\balter" + _MAYBE_TAIL, re.I)
# The same test on an ASCII remediation lowercased: a pattern that starts with a literal is
# searched for with a fast scan, where re.I makes the engine try every position (18,000
# remediations of a 50,000-table catalog: 60 -> 9 ms). ASCII only: there, lower() and re.I
# agree letter for letter (re.I also folds some non-ASCII letters, such as the Kelvin sign).
_MAYBE_LOWER = re.compile(r"alter(?<!\walter)" + _MAYBE_TAIL)


def _maybe_alters(sql: str) -> bool:
    if sql.isascii():
        return _MAYBE_LOWER.search(sql.lower()) is not None
    return _MAYBE.search(sql) is not None


def alterations(sql: str | None) -> list[Alteration]:
    """The column alterations a remediation makes (commented-out SQL does not count)."""
    if not sql or not _maybe_alters(sql):
        return []
    return list(_alterations(sql))


@functools.lru_cache(maxsize=4096)
def _alterations(sql: str) -> tuple[Alteration, ...]:
    found: list[Alteration] = []
    for statement in statements(sql):
        if "alter" not in statement.lower():  # begin, lock, setval, drop ...: nothing to parse
            continue
        text = normalise(statement)
        seq = _ALTER_SEQUENCE.match(text)
        if seq:  # a sequence's type or limits: column "" of the sequence, kind its first word
            rest = seq.group("rest").strip()
            kind = "sequence " + rest.split(" ", 1)[0].lower()
            found.append(Alteration(relation_key(seq.group("name")), "", kind, rest))
            continue
        match = _ALTER_TABLE.match(text)
        if not match:
            continue
        table = relation_key(match.group("name"))
        for action in _top_level_commas(match.group("actions")):
            col = _ALTER_COLUMN.match(action)
            if not col:
                continue
            rest = col.group("rest").strip()
            kind = next((k for pattern, k in _KINDS if pattern.match(rest)),
                        rest.split(" ", 1)[0].lower())
            found.append(Alteration(table, _ident(col.group("col")), kind, rest))
    return tuple(found)


def _targets(sql: str) -> set[tuple[str, ...]]:
    """The relations a remediation's ALTER TABLE and ALTER SEQUENCE statements name: one scan
    of its text, no statement parsed. A superset of those ``alterations`` finds (the name in
    a quoted string or a dollar-quoted body counts too)."""
    if "--" in sql or "/*" in sql:  # a comment could sit between ALTER and TABLE
        sql = normalise(sql)
    if not sql.isascii():
        return {relation_key(m.group("name")) for m in _TARGET.finditer(sql)}
    return {relation_key(sql[m.start("name"):m.end("name")])
            for m in _TARGET_LOWER.finditer(sql.lower())}


def disagreements(first: str | None, second: str | None) -> list[Alteration]:
    """The alterations of ``second`` that alter a column ``first`` alters in another way."""
    mine = {(a.table, a.column, a.kind): a.clause for a in alterations(first)}
    return [
        a for a in alterations(second)
        if (a.table, a.column, a.kind) in mine and mine[a.table, a.column, a.kind] != a.clause
    ]


# --- choosing the primary -------------------------------------------------------------------

_PLAIN_CAST = re.compile(r"\busing\s+\S+::", re.I)


def _specificity(f: Finding) -> tuple[int, int, int]:
    fix = f.remediation or ""
    explicit = sum(
        1 for a in alterations(fix)
        if a.kind == "type" and " using " in f" {a.clause.lower()} "
        and not _PLAIN_CAST.search(a.clause)
    )
    return (1 if fix.strip() else 0, explicit, len(normalise(fix)))


def _preference(f: Finding) -> tuple[Any, ...]:
    rank = RANK.get(f.severity, 0)
    return (-rank, *(-x for x in _specificity(f)), f.check, f.fingerprint)


# --- merging --------------------------------------------------------------------------------


def _key(f: Finding) -> tuple[Any, ...] | None:
    if f.check in NAMING:
        return ("name", f.object)
    if f.check in CONTEXT_COLUMNS or not f.columns:
        return None
    return ("columns", f.object, tuple(sorted(f.columns)), f.index or "")


def _eligible(f: Finding) -> bool:
    return f.severity != _OK and f.counted


def _entry(f: Finding, fix: str, note: str | None) -> dict[str, Any]:
    return {
        "check": f.check,
        "title": f.title,
        "severity": f.severity,
        "detail": f.detail,
        "section": f.section,
        "priority": f.priority,
        "object": f.object,
        "object_type": f.object_type,
        "columns": list(f.columns),
        "index": f.index,
        "fingerprint": f.fingerprint,
        "evidence": dict(f.evidence),
        "impact": f.impact,
        "original_remediation": f.remediation,
        "fix": fix,  # appended | dropped | same | none
        "fix_note": note,
    }


def _absorb(primary: Finding, other: Finding) -> None:
    """Merge ``other`` (and whatever was merged into it) into ``primary``, in place."""
    fix = (other.remediation or "").strip()
    note: str | None = None
    if not fix:
        outcome = "none"
    else:
        clash = disagreements(primary.remediation, fix)
        have = {normalise(s) for s in statements(primary.remediation or "")}
        new = [s for s in statements(fix) if normalise(s) and normalise(s) not in have]
        if clash:
            outcome = "dropped"
            targets = ", ".join(dict.fromkeys(a.target for a in clash))
            note = f"alters {targets} another way; the fix of {primary.check} is kept"
        elif not new:
            outcome = "same"
        else:
            outcome = "appended"
            transaction = any(
                re.match(r"^(begin|start\s+transaction|commit|end)\b", normalise(s), re.I)
                for s in statements(fix)
            )
            added = fix if transaction else "\n".join(new)
            primary.remediation = (
                f"{primary.remediation.rstrip()}\n{added}" if primary.remediation else added
            )
    primary.also.append(_entry(other, outcome, note))
    primary.also.extend(other.also)
    other.also = []
    if _PRIORITY_RANK.get(other.priority, 0) > _PRIORITY_RANK.get(primary.priority, 0):
        primary.priority = other.priority


def _sort_also(f: Finding) -> None:
    f.also.sort(key=lambda a: (-RANK.get(str(a.get("severity")), 0), str(a.get("check")),
                               str(a.get("object")), list(a.get("columns") or [])))


def _merge_groups(findings: list[Finding]) -> set[int]:
    """Step 1: same object and columns. Returns the ids of the findings merged away."""
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    for f in findings:
        key = _key(f) if _eligible(f) else None
        if key is not None:
            groups.setdefault(key, []).append(f)
    gone: set[int] = set()
    for members in groups.values():
        if len({m.check for m in members}) < 2:
            continue
        members = sorted(members, key=_preference)
        primary = members[0]
        for other in members[1:]:
            if other.check in primary.checks:
                continue  # two findings of one check are two things: both stay
            _absorb(primary, other)
            gone.add(id(other))
        _sort_also(primary)
    return gone


def _resolve_conflicts(findings: list[Finding]) -> set[int]:
    """Step 2: entries on different objects whose fixes alter one column differently."""
    gone: set[int] = set()
    live = [f for f in findings
            if _eligible(f) and f.remediation and _maybe_alters(f.remediation)]
    # Two fixes can only disagree about a relation both name: a fix that alters relations no
    # other fix names is not parsed (4,182 serial-to-identity fixes of a 50,000-table catalog,
    # 8 statements each, each altering its own table).
    named: dict[tuple[str, ...], int] = {}
    targets = [_targets(f.remediation or "") for f in live]
    for found in targets:
        for key in found:
            named[key] = named.get(key, 0) + 1
    live = [f for f, found in zip(live, targets, strict=True)
            if any(named[key] > 1 for key in found)]
    by_target: dict[tuple[tuple[str, ...], str, str], list[Finding]] = {}
    for f in live:
        for a in alterations(f.remediation):
            by_target.setdefault((a.table, a.column, a.kind), []).append(f)
    for entries in by_target.values():
        unique = list({id(e): e for e in entries}.values())
        if len(unique) < 2:
            continue
        ordered = sorted(unique, key=_preference)
        for at, loser in enumerate(ordered):
            for winner in ordered[:at]:
                if id(winner) in gone or id(loser) in gone:
                    continue
                if not disagreements(winner.remediation, loser.remediation):
                    continue
                theirs = {(a.table, a.column) for a in alterations(winner.remediation)}
                mine = {(a.table, a.column) for a in alterations(loser.remediation)}
                if mine <= theirs:  # everything its fix alters is altered there: one line
                    _absorb(winner, loser)
                    _sort_also(winner)
                    gone.add(id(loser))
                else:
                    _take_out(loser, winner)
    return gone


def _take_out(loser: Finding, winner: Finding) -> None:
    """Remove from ``loser``'s fix the clauses that alter a column ``winner`` alters otherwise."""
    clash = {(a.table, a.column, a.kind) for a in disagreements(winner.remediation,
                                                                 loser.remediation)}
    kept: list[str] = []
    removed: list[str] = []
    for statement in statements(loser.remediation or ""):
        seq = alterations(statement) if _ALTER_SEQUENCE.match(normalise(statement)) else []
        if seq and (seq[0].table, "", seq[0].kind) in clash:
            removed.append(seq[0].target)
            continue
        match = _ALTER_TABLE.match(normalise(statement))
        if not match:
            kept.append(statement)
            continue
        table = relation_key(match.group("name"))
        actions = _top_level_commas(match.group("actions"))
        keep_actions: list[str] = []
        for action in actions:
            col = _ALTER_COLUMN.match(action)
            if col:
                mine = alterations(f"alter table {match.group('name')} {action}")
                if mine and (table, mine[0].column, mine[0].kind) in clash:
                    removed.append(mine[0].target)
                    continue
            keep_actions.append(action)
        if len(keep_actions) == len(actions):
            kept.append(statement)
        elif keep_actions:
            kept.append(f"alter table {match.group('name')} {', '.join(keep_actions)};")
    if removed:
        targets = ", ".join(dict.fromkeys(removed))
        kept.append(f"-- {targets}: see the fix of {winner.check} on {winner.object}")
        loser.remediation = "\n".join(kept)


def consolidate(findings: Iterable[Finding]) -> list[Finding]:
    """The findings with those about the same object and column merged (see the module)."""
    items = list(findings)
    gone = _merge_groups(items)
    items = [f for f in items if id(f) not in gone]
    gone = _resolve_conflicts(items)
    return [f for f in items if id(f) not in gone]


def expand(findings: Iterable[Finding]) -> list[Finding]:
    """Every finding as its check gave it: each merged entry split into its parts."""
    return [p for f in findings for p in f.parts()]
