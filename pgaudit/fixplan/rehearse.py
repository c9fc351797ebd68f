"""Rehearse a plan on a throwaway copy, then audit the copy again.

The copy is audited before and after the plan: a targeted finding is **resolved** when the
copy had it before and not after, **remaining** when it is still there, **not reproduced**
when the copy never had it (statistics, server settings, rows the sample left out).

Each statement runs on its own: a transactional one in ``BEGIN; SET LOCAL lock_timeout; …;
COMMIT`` with the locks it holds read from ``pg_locks`` before the commit; a CONCURRENTLY one
in autocommit, its locks sampled from a second session while it runs. Statements written
commented out, and server-wide ones (ALTER SYSTEM, ALTER ROLE: they would change the server
the copy lives on), are skipped. ``ALTER DATABASE <audited>`` runs against the copy.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions
from pgaudit.fixplan.plan import Plan
from pgaudit.fixplan.statements import IDENT, Statement, quote_ident, stronger, unquote
from pgaudit.model import Finding

_LOCKS = """
select pg_catalog.format('%%I.%%I', n.nspname, c.relname) as relation, l.mode
from pg_catalog.pg_locks l
join pg_catalog.pg_class c on c.oid = l.relation
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where l.pid = %s and l.locktype = 'relation' and l.granted and c.relkind in ('r', 'p')
  and n.nspname not like 'pg\\_%%' and n.nspname <> 'information_schema'
order by 1, 2
"""


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def for_copy(st: Statement, audited: str, copy: str) -> str:
    """The statement as it runs on the copy: ``ALTER DATABASE <audited>`` names the copy."""
    if st.kind != "alter database":
        return st.sql
    m = re.match(rf"^(\s*alter\s+database\s+)({IDENT})", st.sql, re.I)
    if m and unquote(m.group(2)) == audited:
        return m.group(1) + quote_ident(copy) + st.sql[m.end():]
    return st.sql


class _LockSampler:
    """Polls pg_locks for one backend from a second session while a statement runs."""

    def __init__(self, dsn: str, pid: int) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.pid = pid
        self.seen: set[tuple[str, str]] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                for rel, mode in self.conn.execute(_LOCKS, [self.pid]).fetchall():
                    self.seen.add((rel, mode))
            except psycopg.Error:
                return
            time.sleep(0.005)

    def __enter__(self) -> _LockSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.conn.close()


def run_statements(plan: Plan, copy_dsn: str, audited_db: str) -> None:
    """Apply the plan on the copy, statement by statement; each records its result."""
    conn = psycopg.connect(copy_dsn, autocommit=True)
    try:
        copy_db = conn.execute("select current_database()").fetchone()[0]  # type: ignore[index]
        pid = conn.info.backend_pid
        for st in plan.statements:
            if not st.included:
                st.rehearsal = {"status": "skipped", "reason": "written commented out"}
                continue
            if st.info.scope == "cluster":
                st.rehearsal = {"status": "skipped",
                                "reason": "server-wide: not rehearsed on the copy's server"}
                continue
            sql = for_copy(st, audited_db, copy_db)
            locks: set[tuple[str, str]] = set()
            error: str | None = None
            sqlstate: str | None = None
            started = time.perf_counter()
            try:
                if st.info.transaction:
                    with conn.transaction():
                        conn.execute("select set_config('lock_timeout', %s, true)",
                                     [plan.options.lock_timeout])
                        conn.execute(sql)  # type: ignore[arg-type]
                        locks = {(r, m) for r, m in conn.execute(_LOCKS, [pid]).fetchall()}
                else:
                    conn.execute("select set_config('lock_timeout', %s, false)",
                                 [plan.options.lock_timeout])
                    with _LockSampler(copy_dsn, pid) as sampler:
                        conn.execute(sql)  # type: ignore[arg-type]
                    locks = sampler.seen
            except psycopg.Error as exc:
                error, sqlstate = _first(exc), exc.sqlstate
            duration = (time.perf_counter() - started) * 1000
            st.rehearsal = {
                "status": "failed" if error else "applied",
                "error": error,
                "sqlstate": sqlstate,
                "duration_ms": round(duration, 1),
                "locks": [{"relation": r, "mode": m} for r, m in sorted(locks)],
            }
            if sql != st.sql:
                st.rehearsal["ran_as"] = sql
    finally:
        conn.close()


# --- the re-audit ----------------------------------------------------------------------------


def _identity(part: dict[str, Any] | Finding, databases: set[str]) -> tuple[Any, ...]:
    get = part.get if isinstance(part, dict) else lambda k: getattr(part, k)
    obj = str(get("object"))
    if get("object_type") == "database" and unquote(obj) in databases:
        obj = "<database>"
    # not the index's name: a rename in the plan (identifier_requires_quoting) changes it
    return (get("check"), obj, tuple(get("columns") or ()))


@dataclass
class Audit:
    """How the copy is audited: the checks of the targeted findings, the run's options."""

    specs: list[CheckSpec]
    options: AuditOptions


def audit_identities(dsn: str, how: Audit, databases: set[str]) -> set[tuple[Any, ...]]:
    from pgaudit.api import run_audit

    run = run_audit(dsn, how.specs, how.options)
    return {_identity(p, databases) for f in run.findings if f.severity != "ok"
            for p in f.parts()}


