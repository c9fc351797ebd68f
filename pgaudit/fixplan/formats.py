"""A plan written out: ``sql`` (one psql file), ``json`` (every annotation), ``alembic`` (one
revision) and ``flyway`` (a versioned migration and its undo).

Names and texts from the database only ever reach a comment after their line breaks are
folded (``_comment``): a hostile name cannot end a comment and become SQL. The statements
themselves were written by the checks with every identifier quoted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from pgaudit.fixplan.plan import Plan
from pgaudit.fixplan.statements import Statement

FORMATS = ("sql", "json", "alembic", "flyway")


def _comment(text: Any) -> str:
    """One line of comment text: no line break, no control character."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(text)).split())


def _size(n: int | None) -> str:
    if n is None:
        return "size unknown"
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


def describe(st: Statement) -> list[str]:
    """The comment lines above a statement."""
    k = st.info
    what = [f"[{st.number}] {st.kind}"]
    if st.table:
        what.append(f"on {st.table}")
    lines = [" ".join(what)]
    effects = [f"lock {k.lock}" if k.lock != "none" else "no table lock"]
    if k.rewrite:
        effects.append("rewrites the table")
    elif k.scan:
        effects.append("reads the whole table")
    if st.table_bytes is not None:
        effects.append(f"table {_size(st.table_bytes)}")
    if not k.transaction:
        effects.append("outside a transaction")
    if k.scope == "cluster":
        effects.append("server-wide")
    lines.append("; ".join(effects))
    if st.fingerprints:
        lines.append(f"fixes {', '.join(st.fingerprints)} ({', '.join(st.checks)})")
    if st.note:
        lines.append(f"note: {st.note}")
    if st.undo:
        lines.append(f"undo: {st.undo}")
    if st.resolves:
        lines.append(f"resolves the precondition of [{st.resolves}]")
    pre = st.precondition
    if pre and pre.get("status") == "fails":
        verdict = "WILL FAIL" if st.will_fail else "would fail without the statement before it"
        lines.append(f"{verdict}: {pre['count']} {pre['what']}")
        lines.append(f"list them: {pre['list_query']}")
    elif pre and pre.get("status") == "unknown":
        lines.append(f"precondition {pre['what']}: {pre.get('reason')}")
    elif pre:
        lines.append(f"precondition holds: 0 {pre['what']}")
    if not st.included and st.excluded_because:
        lines.append(st.excluded_because)
    return [f"-- {_comment(line)}" for line in lines]


def _commented(sql: str) -> str:
    return "\n".join(f"-- {line}" if line.strip() else "--" for line in sql.splitlines())


def _header(plan: Plan) -> list[str]:
    t = plan.target
    failing = plan.predicted_failures
    lines = [
        f"pgaudit fix plan for {t.get('display') or t.get('database')}",
        f"generated {plan.generated_at}: {len(plan.statements)} statements for "
        f"{len(plan.findings)} findings, {len(failing)} predicted to fail",
    ]
    for st in failing:
        pre = st.precondition or {}
        lines.append(f"predicted failure [{st.number}]: {pre.get('count')} {pre.get('what')}")
    lines.append("CONCURRENTLY statements run outside transactions; the others in short "
                 f"transactions with lock_timeout {plan.options.lock_timeout}")
    return [f"-- {_comment(line)}" for line in lines]


def to_sql(plan: Plan) -> str:
    """One psql file: stops at the first error; each statement with its comments."""
    out = _header(plan)
    out += ["", "\\set ON_ERROR_STOP on",
            f"set lock_timeout = '{_quote(plan.options.lock_timeout)}';", ""]
    open_group = 0
    for st in plan.statements:
        if open_group and st.group != open_group:
            out += ["commit;", ""]
            open_group = 0
        if st.group and st.group != open_group:
            out += ["begin;", f"set local lock_timeout = '{_quote(plan.options.lock_timeout)}';"]
            open_group = st.group
        out += describe(st)
        out.append(st.sql if st.included else _commented(st.sql))
        out.append("")
    if open_group:
        out += ["commit;", ""]
    return "\n".join(out)


def _quote(text: str) -> str:
    return text.replace("'", "''")


