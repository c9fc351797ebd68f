"""Data preconditions, predicted on the audited database before the plan is written.

Each statement that can fail on the data gets one counting query, run in the read-only audit
session under a bounded ``statement_timeout`` (``SET LOCAL`` in its own transaction):

- VALIDATE CONSTRAINT / ADD FOREIGN KEY: the orphan rows (MATCH SIMPLE: a row with a null in
  the key is not checked);
- a unique index built or rebuilt (CREATE UNIQUE INDEX, REINDEX of a unique index): the key
  values held by more than one row (nulls never conflict, unless NULLS NOT DISTINCT);
- SET NOT NULL: the nulls; CHECK (added valid, or validated): the rows for which it is false;
- ALTER COLUMN TYPE to a narrower integer or a shorter varchar: the values out of range.

The constraint a VALIDATE names is read from the plan's own ADD CONSTRAINT when the plan adds
it, else from the catalog. A failing precondition records its count, the counting query and
the query listing the offending rows; where a deleting statement resolves it (orphans,
duplicates), that statement is proposed too, destructive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from pgaudit.fixplan.statements import (
    IDENT,
    QNAME,
    Statement,
    action_kind,
    clean,
    top_level_commas,
    unquote,
)

LIST_LIMIT = 100

_INT_RANGES = {
    "smallint": (-32768, 32767), "int2": (-32768, 32767),
    "integer": (-2147483648, 2147483647), "int": (-2147483648, 2147483647),
    "int4": (-2147483648, 2147483647),
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Catalog:
    """Reads of the audited database for the planner: definitions, sizes, counts. Every read
    is its own transaction in the read-only session; an error is answered with None."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]], timeout_ms: int = 10000):
        self.conn = conn
        self.timeout_ms = timeout_ms

    def _one(self, sql: str, params: Any = None, timeout_ms: int | None = None
             ) -> tuple[dict[str, Any] | None, str | None]:
        try:
            with self.conn.cursor() as cur:
                cur.execute("select set_config('statement_timeout', %s, true)",
                            [f"{timeout_ms or self.timeout_ms}ms"])
                cur.execute(sql, params)  # type: ignore[arg-type]
                row = cur.fetchone()
            self.conn.rollback()
            return row, None
        except psycopg.Error as exc:
            self.conn.rollback()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return None, first

    def index_def(self, name: str) -> str | None:
        row, _ = self._one("select pg_catalog.pg_get_indexdef(pg_catalog.to_regclass(%s)) as d",
                           [name])
        return row["d"] if row else None

    def index_is_unique(self, name: str) -> bool:
        row, _ = self._one("select i.indisunique as u from pg_catalog.pg_index i"
                           " where i.indexrelid = pg_catalog.to_regclass(%s)", [name])
        return bool(row and row["u"])

    def constraint_def(self, table: str, name: str) -> str | None:
        row, _ = self._one(
            "select pg_catalog.pg_get_constraintdef(c.oid) as d from pg_catalog.pg_constraint c"
            " where c.conrelid = pg_catalog.to_regclass(%s) and c.conname = %s",
            [table, unquote(name)])
        return row["d"] if row else None

    def column_type(self, table: str, column: str) -> str | None:
        """A column's type as SQL writes it (``character varying(20)``)."""
        row, _ = self._one(
            "select pg_catalog.format_type(a.atttypid, a.atttypmod) as t"
            " from pg_catalog.pg_attribute a where a.attrelid = pg_catalog.to_regclass(%s)"
            " and a.attname = %s and not a.attisdropped", [table, unquote(column)])
        return row["t"] if row else None

    def primary_key(self, table: str) -> list[str]:
        row, _ = self._one(
            "select array(select pg_catalog.quote_ident(a.attname) from pg_catalog.pg_index i"
            " cross join lateral unnest(i.indkey::int2[]) with ordinality k(attnum, ord)"
            " join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum"
            " where i.indrelid = pg_catalog.to_regclass(%s) and i.indisprimary"
            " order by k.ord) as cols", [table])
        return list(row["cols"]) if row else []

    def table_bytes(self, relation: str) -> int | None:
        """The size of the table (of an index: of its table), under the session's
        lock_timeout: a size function opens the relation."""
        row, _ = self._one(
            "select pg_catalog.pg_table_size(coalesce((select i.indrelid from pg_catalog.pg_index i"
            " where i.indexrelid = pg_catalog.to_regclass(%(r)s)), pg_catalog.to_regclass(%(r)s)))"
            " as b", {"r": relation})
        return int(row["b"]) if row and row["b"] is not None else None

    def count(self, sql: str) -> tuple[int | None, str | None]:
        row, error = self._one(sql)
        if row is None:
            return None, error
        return int(next(iter(row.values()))), None


