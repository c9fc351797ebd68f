"""The check runner: run checks on an audit's sessions and turn their rows into findings.

An audit has two steps: ``open_audit`` opens the first session (``pgaudit.sessions``) and knows
the target, so a caller can read what it needs (the history store's previous run) before
``Audit.run`` runs the checks; ``audit`` does both. Each check runs in its own read-only
transaction, so one failing or timed-out query becomes an ``error`` result and the run goes on;
a ``permission denied`` is ``skipped`` with the privilege named. The number of statements per
check is fixed: it never grows with the number of tables (a check declaring ``applies`` runs
that one expression more when its query found nothing, and is ``not_applicable`` when false; one
declaring ``census`` has that condition answered first, with every other check's in one
statement per audit (``pgaudit.census``), and runs its query only when it holds). With
``connections`` above 1 the checks are spread over that many read-only sessions (one thread
each); results and findings come back in the same order.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import fnmatch
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import psycopg
from psycopg import sql as pgsql
from psycopg.types.json import Jsonb

from pgaudit import __version__
from pgaudit.capabilities import Context, denied, missing_need
from pgaudit.census import Census
from pgaudit.checkfile import CheckSpec
from pgaudit.config import Assumptions, CheckOverride, duration_ms, require_connections
from pgaudit.connection import ServerFacts, SessionOptions
from pgaudit.consolidate import consolidate
from pgaudit.inventory import collect as collect_inventory
from pgaudit.model import (
    DEFAULT_PRIORITY,
    RANK,
    SEVERITIES,
    AuditRun,
    CheckResult,
    Finding,
    Severity,
)
from pgaudit.sessions import Conn, Sessions, StatementCounter, Worker, spread
from pgaudit.sessions import first_line as _first
from pgaudit.wording import fill, window_too_short

Progress = Callable[[CheckSpec, CheckResult], None]

_SYSTEM_SCHEMAS = "nspname !~ '^pg_' and nspname <> 'information_schema'"

# Relations with a granted or pending AccessExclusiveLock, and the tables of locked indexes:
# touching them with a size function or a data read would queue behind the DDL.
_LOCKED_SQL = """
with l as (
  select l.relation
  from pg_catalog.pg_locks l
  where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock'
    and l.relation is not null
    and l.database = (select oid from pg_catalog.pg_database where datname = current_database())
    and l.pid <> pg_backend_pid()
), rel as (
  select relation as oid from l
  union select i.indrelid from l join pg_catalog.pg_index i on i.indexrelid = l.relation
  union select inh.inhparent from l join pg_catalog.pg_inherits inh on inh.inhrelid = l.relation
)
select coalesce(array_agg(oid order by oid), '{}') as oids,
       coalesce(array_agg(oid::regclass::text order by oid), '{}') as names
