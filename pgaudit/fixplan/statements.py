"""The statements of a plan: split from the findings' remediations, deduplicated, classified
(lock, rewrite, transaction, destructive, scope, undo), guarded so a second run is harmless,
and ordered.

**Lock levels** come from one table (``KINDS``), read from PostgreSQL's documentation of each
command (sql-altertable "Notes", sql-createindex, sql-reindex, explicit-locking). A statement
whose kind is not in the table is assumed to take ACCESS EXCLUSIVE: the worst case.

**Order** (``PHASES``): what creates comes first, then the statements that clean data a later
statement needs (orphans, duplicates), then VALIDATE and REINDEX, then the drops, then the
renames (last, so a drop of the old name never misses the object a rename moved away).
Within a phase, the order of the findings and of their statements is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pgaudit.consolidate import _strip_comments, normalise, relation_key, statements

IDENT = r'(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)'
QNAME = rf"{IDENT}(?:\s*\.\s*{IDENT})?"

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
NONE = "none"

# How strong a lock is (explicit-locking table order): the strongest of a multi-action ALTER
_STRENGTH = {NONE: 0, "ACCESS SHARE": 1, "ROW SHARE": 2, ROW_EXCLUSIVE: 3,
             SHARE_UPDATE_EXCLUSIVE: 4, SHARE: 5, SHARE_ROW_EXCLUSIVE: 6, "EXCLUSIVE": 7,
             ACCESS_EXCLUSIVE: 8}

PHASE_CREATE, PHASE_CLEAN, PHASE_VALIDATE, PHASE_DROP, PHASE_RENAME = 10, 20, 30, 40, 50
# renames last, innermost first: a later rename names its object by the old outer names
PHASE_RENAME_TABLE, PHASE_RENAME_SCHEMA = 51, 52


@dataclass(frozen=True)
class Kind:
    """One row of the lock table."""

    lock: str
    rewrite: bool = False  # rewrites the table (or scans it all under the lock: ``scan``)
    scan: bool = False  # reads every row while holding the lock
    transaction: bool = True  # False: cannot run inside a transaction block
    destructive: bool = False  # loses data, an index, or access
    scope: str = "database"  # database | cluster (every database of the server)
    phase: int = PHASE_CREATE


# kind -> what the statement does to locks; source: the PostgreSQL documentation
KINDS: dict[str, Kind] = {
    "create index concurrently": Kind(SHARE_UPDATE_EXCLUSIVE, scan=True, transaction=False),
    "create index": Kind(SHARE, scan=True),
    "reindex concurrently": Kind(SHARE_UPDATE_EXCLUSIVE, scan=True, transaction=False,
                                 phase=PHASE_VALIDATE),
    "reindex": Kind(ACCESS_EXCLUSIVE, scan=True, phase=PHASE_VALIDATE),
    "drop index concurrently": Kind(SHARE_UPDATE_EXCLUSIVE, transaction=False, destructive=True,
                                    phase=PHASE_DROP),
    "drop index": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_DROP),
    "rename index": Kind(SHARE_UPDATE_EXCLUSIVE, phase=PHASE_RENAME),
    "rename constraint": Kind(ACCESS_EXCLUSIVE, phase=PHASE_RENAME),
    # a renamed column, table or schema breaks every query that names it: destructive
    "rename column": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_RENAME),
    "rename table": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_RENAME_TABLE),
    "rename schema": Kind(NONE, destructive=True, phase=PHASE_RENAME_SCHEMA),
    "add foreign key not valid": Kind(SHARE_ROW_EXCLUSIVE),
    "add foreign key": Kind(SHARE_ROW_EXCLUSIVE, scan=True),
    "add check not valid": Kind(ACCESS_EXCLUSIVE),
    "add check": Kind(ACCESS_EXCLUSIVE, scan=True),
    "add unique or primary key": Kind(ACCESS_EXCLUSIVE, scan=True),
    "validate constraint": Kind(SHARE_UPDATE_EXCLUSIVE, scan=True, phase=PHASE_VALIDATE),
    "drop constraint": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_DROP),
    "add column": Kind(ACCESS_EXCLUSIVE),
    "drop column": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_DROP),
    "alter column type": Kind(ACCESS_EXCLUSIVE, rewrite=True, scan=True),
    "set not null": Kind(ACCESS_EXCLUSIVE, scan=True),
    "alter column": Kind(ACCESS_EXCLUSIVE),  # drop not null, set/drop default, identity
    # without a policy, row level security denies every row: access is lost
    "row level security": Kind(ACCESS_EXCLUSIVE, destructive=True),
    "create policy": Kind(ACCESS_EXCLUSIVE),
    # autovacuum_*, fillfactor, toast_tuple_target ... (PostgreSQL 11+); others take more, so
    # the worst case is kept unless every parameter is one of these
    "set storage parameter": Kind(SHARE_UPDATE_EXCLUSIVE),
    "alter table": Kind(ACCESS_EXCLUSIVE),  # an action not in this table: the worst case
    "create table": Kind(NONE),
    "create function": Kind(NONE),
    "create trigger": Kind(SHARE_ROW_EXCLUSIVE),
    "grant or revoke": Kind(NONE),
    "comment": Kind(SHARE_UPDATE_EXCLUSIVE),
    "alter database": Kind(NONE),
    "alter sequence": Kind(SHARE_ROW_EXCLUSIVE),
    "delete": Kind(ROW_EXCLUSIVE, scan=True, destructive=True, phase=PHASE_CLEAN),
    "update": Kind(ROW_EXCLUSIVE, scan=True, destructive=True, phase=PHASE_CLEAN),
    "alter system": Kind(NONE, transaction=False, scope="cluster"),
    "alter role": Kind(NONE, scope="cluster"),
    "reload configuration": Kind(NONE, scope="cluster"),
    "lock table": Kind(ACCESS_EXCLUSIVE),
    # after the drops, before the renames change the names they use
    "vacuum": Kind(SHARE_UPDATE_EXCLUSIVE, scan=True, transaction=False, phase=PHASE_DROP + 5),
    "analyze": Kind(SHARE_UPDATE_EXCLUSIVE, scan=True, phase=PHASE_DROP + 5),
    "drop policy": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_DROP),
    "drop other": Kind(ACCESS_EXCLUSIVE, destructive=True, phase=PHASE_DROP),
    "other": Kind(ACCESS_EXCLUSIVE),
}

_TRANSACTION = re.compile(r"^(?:(?P<begin>begin|start\s+transaction)|commit|end)\b", re.I)


@dataclass
class Statement:
    """One statement of the plan and everything known about it."""

    sql: str  # as it runs: guarded so that a second run is harmless
    original: str  # as the remediation wrote it (comments out)
    kind: str
    table: str | None = None  # the relation it works on, as SQL names it
    other_tables: list[str] = field(default_factory=list)  # the referenced table of a FK
    fingerprints: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    undo: str | None = None
    note: str | None = None  # the remediation's own comment, kept for the reader
    table_bytes: int | None = None
    included: bool = True  # False: written commented out
    excluded_because: str | None = None
    precondition: dict[str, Any] | None = None
    will_fail: bool = False
    resolves: int | None = None  # the number of the statement whose precondition it fixes
    block: int = 0  # statements of one BEGIN ... COMMIT of a remediation: one transaction
    number: int = 0
    group: int = 0  # statements of one transaction share a group; 0: outside transactions
    rehearsal: dict[str, Any] | None = None

    @property
    def info(self) -> Kind:
        return KINDS[self.kind]

    @property
    def lock(self) -> str:
        return self.info.lock

    def to_dict(self) -> dict[str, Any]:
        k = self.info
        return {
            "number": self.number,
            "sql": self.sql,
            "original": self.original,
            "kind": self.kind,
            "table": self.table,
            "other_tables": self.other_tables,
            "lock": k.lock,
            "rewrites_table": k.rewrite,
            "scans_table": k.scan,
            "table_bytes": self.table_bytes,
            "in_transaction": k.transaction,
            "group": self.group,
            "scope": k.scope,
            "destructive": k.destructive,
            "included": self.included,
            "excluded_because": self.excluded_because,
            "fingerprints": self.fingerprints,
            "checks": self.checks,
            "undo": self.undo,
            "note": self.note,
            "precondition": self.precondition,
            "will_fail": self.will_fail,
            "resolves": self.resolves,
            "block": self.block,
            "rehearsal": self.rehearsal,
        }


# --- classification ------------------------------------------------------------------------

_RX = {name: re.compile(pattern, re.I | re.S) for name, pattern in {
    "create_index": rf"^create\s+(?P<unique>unique\s+)?index\s+(?P<conc>concurrently\s+)?"
                    rf"(?P<ine>if\s+not\s+exists\s+)?(?P<name>{IDENT})?\s*on\s+(?:only\s+)?"
                    rf"(?P<table>{QNAME})",
    "reindex": rf"^reindex\s+(?:\(\s*[^)]*\)\s*)?index\s+(?P<conc>concurrently\s+)?"
               rf"(?P<name>{QNAME})\s*$",
    "drop_index": rf"^drop\s+index\s+(?P<conc>concurrently\s+)?(?P<ie>if\s+exists\s+)?"
                  rf"(?P<name>{QNAME})(?:\s+(?:cascade|restrict))?\s*$",
    "rename_index": rf"^alter\s+index\s+(?P<ie>if\s+exists\s+)?(?P<name>{QNAME})\s+rename\s+to\s+"
                    rf"(?P<new>{IDENT})\s*$",
    "alter_table": rf"^alter\s+table\s+(?P<ie>if\s+exists\s+)?(?P<only>only\s+)?"
                   rf"(?P<table>{QNAME})\s+(?P<actions>.*)$",
    "create_table": rf"^create\s+(?:unlogged\s+)?table\s+(?P<ine>if\s+not\s+exists\s+)?"
                    rf"(?P<name>{QNAME})",
    "create_function": r"^create\s+(?P<orr>or\s+replace\s+)?(?:function|procedure)\s+",
    "create_trigger": rf"^create\s+(?P<orr>or\s+replace\s+)?(?:constraint\s+)?trigger\s+"
                      rf"(?P<name>{IDENT})\s+.*?\bon\s+(?P<table>{QNAME})",
    "create_policy": rf"^create\s+policy\s+(?P<name>{IDENT})\s+on\s+(?P<table>{QNAME})",
    "grant": r"^(?:grant|revoke)\b",
    "comment": r"^comment\s+on\b",
    "alter_database": rf"^alter\s+database\s+(?P<name>{IDENT})\s+(?P<rest>.*)$",
    "alter_sequence": rf"^alter\s+sequence\s+(?:if\s+exists\s+)?(?P<name>{QNAME})",
    "rename_schema": rf"^alter\s+schema\s+(?P<name>{IDENT})\s+rename\s+to\s+(?P<new>{IDENT})\s*$",
    "vacuum": rf"^vacuum\s+(?:\([^)]*\)\s*)?(?:(?:full|freeze|verbose|analyze)\s+)*"
              rf"(?P<table>{QNAME})",
    "analyze": rf"^analyze\s+(?:\([^)]*\)\s*)?(?:verbose\s+)?(?P<table>{QNAME})",
    "lock": rf"^lock\s+(?:table\s+)?(?:only\s+)?(?P<table>{QNAME})",
    "drop_policy": rf"^drop\s+policy\s+(?:if\s+exists\s+)?{IDENT}\s+on\s+(?P<table>{QNAME})",
    "drop_other": r"^drop\s+(?:table|sequence|function|trigger|view|materialized\s+view|type)\b",
    "delete": rf"^delete\s+from\s+(?:only\s+)?(?P<table>{QNAME})",
    "update": rf"^update\s+(?:only\s+)?(?P<table>{QNAME})",
    "alter_system": r"^alter\s+system\b",
    "alter_role": r"^alter\s+(?:role|user|group)\b",
    "reload": r"^select\s+(?:pg_catalog\.)?pg_reload_conf\s*\(\s*\)\s*$",
}.items()}

_ACTION_KINDS = (
    (re.compile(r"^rename\s+to\b", re.I), "rename table"),
    (re.compile(r"^rename\s+constraint\b", re.I), "rename constraint"),
    (re.compile(r"^rename\s+", re.I), "rename column"),
    (re.compile(r"^add\s+(?:constraint\s+\S+\s+)?foreign\s+key\b.*\bnot\s+valid\s*$", re.I | re.S),
     "add foreign key not valid"),
    (re.compile(r"^add\s+(?:constraint\s+\S+\s+)?foreign\s+key\b", re.I), "add foreign key"),
    (re.compile(r"^add\s+(?:constraint\s+\S+\s+)?check\b.*\bnot\s+valid\s*$", re.I | re.S),
     "add check not valid"),
    (re.compile(r"^add\s+(?:constraint\s+\S+\s+)?check\b", re.I), "add check"),
    (re.compile(r"^add\s+(?:constraint\s+\S+\s+)?(?:unique|primary\s+key)\b", re.I),
     "add unique or primary key"),
    (re.compile(r"^validate\s+constraint\b", re.I), "validate constraint"),
    (re.compile(r"^drop\s+constraint\b", re.I), "drop constraint"),
    (re.compile(r"^drop\s+(?:column\s+)?(?!constraint\b)\S", re.I), "drop column"),
    (re.compile(r"^add\s+(?!constraint\b)", re.I), "add column"),
    (re.compile(r"^alter\s+(?:column\s+)?\S+\s+(?:set\s+data\s+)?type\b", re.I),
     "alter column type"),
    (re.compile(r"^alter\s+(?:column\s+)?\S+\s+set\s+not\s+null\b", re.I), "set not null"),
    (re.compile(r"^alter\s+(?:column\s+)?(?!constraint\b)\S+", re.I), "alter column"),
    (re.compile(r"^(?:enable|disable|force|no\s+force)\s+row\s+level\s+security\b", re.I),
     "row level security"),
    (re.compile(r"^(?:set|reset)\s*\(\s*(?:(?:toast\.)?autovacuum_\w+|fillfactor|"
                r"toast_tuple_target|parallel_workers)(?:\s*=\s*[^,)]+)?"
                r"(?:\s*,\s*(?:(?:toast\.)?autovacuum_\w+|fillfactor|toast_tuple_target|"
                r"parallel_workers)(?:\s*=\s*[^,)]+)?)*\s*\)\s*$", re.I),
     "set storage parameter"),
)

# pg_locks' names of the lock levels
PG_LOCK_NAMES = {"AccessShareLock": "ACCESS SHARE", "RowShareLock": "ROW SHARE",
                 "RowExclusiveLock": ROW_EXCLUSIVE, "ShareUpdateExclusiveLock":
                 SHARE_UPDATE_EXCLUSIVE, "ShareLock": SHARE, "ShareRowExclusiveLock":
                 SHARE_ROW_EXCLUSIVE, "ExclusiveLock": "EXCLUSIVE",
                 "AccessExclusiveLock": ACCESS_EXCLUSIVE}


def stronger(observed: str, predicted: str) -> bool:
    """Whether a lock seen (pg_locks' name) is stronger than the one the table predicted."""
    return _STRENGTH.get(PG_LOCK_NAMES.get(observed, observed), 0) > _STRENGTH.get(predicted, 8)


def top_level_commas(text: str) -> list[str]:
    parts: list[str] = []
    depth, start, i, n = 0, 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if text[end] == ch:
                    if text.startswith(ch * 2, end):
                        end += 2
                        continue
                    break
                end += 1
            i = end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def action_kind(action: str) -> str:
    return next((k for rx, k in _ACTION_KINDS if rx.match(action)), "alter table")


def _strongest(kinds: list[str]) -> str:
    return max(kinds, key=lambda k: (_STRENGTH[KINDS[k].lock], KINDS[k].destructive,
                                     KINDS[k].scan))


def classify(text: str) -> tuple[str, str | None, list[str]]:
    """A normalised statement's kind, its table, and other tables it locks."""
    if m := _RX["create_index"].match(text):
        return ("create index concurrently" if m.group("conc") else "create index",
                m.group("table"), [])
    if m := _RX["reindex"].match(text):
        return ("reindex concurrently" if m.group("conc") else "reindex", m.group("name"), [])
    if m := _RX["drop_index"].match(text):
        return ("drop index concurrently" if m.group("conc") else "drop index",
                m.group("name"), [])
    if m := _RX["rename_index"].match(text):
        return "rename index", m.group("name"), []
    if m := _RX["alter_table"].match(text):
        kinds = [action_kind(a) for a in top_level_commas(m.group("actions"))]
        others = [r.group(1) for r in re.finditer(rf"\breferences\s+({QNAME})", text, re.I)]
        return _strongest(kinds or ["alter table"]), m.group("table"), others
    simple = (("create_table", "create table", "name"),
              ("create_trigger", "create trigger", "table"),
              ("create_policy", "create policy", "table"), ("delete", "delete", "table"),
              ("update", "update", "table"), ("alter_sequence", "alter sequence", "name"),
              ("lock", "lock table", "table"), ("vacuum", "vacuum", "table"),
              ("analyze", "analyze", "table"), ("drop_policy", "drop policy", "table"))
    for rx, kind, group in simple:
        if m := _RX[rx].match(text):
            return kind, m.group(group), []
    if _RX["rename_schema"].match(text):
        return "rename schema", None, []
    for rx, kind in (("create_function", "create function"), ("grant", "grant or revoke"),
                     ("comment", "comment"), ("alter_database", "alter database"),
                     ("alter_system", "alter system"), ("alter_role", "alter role"),
                     ("reload", "reload configuration"), ("drop_other", "drop other")):
        if _RX[rx].match(text):
            return kind, None, []
    return "other", None, []


# --- guards: a second run is harmless ------------------------------------------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _dollar(body: str) -> str:
    tag = "pgaudit"
    while f"${tag}$" in body:
        tag += "_"
    return f"${tag}$"


def do_block(condition: str, body: str) -> str:
    """``body`` run only when ``condition`` holds, in a DO block (plpgsql runs DDL as is)."""
    quote = _dollar(body)
    return (f"do {quote}\nbegin\n  if {condition} then\n    {body};\n  end if;\nend\n{quote}")


def _constraint_name(action: str) -> str | None:
    m = re.match(rf"^add\s+constraint\s+({IDENT})", action, re.I)
    return m.group(1) if m else None


def unquote(name: str) -> str:
    """An identifier as the catalog stores it."""
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()


def guard(text: str, kind: str, table: str | None) -> str:
    """The statement (normalised, no semicolon) in a form that does nothing the second time."""
    if kind in ("create index", "create index concurrently"):
        m = _RX["create_index"].match(text)
        if m and not m.group("ine") and m.group("name"):
            head = "create unique index" if m.group("unique") else "create index"
            conc = " concurrently" if m.group("conc") else ""
            return f"{head}{conc} if not exists {text[m.start('name'):]}"
        return text
    if kind in ("drop index", "drop index concurrently"):
        m = _RX["drop_index"].match(text)
        if m and not m.group("ie"):
            conc = " concurrently" if m.group("conc") else ""
            return f"drop index{conc} if exists {text[m.start('name'):]}"
        return text
    if kind == "rename index":
        m = _RX["rename_index"].match(text)
        if m and not m.group("ie"):
            return f"alter index if exists {text[m.start('name'):]}"
        return text
    if kind == "create table":
        m = _RX["create_table"].match(text)
        if m and not m.group("ine"):
            return f"{text[:m.start('name')]}if not exists {text[m.start('name'):]}"
        return text
    if kind == "create function":
        m = _RX["create_function"].match(text)
        if m and not m.group("orr"):
            return "create or replace " + text[len("create "):].lstrip()
        return text
    if kind == "create trigger":
        m = _RX["create_trigger"].match(text)
        if m:
            cond = (f"not exists (select 1 from pg_catalog.pg_trigger where tgrelid = "
                    f"pg_catalog.to_regclass({_literal(m.group('table'))}) and tgname = "
                    f"{_literal(unquote(m.group('name')))})")
            return do_block(cond, text)
        return text
    if kind == "create policy":
        m = _RX["create_policy"].match(text)
        if m:
            cond = (f"not exists (select 1 from pg_catalog.pg_policy where polrelid = "
                    f"pg_catalog.to_regclass({_literal(m.group('table'))}) and polname = "
                    f"{_literal(unquote(m.group('name')))})")
            return do_block(cond, text)
        return text
    if kind == "rename schema":
        m = _RX["rename_schema"].match(text)
        if m:
            cond = (f"exists (select 1 from pg_catalog.pg_namespace where nspname = "
                    f"{_literal(unquote(m.group('name')))})")
            return do_block(cond, text)
        return text
    m = _RX["alter_table"].match(text)
    if m and table and kind == "rename table" and not m.group("ie"):
        return f"alter table if exists {text[m.start('only' if m.group('only') else 'table'):]}"
    if m and table and kind == "rename column":
        col = re.match(rf"^rename\s+(?:column\s+)?({IDENT})\s+to\s+", m.group("actions"), re.I)
        if col:
            cond = (f"exists (select 1 from pg_catalog.pg_attribute where attrelid = "
                    f"pg_catalog.to_regclass({_literal(table)}) and attname = "
                    f"{_literal(unquote(col.group(1)))} and not attisdropped)")
            return do_block(cond, text)
        return text
    if m and table and kind == "rename constraint":
        con = re.match(rf"^rename\s+constraint\s+({IDENT})\s+to\s+", m.group("actions"), re.I)
        if con:
            cond = (f"exists (select 1 from pg_catalog.pg_constraint where conrelid = "
                    f"pg_catalog.to_regclass({_literal(table)}) and conname = "
                    f"{_literal(unquote(con.group(1)))})")
            return do_block(cond, text)
        return text
    if m and table:
        actions = top_level_commas(m.group("actions"))
        rewritten: list[str] = []
        added: list[str] = []
        for action in actions:
            ak = action_kind(action)
            if ak == "add column" and not re.match(r"^add\s+column\s+if\s+not\s+exists\b",
                                                   action, re.I):
                body = re.sub(r"^add\s+(?:column\s+)?", "", action, flags=re.I)
                rewritten.append(f"add column if not exists {body}")
            elif ak == "drop constraint" and not re.match(r"^drop\s+constraint\s+if\s+exists",
                                                          action, re.I):
                rewritten.append(re.sub(r"^drop\s+constraint\s+", "drop constraint if exists ",
                                        action, flags=re.I))
            elif ak == "drop column" and not re.search(r"\bif\s+exists\b", action, re.I):
                body = re.sub(r"^drop\s+(?:column\s+)?", "", action, flags=re.I)
                rewritten.append(f"drop column if exists {body}")
            else:
                if ak.startswith("add ") and (name := _constraint_name(action)):
                    added.append(name)
                rewritten.append(action)
        head = text[: m.start("actions")]
        new = head + ", ".join(rewritten)
        if added:
            names = ", ".join(_literal(unquote(n)) for n in added)
            cond = (f"not exists (select 1 from pg_catalog.pg_constraint where conrelid = "
                    f"pg_catalog.to_regclass({_literal(table)}) and conname in ({names}))")
            return do_block(cond, new)
        return new
    return text


# --- undo ----------------------------------------------------------------------------------


def undo_of(text: str, kind: str, table: str | None, catalog: Any = None) -> str | None:
    """The statement that reverses this one, where one exists. ``catalog`` (optional) gives
    definitions of what a drop removes: ``index_def(name)``, ``constraint_def(table, name)``."""
    if kind in ("create index", "create index concurrently"):
        m = _RX["create_index"].match(text)
        if m and m.group("name"):
            schema = _schema_of(m.group("table"))
            conc = " concurrently" if kind.endswith("concurrently") else ""
            return f"drop index{conc} if exists {schema}{m.group('name')};"
        return None
    if kind in ("drop index", "drop index concurrently") and catalog is not None:
        m = _RX["drop_index"].match(text)
        if m:
            definition = catalog.index_def(m.group("name"))
            if definition:
                return re.sub(r"^create (unique )?index ", r"create \1index if not exists ",
                              definition, flags=re.I) + ";"
        return None
    if kind == "rename index":
        m = _RX["rename_index"].match(text)
        if m:
            schema = _schema_of(m.group("name"))
            old = relation_key(m.group("name"))[-1]
            return f"alter index if exists {schema}{m.group('new')} rename to {quote_ident(old)};"
        return None
    if kind == "create table":
        m = _RX["create_table"].match(text)
        return f"drop table if exists {m.group('name')};" if m else None
    if kind == "create trigger":
        m = _RX["create_trigger"].match(text)
        return f"drop trigger if exists {m.group('name')} on {m.group('table')};" if m else None
    if kind == "create policy":
        m = _RX["create_policy"].match(text)
        return f"drop policy if exists {m.group('name')} on {m.group('table')};" if m else None
    if kind == "alter database":
        m = _RX["alter_database"].match(text)
        s = re.match(rf"^set\s+({IDENT}(?:\.{IDENT})?)\s*(?:=|to)", m.group("rest"), re.I) if m \
            else None
        return f"alter database {m.group('name')} reset {s.group(1)};" if m and s else None
    if kind == "rename schema":
        m = _RX["rename_schema"].match(text)
        return (f"alter schema {m.group('new')} rename to {m.group('name')};" if m else None)
    m = _RX["alter_table"].match(text)
    if m and table and kind in ("rename table", "rename column", "rename constraint"):
        r = re.match(rf"^rename\s+(?:(?P<what>column|constraint)\s+)?(?:(?P<old>{IDENT})\s+)?to\s+"
                     rf"(?P<new>{IDENT})\s*$", m.group("actions"), re.I)
        if not r:
            return None
        if kind == "rename table":
            schema = _schema_of(table)
            old = relation_key(table)[-1]
            return (f"alter table if exists {schema}{r.group('new')} rename to "
                    f"{quote_ident(old)};")
        what = "constraint " if kind == "rename constraint" else "column "
        return (f"alter table {table} rename {what}{r.group('new')} to {r.group('old')};"
                if r.group("old") else None)
    if m and table:
        undo: list[str] = []
        for action in top_level_commas(m.group("actions")):
            ak = action_kind(action)
            if ak.startswith("add") and ak != "add column" and (name := _constraint_name(action)):
                undo.append(f"drop constraint if exists {name}")
            elif ak == "add column":
                col = re.match(rf"^add\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?({IDENT})",
                               action, re.I)
                if col:
                    undo.append(f"drop column if exists {col.group(1)}")
            elif ak == "set not null":
                undo.append(re.sub(r"\bset\s+not\s+null\b", "drop not null", action, flags=re.I))
            elif ak == "row level security":
                undo.append(re.sub(r"^(enable|force)\b", lambda x: "disable" if x.group(1).lower()
                                   == "enable" else "no force", action, flags=re.I))
            elif ak == "drop constraint" and catalog is not None:
                dropped = re.match(rf"^drop\s+constraint\s+(?:if\s+exists\s+)?({IDENT})",
                                   action, re.I)
                definition = catalog.constraint_def(table, dropped.group(1)) if dropped else None
                if not definition or not dropped:
                    return None
                undo.append(f"add constraint {dropped.group(1)} {definition}")
            elif ak == "validate constraint":
                continue  # nothing to undo: the constraint stays, validated
            elif ak == "alter column type" and catalog is not None:
                col = re.match(rf"^alter\s+(?:column\s+)?({IDENT})", action, re.I)
                was = catalog.column_type(table, col.group(1)) if col else None
                if not col or not was:
                    return None
                # back to the type it has now (a cast that may fail on values only the new
                # type holds)
                undo.append(f"alter column {col.group(1)} type {was} using {col.group(1)}::{was}")
            else:
                return None
        if not undo:
            return None
        return f"alter table {table} {', '.join(reversed(undo))};"
    return None


def quote_ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _schema_of(qualified: str) -> str:
    parts = re.findall(IDENT, qualified)
    return f"{parts[0]}." if len(parts) > 1 else ""


# --- the plan's statements -----------------------------------------------------------------


@dataclass
class Source:
    """A finding's fix, as the planner reads it."""

    fingerprints: list[str]
    checks: list[str]
    remediation: str


def clean(statement: str) -> str:
    """A statement without its comments and final semicolon, its whitespace kept (a quoted
    name or a function body may hold runs of spaces and newlines that mean something)."""
    return _strip_comments(statement).strip().rstrip(";").rstrip()


def _note(statement: str) -> str | None:
    lines = [ln.strip()[2:].strip() for ln in statement.splitlines()
             if ln.strip().startswith("--")]
    return " ".join(lines) or None


def collect(sources: list[Source]) -> list[Statement]:
    """Every statement of the selected fixes, once: a statement several findings share carries
    all their fingerprints. In the order of the findings and of their statements."""
    by_text: dict[str, Statement] = {}
    blocks = 0
    for source in sources:
        block = 0
        for raw in statements(source.remediation):
            text = clean(raw)
            if not text:
                continue
            if tx := _TRANSACTION.match(text):  # the plan makes its own transactions
                if tx.group("begin"):
                    blocks += 1
                    block = blocks
                else:
                    block = 0
                continue
            kind, table, others = classify(text)
            key = normalise(text).lower()
            st = by_text.get(key)
            if st is None:
                st = Statement(sql=guard(text, kind, table) + ";", original=text + ";", kind=kind,
                               table=table, other_tables=others, note=_note(raw), block=block)
                by_text[key] = st
            for fp in source.fingerprints:
                if fp not in st.fingerprints:
                    st.fingerprints.append(fp)
            for check in source.checks:
                if check not in st.checks:
                    st.checks.append(check)
    return list(by_text.values())


def order(items: list[Statement]) -> list[Statement]:
    """Phases in order (create, clean, validate, drop, rename), the given order within each.
    A remediation's own BEGIN ... COMMIT block stays whole, in its order, at the place of its
    first statement."""
    first: dict[int, tuple[int, int]] = {}
    for n, st in enumerate(items):
        if st.block and st.block not in first:
            first[st.block] = (st.info.phase, n)

    def key(p: tuple[int, Statement]) -> tuple[int, int, int]:
        n, st = p
        if st.block:
            phase, at = first[st.block]
            return (phase, at, n)
        return (st.info.phase, n, 0)

    return [s for _, s in sorted(enumerate(items), key=key)]


def number(items: list[Statement], most: int = 10) -> list[Statement]:
    """Numbers and transaction groups, in the given order: each run of included transactional
    statements on one table (at most ``most``) is one short transaction; CONCURRENTLY, ALTER
    SYSTEM and the statements written commented out stand alone (group 0)."""
    group = 0
    last: tuple[Any, ...] | None = None
    size = 0
    for n, st in enumerate(items, 1):
        st.number = n
        if not st.info.transaction or not st.included:
            st.group = 0
            last = None
            continue
        key: tuple[Any, ...] = ("block", st.block) if st.block else (st.table, st.info.phase)
        if st.block and key == last:
            st.group = group
            continue
        if key != last or size >= most:
            group += 1
            size = 0
        st.group = group
        size += 1
        last = key
    return items