@dataclass
class Check:
    """One precondition: what is counted, how, how to list the offenders, how to clean."""

    what: str
    count_sql: str
    list_sql: str
    resolve_sql: str | None = None


def _split_fk(definition: str) -> tuple[list[str], str, list[str]] | None:
    m = re.search(rf"foreign\s+key\s*\((?P<cols>[^)]*)\)\s*references\s+(?P<ref>{QNAME})\s*"
                  r"(?:\((?P<refcols>[^)]*)\))?", definition, re.I)
    if not m:
        return None
    cols = [c.strip() for c in m.group("cols").split(",")]
    refcols = [c.strip() for c in (m.group("refcols") or "").split(",") if c.strip()]
    if not all(re.fullmatch(IDENT, c) for c in cols + refcols):
        return None
    return cols, m.group("ref"), refcols


def fk_orphans(table: str, definition: str, catalog: Catalog | None) -> Check | None:
    parts = _split_fk(definition)
    if parts is None:
        return None
    cols, ref, refcols = parts
    if not refcols and catalog is not None:
        refcols = catalog.primary_key(ref)
    if len(refcols) != len(cols):
        return None
    notnull = " and ".join(f"c.{c} is not null" for c in cols)
    match = " and ".join(f"p.{r} = c.{c}" for c, r in zip(cols, refcols, strict=True))
    where = f"{notnull} and not exists (select 1 from {ref} p where {match})"
    return Check(
        what=f"orphan rows in {table} ({', '.join(cols)} not found in {ref})",
        count_sql=f"select count(*) from {table} c where {where}",
        list_sql=f"select c.* from {table} c where {where} limit {LIST_LIMIT}",
        resolve_sql=f"delete from {table} c where {where};",
    )


def _balanced(text: str, start: int) -> int:
    """The index just past the parenthesis closing the one at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while end >= 0 and text.startswith(ch * 2, end):
                end = text.find(ch, end + 2)
            i = len(text) if end < 0 else end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def check_violations(table: str, definition: str) -> Check | None:
    m = re.search(r"\bcheck\s*\(", definition, re.I)
    if not m:
        return None
    start = m.end() - 1
    expr = definition[start:_balanced(definition, start)]
    return Check(
        what=f"rows of {table} for which CHECK {expr} is false",
        count_sql=f"select count(*) from {table} where not {expr}",
        list_sql=f"select * from {table} where not {expr} limit {LIST_LIMIT}",
    )


def _index_parts(definition: str) -> tuple[str, list[str], str | None, bool] | None:
    """A CREATE [UNIQUE] INDEX's table, key expressions, WHERE predicate, NULLS NOT DISTINCT."""
    m = re.search(rf"\bon\s+(?:only\s+)?(?P<table>{QNAME})\s*(?:using\s+\w+\s*)?\(", definition,
                  re.I)
    if not m:
        return None
    start = m.end() - 1
    end = _balanced(definition, start)
    keys: list[str] = []
    for key in top_level_commas(definition[start + 1:end - 1]):
        if key.startswith("("):
            keys.append(key[:_balanced(key, 0)])
        else:
            ident = re.match(IDENT, key)
            if not ident:
                return None
            keys.append(ident.group(0))
    rest = definition[end:]
    where = re.search(r"\bwhere\s+(.*)$", rest, re.I | re.S)
    nnd = bool(re.search(r"\bnulls\s+not\s+distinct\b", rest, re.I))
    return m.group("table"), keys, where.group(1).strip() if where else None, nnd


def duplicate_keys(definition: str) -> Check | None:
    parts = _index_parts(definition)
    if parts is None:
        return None
    table, keys, where, nulls_not_distinct = parts
    conds = [] if nulls_not_distinct else [f"{k} is not null" for k in keys]
    if where:
        conds.insert(0, f"({where})")
    filt = f" where {' and '.join(conds)}" if conds else ""
    cols = ", ".join(keys)
    return Check(
        what=f"key values of {table} ({cols}) held by more than one row",
        count_sql=(f"select count(*) from (select 1 from {table}{filt} group by {cols}"
                   f" having count(*) > 1) d"),
        list_sql=(f"select {cols}, count(*) as rows from {table}{filt} group by {cols}"
                  f" having count(*) > 1 order by count(*) desc limit {LIST_LIMIT}"),
        # keeps the first row of each key (physical order): review which one to keep first
        resolve_sql=(f"delete from {table} where ctid in (select ctid from (select ctid,"
                     f" row_number() over (partition by {cols} order by ctid) as n"
                     f" from {table}{filt}) d where d.n > 1);"),
    )


def nulls(table: str, column: str) -> Check:
    return Check(
        what=f"nulls in {table}.{column}",
        count_sql=f"select count(*) from {table} where {column} is null",
        list_sql=f"select * from {table} where {column} is null limit {LIST_LIMIT}",
    )


