"""``pgaudit fix`` as a library call: findings in, a plan (and its rehearsal) out.

The audited database is only ever read: the audit, the catalog reads and the precondition
counts go through the read-only audit session (``connection.prepare_session``), and the copy's
schema comes from ``pg_dump`` (itself read-only). Everything the rehearsal writes goes to the
copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql

from pgaudit import api
from pgaudit.config import duration_ms
from pgaudit.connection import connect, prepare_session
from pgaudit.errors import PgauditError
from pgaudit.fixplan import embedded, rehearse, scratch
from pgaudit.fixplan.plan import Plan, PlanOptions, build
from pgaudit.fixplan.preconditions import Catalog
from pgaudit.fixplan.select import MIN_SEVERITIES, read_run, select, unknown_fingerprints
from pgaudit.model import AuditRun

COPY_NAME = "pgaudit_rehearsal"


@dataclass
class FixRequest:
    dsn: str | None = None
    from_run: Path | None = None
    checks: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    min_severity: str = "info"
    fingerprints: list[str] = field(default_factory=list)
    include_destructive: bool = False
    include_cluster: bool = False
    lock_timeout: str = "5s"
    precondition_timeout: str = "10s"
    rehearse_dsn: str | None = None
    rehearse_embedded: bool = False
    sample_rows: int = 0


def _major(target: dict[str, Any]) -> int:
    m = re.match(r"(\d+)", str(target.get("server_version") or ""))
    if not m:
        raise PgauditError("the audited server's version is unknown: cannot pick binaries")
    return int(m.group(1))


def _validate(request: FixRequest) -> None:
    for name in ("lock_timeout", "precondition_timeout"):
        try:
            duration_ms(getattr(request, name))
        except ValueError as exc:
            raise PgauditError(f"--{name.replace('_', '-')}: {exc}") from None
    if request.rehearse_dsn and request.rehearse_embedded:
        raise PgauditError("--rehearse-dsn and --rehearse-embedded exclude each other")
    if request.min_severity not in MIN_SEVERITIES:
        raise PgauditError(f"--min-severity must be one of {', '.join(MIN_SEVERITIES)}, "
                           f"not {request.min_severity!r}")
    if request.sample_rows < 0:
        raise PgauditError("--sample-rows must be 0 or more")
    if (request.rehearse_dsn or request.rehearse_embedded) and not request.dsn:
        raise PgauditError("a rehearsal copies the audited database: give its DSN")


def the_run(request: FixRequest, settings: api.Setup) -> AuditRun:
    if request.from_run is not None:
        return read_run(request.from_run)
    if not request.dsn:
        raise PgauditError("give a DSN to audit, or --from RUN.json")
    cfg = settings.config
    return api.run_audit(request.dsn, settings.chosen, api.options_from_config(cfg),
                         waivers=cfg.waivers)


def make_plan(request: FixRequest, settings: api.Setup) -> Plan:
    """Select, plan and predict; rehearse when asked."""
    _validate(request)
    run = the_run(request, settings)
    missing = unknown_fingerprints(run.findings, request.fingerprints)
    if missing:
        raise PgauditError(f"no finding has the fingerprint {missing[0]}")
    # --checks/--skip name ids or sections: the checks they leave chosen, by id
    chosen = [s.id for s in settings.chosen] if request.checks or request.skip else []
    findings = select(run.findings, checks=chosen,
                      min_severity=request.min_severity, fingerprints=request.fingerprints)
    options = PlanOptions(include_destructive=request.include_destructive,
                          include_cluster=request.include_cluster,
                          lock_timeout=request.lock_timeout,
                          precondition_timeout_ms=duration_ms(request.precondition_timeout))
    session = api.options_from_config(settings.config).session
    conn = connect(request.dsn, session) if request.dsn else None
    try:
        if conn is not None:
            prepare_session(conn, session)
        catalog = Catalog(conn, options.precondition_timeout_ms) if conn else None
        plan = build(findings, run.target, catalog, options)
    finally:
        if conn is not None:
            conn.close()
    if request.rehearse_dsn or request.rehearse_embedded:
        assert request.dsn
        rehearse_plan(plan, request, settings)
    return plan


def rehearse_plan(plan: Plan, request: FixRequest, settings: api.Setup) -> None:
    assert request.dsn
    major = _major(plan.target)
    audited_db = str(plan.target.get("database"))
    if request.rehearse_embedded:
        with embedded.server(major) as (admin, bindir):
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(pgsql.SQL("create database {}").format(pgsql.Identifier(COPY_NAME)))
            copy_dsn = scratch.with_dbname(admin, COPY_NAME)
            _rehearse_on(plan, request, settings, copy_dsn, bindir / "pg_dump", audited_db,
                         "embedded")
        return
    assert request.rehearse_dsn
    scratch.refuse_audited(plan.target, scratch.identity(request.rehearse_dsn))
    pg_dump = scratch.find_binary("pg_dump", major, exact=False)
    _rehearse_on(plan, request, settings, request.rehearse_dsn, pg_dump, audited_db, "dsn")


def _rehearse_on(plan: Plan, request: FixRequest, settings: api.Setup, copy_dsn: str,
                 pg_dump: Path, audited_db: str, mode: str) -> None:
    assert request.dsn
    session = api.options_from_config(settings.config).session
    report = scratch.build_copy(request.dsn, copy_dsn, pg_dump, request.sample_rows, session)
    wanted = {c for f in plan.findings for c in f["checks"]}
    how = rehearse.Audit([s for s in settings.specs.values() if s.id in wanted],
                         api.options_from_config(settings.config))
    names = {audited_db, report.database}
    before = rehearse.audit_identities(copy_dsn, how, names)
    rehearse.run_statements(plan, copy_dsn, audited_db)
    after = rehearse.audit_identities(copy_dsn, how, names)
    plan.rehearsal = {
        "mode": mode,
        "copy": report.to_dict(),
        "summary": rehearse.summarise(plan),
        "findings": rehearse.outcomes(plan, before, after, names),
    }


def run_cli(request: FixRequest, settings: api.Setup, fmt: str, output: Path | None
            ) -> list[str]:
    """``pgaudit fix``: checks the options, writes the plan (and with a rehearsal its JSON and
    Markdown summary beside it); the lines to print."""
    from pgaudit.fixplan import formats

    if fmt not in formats.FORMATS:
        raise PgauditError(f"unknown format {fmt!r}; use {', '.join(formats.FORMATS)}")
    if output is None:
        raise PgauditError("give --output PLAN (a folder for --format flyway)")
    if fmt != "flyway" and output.is_dir():
        raise PgauditError(f"{output} is a folder: --output names the plan file")
    _validate(request)
    plan = make_plan(request, settings)
    written = formats.write(plan, fmt, output)
    lines = [f"{len(plan.statements)} statements for {len(plan.findings)} findings, "
             f"{len(plan.predicted_failures)} predicted to fail"]
    for st in plan.predicted_failures:
        pre = st.precondition or {}
        lines.append(f"  will fail [{st.number}]: {pre.get('count')} {pre.get('what')}")
    if plan.rehearsal is not None:
        base = output if fmt == "flyway" else output.with_suffix("")
        summary = Path(f"{base}.rehearsal.md") if fmt != "flyway" else base / "rehearsal.md"
        summary.write_text(rehearse.markdown(plan), encoding="utf-8")
        written.append(summary)
        if fmt != "json":
            doc = Path(f"{base}.json") if fmt != "flyway" else base / "plan.json"
            written += formats.write(plan, "json", doc)
        s = plan.rehearsal["summary"]
        found = plan.rehearsal["findings"]
        lines.append(f"rehearsal: {s['applied']} applied, {s['failed']} failed "
                     f"({len(s['predicted_and_confirmed'])} as predicted), {s['skipped']} "
                     f"skipped; {len(found['resolved'])} findings resolved, "
                     f"{len(found['remaining'])} remaining")
    lines.append("written: " + ", ".join(str(p) for p in written))
    return lines