def outcomes(plan: Plan, before: set[tuple[Any, ...]], after: set[tuple[Any, ...]],
             databases: set[str]) -> dict[str, list[dict[str, Any]]]:
    """resolved / remaining / not_reproduced, each a list of the plan's finding briefs."""
    out: dict[str, list[dict[str, Any]]] = {"resolved": [], "remaining": [],
                                             "not_reproduced": []}
    by_number = {s.number: s for s in plan.statements}
    for brief in plan.findings:
        ids = [_identity(p, databases) for p in brief["parts"]]
        had = [i for i in ids if i in before]
        item = {k: brief[k] for k in ("fingerprint", "check", "object", "columns", "title")}
        if not had:
            out["not_reproduced"].append(item)
        elif any(i in after for i in had):
            why = sorted({f"[{n}] {(by_number[n].rehearsal or {}).get('status')}"
                          for n in brief["statements"]
                          if (by_number[n].rehearsal or {}).get("status") != "applied"})
            item["statements_not_applied"] = why
            if not why:
                item["reason"] = ("every statement applied: the fix is incomplete, or another "
                                  "statement of the plan raises the finding again")
            out["remaining"].append(item)
        else:
            out["resolved"].append(item)
    return out


def lock_time(statements: Iterable[Statement]) -> dict[str, dict[str, float]]:
    """table -> lock mode -> milliseconds held, summed over the applied statements."""
    total: dict[str, dict[str, float]] = {}
    for st in statements:
        r = st.rehearsal or {}
        if r.get("status") not in ("applied", "failed"):
            continue
        for lock in r.get("locks") or []:
            modes = total.setdefault(lock["relation"], {})
            modes[lock["mode"]] = round(modes.get(lock["mode"], 0.0) + r["duration_ms"], 1)
    return dict(sorted(total.items()))


def lock_surprises(statements: Iterable[Statement]) -> list[dict[str, Any]]:
    """Statements that held a stronger lock on their own table than the lock table says."""
    out: list[dict[str, Any]] = []
    for st in statements:
        r = st.rehearsal or {}
        if r.get("status") != "applied" or not st.table or st.kind == "create table":
            continue  # (a table being created is locked by its creator: nobody waits)
        for lock in r.get("locks") or []:
            if lock["relation"] == st.table and stronger(lock["mode"], st.lock):
                out.append({"number": st.number, "kind": st.kind, "predicted": st.lock,
                            "observed": lock["mode"]})
    return out


def summarise(plan: Plan) -> dict[str, Any]:
    statuses = [(s.rehearsal or {}).get("status") for s in plan.statements]
    predicted = {s.number for s in plan.statements if s.will_fail}
    failed = {s.number for s in plan.statements if (s.rehearsal or {}).get("status") == "failed"}
    return {
        "applied": statuses.count("applied"),
        "failed": statuses.count("failed"),
        "skipped": statuses.count("skipped"),
        "failures": [{"number": s.number, "sql": s.sql, "error": (s.rehearsal or {})["error"],
                      "predicted": s.number in predicted}
                     for s in plan.statements if s.number in failed],
        "predicted_and_confirmed": sorted(predicted & failed),
        "predicted_not_confirmed": sorted(predicted - failed),
        "failed_unpredicted": sorted(failed - predicted),
        "lock_ms_by_table": lock_time(plan.statements),
        "locks_stronger_than_predicted": lock_surprises(plan.statements),
    }


def markdown(plan: Plan) -> str:
    """The short Markdown summary of a rehearsal."""
    from pgaudit.render import md

    r = plan.rehearsal or {}
    s = r.get("summary") or {}
    version = (r.get("copy") or {}).get("server_version")
    lines = [f"# Rehearsal of the pgaudit fix plan for {md(plan.target.get('database'))}", "",
             f"Copy: {md(r.get('mode'))}, PostgreSQL {md(version)}",
             "", f"- applied: {s.get('applied', 0)}", f"- failed: {s.get('failed', 0)}",
             f"- skipped: {s.get('skipped', 0)}", ""]
    if s.get("failures"):
        lines += ["## Failed", ""]
        for f in s["failures"]:
            tag = "predicted" if f["predicted"] else "not predicted"
            lines.append(f"- [{f['number']}] {md(f['sql'])}: {md(f['error'])} ({tag})")
        lines.append("")
    outcome = r.get("findings") or {}
    for key, title in (("resolved", "Resolved findings"), ("remaining", "Remaining findings"),
                       ("not_reproduced", "Not reproduced on the copy")):
        items = outcome.get(key) or []
        lines += [f"## {title} ({len(items)})", ""]
        lines += [f"- {md(i['check'])}: {md(i['object'])} {md(', '.join(i['columns']))}".rstrip()
                  for i in items]
        lines.append("")
    locks = s.get("lock_ms_by_table") or {}
    if locks:
        lines += ["## Lock time per table", "", "| Table | Lock | ms |", "|---|---|---|"]
        for table, modes in locks.items():
            for mode, ms in modes.items():
                lines.append(f"| {md(table)} | {md(mode)} | {ms} |")
        lines.append("")
    return "\n".join(lines)