from rel
"""


@dataclass
class AuditOptions:
    schemas: list[str] = field(default_factory=list)
    exclude_schemas: list[str] = field(default_factory=list)
    allow_data: bool = True
    max_probes: int = 50
    assumptions: Assumptions = field(default_factory=Assumptions)
    overrides: dict[str, CheckOverride] = field(default_factory=dict)
    session: SessionOptions = field(default_factory=SessionOptions)
    has_store: bool = False
    # With a history store: the target's previous run (sizes, schema objects), read before
    # the checks run (``Audit.run(history=...)``); plain data, the engine never reads a store.
    history: dict[str, Any] = field(default_factory=dict)
    collect_snapshot: bool = False
    # Read-only sessions the checks are spread over; the extra ones share the first one's facts.
    # "auto": AUTO_SESSIONS on a catalog of AUTO_RELATIONS pg_class rows or more, else one.
    connections: int | Literal["auto"] = "auto"
    # the run document records the catalog snapshot ``pgaudit compare`` reads (``catalog``)
    catalog_snapshot: bool = False


def resolve_schemas(
    conn: Conn, include: list[str], exclude: list[str], counter: StatementCounter
) -> list[str]:
    """Schemas in scope: user schemas not owned by an extension, filtered by globs."""
    with conn.cursor() as cur:
        counter.execute(
            cur,
            "select n.nspname from pg_catalog.pg_namespace n"
            f" where {_SYSTEM_SCHEMAS} and not exists (select 1 from pg_catalog.pg_depend d"
            "   where d.classid = 'pg_catalog.pg_namespace'::regclass and d.objid = n.oid"
            "   and d.deptype = 'e') order by 1",
        )
        names = [r["nspname"] for r in cur.fetchall()]
    conn.rollback()
    if include:
        names = [n for n in names if any(fnmatch.fnmatchcase(n, g) for g in include)]
    return [n for n in names if not any(fnmatch.fnmatchcase(n, g) for g in exclude)]


def _pgss_schema(conn: Conn, counter: StatementCounter) -> str | None:
    with conn.cursor() as cur:
        counter.execute(
            cur,
            "select n.nspname from pg_catalog.pg_extension e"
            " join pg_catalog.pg_namespace n on n.oid = e.extnamespace"
            " join pg_catalog.pg_class v on v.relnamespace = n.oid"
            "   and v.relname = 'pg_stat_statements'"
            " where e.extname = 'pg_stat_statements'"
            # the view by oid: to_regclass('schema.name') raises "permission denied for
            # schema" where the role lacks USAGE, and a planner may try it on any namespace
            # (pg_toast, seen on PostgreSQL 17); pg_settings: shared_preload_libraries is
            # hidden, not an error, for roles without pg_read_all_settings, and
            # pg_stat_statements.max exists only where the library is loaded
            " and has_table_privilege(v.oid, 'SELECT')"
            " and coalesce((select s.setting ~ 'pg_stat_statements' from pg_catalog.pg_settings s"
            "               where s.name = 'shared_preload_libraries'),"
            "              exists (select 1 from pg_catalog.pg_settings s"
            "                      where s.name = 'pg_stat_statements.max'))",
        )
        row = cur.fetchone()
    conn.rollback()
    return row["nspname"] if row else None


def _hba_readable(conn: Conn, counter: StatementCounter) -> bool:
    """Whether the role may read pg_hba_file_rules (a need: preflight and the runner agree)."""
    with conn.cursor() as cur:
        counter.execute(
            cur,
            "select has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT')"
            " and has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE') as ok",
        )
        row = cur.fetchone()
    conn.rollback()
    return bool(row and row["ok"])


def check_params(spec: CheckSpec, override: CheckOverride | None) -> dict[str, Any]:
    params = dict(spec.params)
    if override:
        params.update(override.params)
        for key, extra in override.extend.items():
            params[key] = list(params.get(key, [])) + list(extra)
    return params


# Columns of a row that say where the finding is and how to fix it; every other
# column is a fact: evidence, wording and severity are made from them.
PLACE_COLUMNS = frozenset(
    {"object", "object_type", "columns", "index", "remediation", "probe", "impact", "no_verdict"}
)


def _finding(
    spec: CheckSpec, row: dict[str, Any], params: dict[str, Any], opts: AuditOptions
) -> Finding:
    facts = {k: _jsonable(v) for k, v in row.items() if k not in PLACE_COLUMNS}
    words = {
        **facts,
        "object": row.get("object") or "",
        "columns": list(row.get("columns") or []),
        "index": row.get("index") or "",
    }
    level = spec.severity_rule.level(facts, params)
    override = opts.overrides.get(spec.id)
    if level != "ok":
        if override and override.severity:
            level = override.severity
        for assumption, raised in spec.raise_when.items():
            if getattr(opts.assumptions, assumption, False) and RANK[raised] > RANK[level]:
                level = raised
    sev = SEVERITIES[level]
    is_ok = level == "ok"
    if spec.priority_rule is not None and not is_ok:
        priority = spec.priority_rule.level(facts, params)
    else:
        priority = spec.priority if spec.priority and not is_ok else DEFAULT_PRIORITY[sev].value
    if is_ok:
        # a partial positive: its own sentence ("3 soft-delete tables, all with partial
        # indexes"), never the check-wide ok title, which says more than this row judged
        title = detail = fill(spec.ok_message or spec.ok, words)
    else:
        title, detail = spec.title, fill(spec.message, words)
    return Finding(
        check=spec.id,
        section=spec.section,
        severity=sev.value,
        priority=priority,
        object=str(row.get("object") or ""),
        object_type=str(row.get("object_type") or "table"),
        title=title,
        detail=detail,
        columns=list(row.get("columns") or []),
        index=row.get("index"),
        # facts named with a leading underscore serve the wording and the rules only
        # a null fact says nothing: rows of one query carry the facts of every kind of row
        evidence={k: v for k, v in facts.items() if not k.startswith("_") and v is not None},
        remediation=row.get("remediation"),
        impact=(row.get("impact") or spec.impact) if not is_ok else None,
    )


def _check_wide_ok(spec: CheckSpec, database: str) -> Finding:
    """The 🟢 of a check that returned no row: its ``ok`` line, about the whole database."""
    return Finding(
        check=spec.id,
        section=spec.section,
        severity=Severity.OK.value,
        priority=DEFAULT_PRIORITY[Severity.OK].value,
        object=database,
        object_type="database",
        title=spec.ok,
        detail=spec.ok,
        check_wide=True,
    )


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    # scalars first: the common case, tens of thousands of times on a large catalog (their
    # exact types by a set lookup; subclasses, rare, by isinstance)
    if type(value) in _SCALARS or isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):  # numeric facts stay numbers: rules compare them
        whole = value.is_finite() and value == value.to_integral_value()
        return int(value) if whole else float(value)
    return str(value)


def lock_budget(settings: dict[str, dict[str, Any]]) -> int:
    """The most relations one check may lock: a quarter of the server's lock table
    (max_locks_per_transaction x max_connections). Sequence reads and size functions hold their
    locks until the check's transaction ends, and the table is shared with every session."""
    try:
        per_tx = int(settings["max_locks_per_transaction"]["setting"])
        sessions = int(settings["max_connections"]["setting"])
    except (KeyError, TypeError, ValueError):
        per_tx, sessions = 64, 100  # the server defaults
    return per_tx * sessions // 4