def to_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"


# --- alembic ---------------------------------------------------------------------------------

_BIND = re.compile(r"(?<![:\w\\]):(?=\w)")


def _alembic_text(sql: str) -> str:
    """SQL for ``op.execute``: a string becomes ``text()``, where ``:name`` is a parameter."""
    return _BIND.sub(r"\\:", sql)


def to_alembic(plan: Plan, revision: str | None = None, down_revision: str | None = None
               ) -> str:
    """One Alembic revision: ``op.execute`` per included statement (CONCURRENTLY ones in an
    autocommit block), the undo statements in reverse order in ``downgrade``."""
    rev = revision or dt.datetime.now(dt.UTC).strftime("pgaudit%Y%m%d%H%M%S")
    included = [s for s in plan.statements if s.included]
    up: list[str] = [f"    op.execute({_alembic_text(_lock(plan))!r})"]
    for st in included:
        up += [f"    # {line[3:]}" for line in describe(st)]
        up += _op(st.sql, st.info.transaction)
    down: list[str] = []
    for st in reversed(included):
        if st.undo:
            down += [f"    # undo [{st.number}] {_comment(st.kind)}"]
            down += _op(st.undo, st.info.transaction)
    lines = [
        f'"""pgaudit fixes for {_docsafe(plan.target.get("database"))}',
        "",
        f"Revision ID: {rev}",
        f"Revises: {down_revision or ''}",
        f"Create Date: {plan.generated_at}",
        '"""',
        "",
        "from alembic import op",
        "",
        f"revision = {rev!r}",
        f"down_revision = {down_revision!r}",
        "branch_labels = None",
        "depends_on = None",
        "",
        "",
        "def upgrade() -> None:",
        *up,
        "",
        "",
        "def downgrade() -> None:",
        *(down or ["    pass"]),
        "",
    ]
    return "\n".join(lines)


def _docsafe(text: Any) -> str:
    """A name inside the revision's docstring: it cannot close it nor escape."""
    return _comment(text).replace("\\", "/").replace('"', "'")


def _lock(plan: Plan) -> str:
    return f"set lock_timeout = '{_quote(plan.options.lock_timeout)}'"


def _op(sql: str, transaction: bool) -> list[str]:
    call = f"op.execute({_alembic_text(sql.rstrip(';'))!r})"
    if transaction:
        return [f"    {call}"]
    return ["    with op.get_context().autocommit_block():", f"        {call}"]


# --- flyway ----------------------------------------------------------------------------------


def to_flyway(plan: Plan, when: dt.datetime | None = None) -> dict[str, str]:
    """File name -> content: ``V<timestamp>__pgaudit_fixes.sql``, its undo
    ``U<timestamp>__pgaudit_fixes.sql``, and when a statement cannot run in a transaction
    (CONCURRENTLY), ``.conf`` files telling Flyway to run them outside one."""
    stamp = (when or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")
    name = f"{stamp}__pgaudit_fixes.sql"
    up = [*_header(plan), f"set lock_timeout = '{_quote(plan.options.lock_timeout)}';", ""]
    for st in plan.statements:
        up += describe(st)
        up.append(st.sql if st.included else _commented(st.sql))
        up.append("")
    undo = [f"-- undo of V{name}", ""]
    for st in reversed([s for s in plan.statements if s.included]):
        if st.undo:
            undo += [f"-- undo [{st.number}] {_comment(st.kind)}", st.undo, ""]
    files = {f"V{name}": "\n".join(up), f"U{name}": "\n".join(undo)}
    if any(not s.info.transaction for s in plan.statements if s.included):
        files[f"V{name}.conf"] = "executeInTransaction=false\n"
        files[f"U{name}.conf"] = "executeInTransaction=false\n"
    return files


def write(plan: Plan, fmt: str, output: Path) -> list[Path]:
    """Write the plan; the files written. ``flyway`` writes into the folder ``output``."""
    if fmt == "flyway":
        output.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in to_flyway(plan).items():
            path = output / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written
    text = {"sql": to_sql, "json": to_json, "alembic": to_alembic}[fmt](plan)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return [output]
