"""The library API the CLI is a thin layer over: load checks, select them, audit, render."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pgaudit.checkfile import CheckSpec, discover
from pgaudit.config import Config, duration_ms
from pgaudit.connection import SessionOptions
from pgaudit.engine import AuditOptions, Progress, audit
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, default_target_name
from pgaudit.resources import checks_dir


def load_checks(extra_dirs: Iterable[Path] = ()) -> dict[str, CheckSpec]:
    return discover([checks_dir(), *extra_dirs])


def select_checks(
    specs: dict[str, CheckSpec], include: Iterable[str] = (), skip: Iterable[str] = ()
) -> list[CheckSpec]:
    """Checks by id or by section key ("2.1", "2"); unknown names are an error."""
    include, skip = list(include), list(skip)
    for name in [*include, *skip]:
        if name not in specs and not any(_in_section(s, name) for s in specs.values()):
            raise PgauditError(f"unknown check id or section: {name}")
    chosen = [
        s
        for s in specs.values()
        if (not include or any(s.id == n or _in_section(s, n) for n in include))
        and not any(s.id == n or _in_section(s, n) for n in skip)
    ]
    return chosen


def _in_section(spec: CheckSpec, name: str) -> bool:
    return spec.section == name or spec.section.split(".")[0] == name


def options_from_config(
    config: Config, *, allow_data: bool | None = None, has_store: bool = False
) -> AuditOptions:
    a = config.audit
    return AuditOptions(
        schemas=list(a.schemas),
        exclude_schemas=list(a.exclude_schemas),
        allow_data=(not a.no_data) if allow_data is None else allow_data,
        max_probes=a.max_probes,
        assumptions=config.assumptions,
        overrides=dict(config.checks),
        session=SessionOptions(
            lock_timeout_ms=duration_ms(a.lock_timeout),
            statement_timeout_ms=duration_ms(a.statement_timeout),
        ),
        has_store=has_store,
        connections=a.connections,
    )


def run_audit(
    dsn: str, checks: list[CheckSpec], options: AuditOptions, progress: Progress | None = None
) -> AuditRun:
    return audit(dsn, checks, options, progress)


def run_audit_with_store(
    dsn: str,
    checks: list[CheckSpec],
    options: AuditOptions,
    store_url: str,
    name: str | None = None,
    progress: Progress | None = None,
) -> AuditRun:
    """Audit, reading the previous run for history-based checks, then record this run.

    The returned run carries ``diff`` (new, resolved, persisting) against the previous run.
    """
    from pgaudit.store import Snapshot, Store

    store = Store(store_url)
    chosen: dict[str, str] = {}

    def load(target: dict[str, object]) -> dict[str, object]:
        chosen["name"] = name or default_target_name(target)
        return store.previous(target, chosen["name"])

    options.has_store = True
    options.collect_snapshot = True
    options.history_loader = load
    run = audit(dsn, checks, options, progress)
    snapshot = run.snapshot or Snapshot(tables={}, schema={})
    run.extra["diff"] = store.record(
        run, snapshot, chosen.get("name") or default_target_name(run.target)
    )
    run.extra["history"] = {
        "store": store.display,
        "target_name": chosen.get("name"),
        "runs": store.history(chosen.get("name"))[-30:],
        "growth": store.growth(run.target, chosen.get("name") or ""),
    }
    return run