class Engine:
    def __init__(self, conn: Conn, facts: ServerFacts, opts: AuditOptions) -> None:
        self.conn = conn
        self.facts = facts
        self.opts = opts
        self.counter = StatementCounter()
        self.schemas = resolve_schemas(conn, opts.schemas, opts.exclude_schemas, self.counter)
        self.ctx = Context(
            facts=facts,
            allow_data=opts.allow_data,
            has_store=opts.has_store,
            pgss_schema=_pgss_schema(conn, self.counter),
            hba_readable=_hba_readable(conn, self.counter),
        )
        # Read once for every check (some catalog functions lock on older servers); checks that
        # call size functions or read rows refresh it just before they run.
        self.locked_oids, self.locked_names = self._read_locks()
        self.own_pids: list[int] = [conn.info.backend_pid]
        self.lock_budget = lock_budget(facts.settings)
        self.census = Census()  # shared with the forks: read once per audit

    def fork(self, conn: Conn) -> Engine:
        """An engine on another session of this audit: same scope, context and locks, nothing
        re-read; its statements add to this engine's count."""
        twin = copy.copy(self)
        twin.conn = conn
        twin.counter = StatementCounter(parent=self.counter)
        return twin

    def _read_locks(self) -> tuple[list[int], list[str]]:
        with self.conn.cursor() as cur:
            locked = self._query_locks(cur)
        self.conn.rollback()
        return locked

    def _query_locks(self, cur: psycopg.Cursor[Any]) -> tuple[list[int], list[str]]:
        """Oids and names of the relations a size function or data read would queue behind."""
        self.counter.execute(cur, _LOCKED_SQL)
        row = cur.fetchone() or {"oids": [], "names": []}
        return [int(o) for o in row["oids"]], list(row["names"])

    def base_params(self) -> dict[str, Any]:
        a = self.opts.assumptions
        return {
            "schemas": self.schemas,
            "locked": self.locked_oids,
            "server_version_num": self.facts.server_version_num,
            "is_replica": self.facts.is_replica,
            "stats_age_s": self.facts.stats_age_s,
            "session_settings": Jsonb(self.facts.settings),
            "multi_tenant": a.multi_tenant,
            "high_traffic": a.high_traffic,
            "cloud_hosted": a.cloud_hosted,
            "cost_optimized": a.cost_optimized,
            "history": Jsonb(self.opts.history),
            "allow_data": self.opts.allow_data,
            # every session of this audit: activity checks leave them out
            "own_pids": self.own_pids,
            "lock_budget": self.lock_budget,
            # whether the statistics window is long enough for this check's rates
            "rates_ok": True,
            # and, when it is not, why in the engine's one wording (for sentences built in SQL)
            "stats_window_note": None,
        }

    def run_check(self, spec: CheckSpec) -> tuple[CheckResult, list[Finding]]:
        started = time.perf_counter()
        override = self.opts.overrides.get(spec.id)
        own = check_params(spec, override)
        # the one decision preflight shares: privileges, options, the statistics window
        reason = missing_need(spec, self.ctx, own)
        if reason:
            return CheckResult(spec.id, "skipped", reason), []
        before = self.counter.count
        params = {**self.base_params(), **own}
        window_note: str | None = None
        needed = own.get("min_stats_age_s", spec.min_stats_age_s)
        if needed is not None:
            age = self.facts.stats_age_s
            params["rates_ok"] = age is not None and age >= float(needed)
            if not params["rates_ok"]:  # stats_window = "rates": judged, rates left out
                window_note = window_too_short(age, float(needed))
                # in a finding's sentence: the same words on every run of a young server
                params["stats_window_note"] = window_too_short(age, float(needed), stable=True)
        # A check that filters on %(locked)s leaves those relations out: say so in its result.
        skipped: list[str] = list(self.locked_names) if "%(locked)s" in spec.sql else []
        applies = True
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                if override and override.statement_timeout is not None:
                    ms = duration_ms(override.statement_timeout)
                    self.counter.execute(cur, f"set local statement_timeout = {int(ms)}")
                if "pg_stat_statements" in spec.needs and self.ctx.pgss_schema:
                    self.counter.execute(
                        cur,
                        "select set_config('search_path', %s, true)",
                        [f"pg_catalog, {pgsql.Identifier(self.ctx.pgss_schema).as_string(cur)}"],
                    )
                maybe = True
                if spec.census:  # nothing in scope by name or type: no statement of its own
                    maybe = self.census.maybe(spec, own, cur, params, self.counter)
                rows = []
                if maybe:
                    if spec.locks:  # refreshed: a lock taken since the start must not be waited on
                        params["locked"], skipped = self._query_locks(cur)
                    self.counter.execute(cur, spec.sql, params)
                    rows = cur.fetchall() if cur.description else []
                    rows = self._probe(spec, cur, rows, skipped)
                if not rows and spec.applies_sql:
                    # nothing found: was there anything to judge? One statement, in the
                    # check's own transaction, whatever the number of tables (none when the
                    # census already said no)
                    applies = maybe
                    if maybe:
                        self.counter.execute(cur, spec.applies_sql, params)
                        got = cur.fetchone()
                        applies = bool(got and got["applies"])
        except psycopg.errors.QueryCanceled as exc:
            return self._error(spec, started, before, f"timed out: {_first(exc)}"), []
        except psycopg.errors.InsufficientPrivilege as exc:
            if self.conn.broken or self.conn.closed:
                raise
            # a privilege the catalog could not predict: no verdict, the privilege named
            return CheckResult(
                spec.id,
                "skipped",
                denied(str(exc)),
                _ms(started),
                statements=self.counter.count - before,
            ), []
        except psycopg.Error as exc:
            if self.conn.broken or self.conn.closed:
                raise
            return self._error(spec, started, before, _first(exc)), []
        verdictless = next((r["no_verdict"] for r in rows if r.get("no_verdict")), None)
        if verdictless:
            return CheckResult(
                spec.id,
                "skipped",
                f"no verdict: {verdictless}",
                _ms(started),
                skipped_objects=skipped,
                statements=self.counter.count - before,
            ), []
        if not applies:
            return CheckResult(
                spec.id,
                "not_applicable",
                spec.not_applicable,
                _ms(started),
                skipped_objects=skipped,
                statements=self.counter.count - before,
            ), []
        findings = [_finding(spec, row, params, self.opts) for row in rows]
        if not findings:  # the check-wide 🟢: nothing found among what it judged
            findings.append(_check_wide_ok(spec, self.facts.database))
        result = CheckResult(
            spec.id,
            "ran",
            None,
            _ms(started),
            skipped_objects=skipped,
            statements=self.counter.count - before,
        )
        if self.facts.is_replica and spec.replica_note:
            result.reason = f"on a replica: {spec.replica_note}"
        elif window_note:
            result.reason = f"rates not judged: {window_note}"
        return result, findings

    def _probe(
        self,
        spec: CheckSpec,
        cur: psycopg.Cursor[Any],
        rows: list[dict[str, Any]],
        skipped: list[str],
    ) -> list[dict[str, Any]]:
        """Bounded data reads confirming catalog candidates: one statement each, capped."""
        if not rows or "probe" not in rows[0]:
            return rows
        if not self.opts.allow_data:  # probes read rows: without data the catalog verdict stands
            for row in rows:
                row.pop("probe", None)
            return rows
        kept: list[dict[str, Any]] = []
        budget = self.opts.max_probes
        for row in rows:
            probe = row.pop("probe", None)
            if not probe:
                kept.append(row)
                continue
            if budget <= 0:
                skipped.append(f"{row.get('object')} (probe cap {self.opts.max_probes} reached)")
                continue
            budget -= 1
            try:
                with self.conn.transaction():
                    self.counter.execute(cur, probe)
                    got = cur.fetchone() or {}
            except psycopg.errors.QueryCanceled:
                skipped.append(f"{row.get('object')} (probe timed out)")
                continue
            except psycopg.Error as exc:
                if self.conn.broken or self.conn.closed:
                    raise
                skipped.append(f"{row.get('object')} (probe failed: {_first(exc)})")
                continue
            if got.get("fires"):
                row.update(got.get("evidence") or {})  # the probe's measurements are facts
                kept.append(row)
        return kept

    def _error(self, spec: CheckSpec, started: float, before: int, message: str) -> CheckResult:
        return CheckResult(
            spec.id, "error", message, _ms(started), statements=self.counter.count - before
        )

    def run(
        self, specs: Iterable[CheckSpec], progress: Progress | None = None
    ) -> tuple[list[CheckResult], list[Finding]]:
        results: list[CheckResult] = []
        findings: list[Finding] = []
        for spec in specs:
            result, found = self.run_check(spec)
            results.append(result)
            findings.extend(found)
            if progress:
                progress(spec, result)
        return results, _sorted(findings)


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (
            f.section,
            -RANK[f.severity],
            f.check,
            f.object,
            f.columns,
            f.index or "",
        ),
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)