def out_of_range(table: str, column: str, target: str) -> Check | None:
    t = " ".join(target.lower().split())
    base = re.sub(r"\s+using\b.*$", "", t)
    if base in _INT_RANGES:
        lo, hi = _INT_RANGES[base]
        cond = f"{column}::numeric not between {lo} and {hi}"
    elif m := re.fullmatch(r"(?:character\s+varying|varchar|character|char)\s*\(\s*(\d+)\s*\)",
                           base):
        cond = f"pg_catalog.char_length({column}::text) > {int(m.group(1))}"
    else:
        return None
    return Check(
        what=f"values of {table}.{column} out of range for {base}",
        count_sql=f"select count(*) from {table} where {cond}",
        list_sql=f"select * from {table} where {cond} limit {LIST_LIMIT}",
    )


# --- which statement needs which check -----------------------------------------------------


def _added_constraints(plan: list[Statement]) -> dict[tuple[str, str], str]:
    """(table, constraint name) -> definition, for the constraints the plan adds."""
    out: dict[tuple[str, str], str] = {}
    for st in plan:
        m = re.match(rf"^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?({QNAME})\s+(.*)$",
                     clean(st.original), re.I | re.S)
        if not m:
            continue
        for action in top_level_commas(m.group(2)):
            c = re.match(rf"^add\s+constraint\s+({IDENT})\s+(.*)$", action, re.I | re.S)
            if c:
                out[m.group(1), unquote(c.group(1))] = c.group(2)
    return out


def checks_for(st: Statement, plan: list[Statement], catalog: Catalog | None) -> list[Check]:
    """The data preconditions of one statement."""
    text = clean(st.original)
    found: list[Check] = []
    if st.kind in ("create index", "create index concurrently"):
        if re.match(r"^create\s+unique\b", text, re.I) and (c := duplicate_keys(text)):
            found.append(c)
        return found
    if st.kind in ("reindex", "reindex concurrently") and catalog is not None and st.table:
        if catalog.index_is_unique(st.table):
            index_def = catalog.index_def(st.table)
            if index_def and (c := duplicate_keys(index_def)):
                found.append(c)
        return found
    m = re.match(rf"^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?({QNAME})\s+(.*)$", text,
                 re.I | re.S)
    if not m:
        return found
    table = m.group(1)
    added = _added_constraints(plan)
    for action in top_level_commas(m.group(2)):
        kind = action_kind(action)
        definition: str | None = None
        if kind in ("add foreign key", "add check"):
            definition = action
        elif kind == "validate constraint":
            name = re.match(rf"^validate\s+constraint\s+({IDENT})", action, re.I)
            if name:
                definition = added.get((table, unquote(name.group(1))))
                if definition is None and catalog is not None:
                    definition = catalog.constraint_def(table, name.group(1))
        elif kind == "set not null":
            col = re.match(rf"^alter\s+(?:column\s+)?({IDENT})", action, re.I)
            if col:
                found.append(nulls(table, col.group(1)))
            continue
        elif kind == "alter column type":
            col = re.match(rf"^alter\s+(?:column\s+)?({IDENT})\s+(?:set\s+data\s+)?type\s+(.*)$",
                           action, re.I | re.S)
            if col and (c := out_of_range(table, col.group(1), col.group(2))):
                found.append(c)
            continue
        if not definition:
            continue
        if re.search(r"\bforeign\s+key\b", definition, re.I):
            if c := fk_orphans(table, definition, catalog):
                found.append(c)
        elif re.search(r"\bcheck\s*\(", definition, re.I) and (
                c := check_violations(table, definition)):
            found.append(c)
    return found


def predict(st: Statement, plan: list[Statement], catalog: Catalog
            ) -> list[tuple[Check, dict[str, Any]]]:
    """Run the statement's counting queries: (check, the precondition's record) each."""
    out: list[tuple[Check, dict[str, Any]]] = []
    for check in checks_for(st, plan, catalog):
        count, error = catalog.count(check.count_sql)
        record: dict[str, Any] = {
            "what": check.what,
            "count_query": check.count_sql + ";",
            "list_query": check.list_sql + ";",
            "statement_timeout_ms": catalog.timeout_ms,
        }
        if count is None:
            record.update(status="unknown", count=None, reason=_why_unknown(error))
        else:
            record.update(status="fails" if count else "holds", count=count)
        out.append((check, record))
    return out


def _why_unknown(error: str | None) -> str:
    text = error or "no answer"
    if "does not exist" in text:
        return f"not counted: {text} (an object the plan creates first)"
    if "statement timeout" in text:
        return f"not counted: {text}"
    return f"not counted: {text}"