class _InventoryFirst:
    """The first session's worker when the checks are spread over several: it reads the
    report's inventory (one catalog statement, 0.3-0.4 s at 50,000 relations) before its first
    check, while the other sessions start on the checks, so that read overlaps them instead of
    following them. With one session (or no check left for it) ``collect`` reads it after."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read = False
        self.inventory: dict[str, Any] | None = None

    @property
    def conn(self) -> Conn:
        return self.engine.conn

    def collect(self) -> dict[str, Any] | None:
        if not self.read:
            self.read = True
            self.inventory = collect_inventory(self.engine.conn, self.engine.schemas,
                                               counter=self.engine.counter)
        return self.inventory

    def run_check(self, spec: CheckSpec) -> tuple[CheckResult, list[Finding]]:
        self.collect()
        return self.engine.run_check(spec)


class Audit:
    """One audit with its first session open: ``target`` is known, ``run`` runs the checks.

    Use it as a context manager (``open_audit``): the sessions are closed on the way out.
    """

    def __init__(self, dsn: str, opts: AuditOptions) -> None:
        require_connections(opts.connections, "connections")
        self.opts = opts
        self.started = time.perf_counter()
        self.generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.sessions = Sessions(dsn, opts.session)
        self.target: dict[str, Any] = self.sessions.target

    def __enter__(self) -> Audit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sessions.close()

    def run(
        self,
        specs: list[CheckSpec],
        progress: Progress | None = None,
        history: dict[str, Any] | None = None,
    ) -> AuditRun:
        """Run the checks; ``history`` is the target's previous stored run, read beforehand.

        The findings are as the checks gave them: the caller applies the waivers, then merges
        those about one object and column (``pgaudit.consolidate``), as ``audit`` and
        ``api.run_audit`` do."""
        opts = self.opts
        if history is not None:
            opts = dataclasses.replace(opts, history=history, has_store=True)
        sessions, facts = self.sessions, self.sessions.facts
        with sessions.errors():
            engine = Engine(sessions.first, facts, opts)
            # every census condition of the run in the one census statement
            engine.census.expect((s, check_params(s, opts.overrides.get(s.id))) for s in specs)
            asked, chose = sessions.wanted(opts.connections, len(specs), engine.counter)
            wanted = min(asked, len(specs)) - 1
            why = sessions.open_extra(wanted) if wanted > 0 else None
            engine.own_pids = [c.info.backend_pid for c in sessions.all]
            # a session's own counter (a fork): a check's statements are counted per session
            first = _InventoryFirst(engine.fork(sessions.first) if sessions.extra else engine)
            if sessions.extra:
                engines: list[Worker[tuple[CheckResult, list[Finding]]]] = [
                    first, *(engine.fork(c) for c in sessions.extra)]
                report = (lambda spec, got: progress(spec, got[0])) if progress else None
                done = spread(engines, specs, report)
                results = [result for result, _ in done]
                findings = _sorted([f for _, found in done for f in found])
            else:
                results, findings = engine.run(specs, progress)
            sessions.close_extra()
            snapshot = None
            if opts.collect_snapshot:
                from pgaudit.snapshot import collect

                snapshot = collect(sessions.first, engine.schemas)
            # the report's appendix: one catalog statement, after the checks on one session
            inventory = first.collect()
            extra: dict[str, Any] = {}
            if opts.catalog_snapshot:
                from pgaudit.compare.catalog import collect as collect_catalog

                extra["catalog"] = collect_catalog(sessions, engine.schemas,
                                                   engine.counter).to_dict()
        used = len(sessions.all)
        scope: dict[str, Any] = {
            "schemas": engine.schemas,
            "checks_run": sum(1 for r in results if r.status == "ran"),
            # nothing in scope to judge: neither well-designed nor skipped
            "checks_not_applicable": sum(1 for r in results if r.status == "not_applicable"),
            "checks_skipped": sum(1 for r in results if r.status == "skipped"),
            "checks_error": sum(1 for r in results if r.status == "error"),
            "statements": engine.counter.count,
            "allow_data": opts.allow_data,
            "lock_timeout_ms": opts.session.lock_timeout_ms,
            "statement_timeout_ms": opts.session.statement_timeout_ms,
            "connections": used,
        }
        if used < asked:
            why = why or ("only one check" if len(specs) == 1 else f"only {len(specs)} checks")
            asking = "auto chose" if chose else "asked for"
            scope["connections_note"] = f"{asking} {asked}, ran on {used}: {why}"
        elif chose and used > 1:
            scope["connections_note"] = chose
        return AuditRun(
            pgaudit_version=__version__,
            generated_at=self.generated,
            target=self.target,
            facts={k: v for k, v in facts.to_dict().items() if k not in {"host", "port"}},
            scope=scope,
            assumptions=opts.assumptions.model_dump(),
            findings=findings,
            checks=results,
            duration_ms=_ms(self.started),
            snapshot=snapshot,
            inventory=inventory,
            extra=extra,
        )


def open_audit(dsn: str, opts: AuditOptions) -> Audit:
    """Connect and read the server's facts: the first step of an audit. Raises PgauditError
    when it cannot."""
    return Audit(dsn, opts)


def audit(
    dsn: str, specs: list[CheckSpec], opts: AuditOptions, progress: Progress | None = None
) -> AuditRun:
    """Connect, read facts, run the checks, close; the findings about one object and column
    merged (``pgaudit.consolidate``). Raises PgauditError when it cannot run."""
    with open_audit(dsn, opts) as opened:
        run = opened.run(specs, progress)
    run.findings = consolidate(run.findings)
    return run
