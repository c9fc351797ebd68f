"""The library API the CLI is a thin layer over: settings, checks, the audit, its exit status.

``setup`` merges the config file with what the command line gave (``Overrides``) and resolves
the history store once. ``run_audit`` is the audit in two phases: open the store and read the
target's previous run, then run the checks with that history passed in as plain data; then the
waivers are applied and the run is recorded. ``exit_code`` reads the run's summary.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgaudit.capabilities import missing_need, privilege_report
from pgaudit.checkfile import CheckSpec, discover
from pgaudit.config import Config, Connections, Waiver, duration_ms, require_connections
from pgaudit.config import load as load_config_file
from pgaudit.connection import SessionOptions
from pgaudit.consolidate import consolidate
from pgaudit.engine import AuditOptions, Engine, Progress, check_params, open_audit
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Counted, default_target_name, take_change_log
from pgaudit.resources import checks_dir
from pgaudit.sessions import Sessions
from pgaudit.waivers import apply as apply_waivers

if TYPE_CHECKING:
    from pgaudit.store import Store

FAIL_ON = ("critical", "warning", "info", "never")


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


# --- settings ---------------------------------------------------------------------------------


@dataclass
class Overrides:
    """What a command line gave; empty or None leaves the config's value."""

    config: Path | None = None
    checks_dir: list[Path] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    no_data: bool = False
    schemas: list[str] = field(default_factory=list)
    exclude_schemas: list[str] = field(default_factory=list)
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    connections: str | None = None
    store: str | None = None
    catalog_snapshot: bool = False


@dataclass
class Setup:
    """The checks, the config with the command line merged in, and the store's URL."""

    specs: dict[str, CheckSpec]
    config: Config
    store_url: str | None
    chosen: list[CheckSpec]  # the checks [audit] checks and skip select


def load_config(path: Path | None, specs: dict[str, CheckSpec] | None = None) -> Config:
    """The config file, its check ids and parameters validated against ``specs``."""
    if specs is None:
        return load_config_file(path)
    return load_config_file(
        path, known_checks=set(specs), known_params={i: s.param_names() for i, s in specs.items()}
    )


def store_url(given: str | None, config: Config) -> str | None:
    """The history store: ``--store``, else ``[store] url``, else ``$PGAUDIT_STORE``."""
    return given or config.store.url or os.environ.get("PGAUDIT_STORE") or None


def open_store(url: str | None) -> Store:
    if not url:
        raise PgauditError("no history store: give --store URL (or [store] url in the config)")
    from pgaudit.store import Store

    return Store(url)


def connections_option(text: str) -> Connections:
    """``--connections``: auto or a number, validated by the config's one rule."""
    value: object = text.strip().lower()
    if value != "auto":
        try:
            value = int(text)
        except ValueError:
            value = text
    return require_connections(value, "--connections")


def setup(given: Overrides) -> Setup:
    """Load the checks and the config, and merge the command line into it."""
    specs = load_checks(given.checks_dir)
    cfg = load_config(given.config, specs)
    a = cfg.audit
    if given.checks:
        a.checks = list(given.checks)
    if given.skip:
        a.skip = list(given.skip)
    if given.no_data:
        a.no_data = True
    if given.schemas:
        a.schemas = list(given.schemas)
    if given.exclude_schemas:
        a.exclude_schemas = list(given.exclude_schemas)
    for name in ("lock_timeout", "statement_timeout"):
        value = getattr(given, name)
        if value is not None:
            try:
                duration_ms(value)
            except ValueError as exc:
                raise PgauditError(f"--{name.replace('_', '-')}: {exc}") from None
            setattr(a, name, value)
    if given.connections is not None:
        a.connections = connections_option(given.connections)
    if given.catalog_snapshot:
        a.catalog_snapshot = True
    chosen = select_checks(specs, a.checks, a.skip)
    return Setup(specs, cfg, store_url(given.store, cfg), chosen)


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
        catalog_snapshot=a.catalog_snapshot,
    )


# --- the audit --------------------------------------------------------------------------------


def run_audit(
    dsn: str,
    checks: list[CheckSpec],
    options: AuditOptions,
    progress: Progress | None = None,
    *,
    store_url: str | None = None,
    name: str | None = None,
    waivers: Iterable[Waiver] = (),
) -> AuditRun:
    """Audit one database; with ``store_url``, in two phases and recorded.

    1. Open the store, connect (which names the target) and read the target's previous run.
    2. Run the checks with that history as plain data, apply the waivers, merge the findings
       about one object and column, record the run: it then carries ``diff`` (new, resolved,
       persisting) and ``history``.
    """
    store = open_store(store_url) if store_url else None
    if store is not None:
        options = dataclasses.replace(options, collect_snapshot=True)
    with open_audit(dsn, options) as opened:
        history: dict[str, Any] | None = None
        if store is not None:
            name = name or default_target_name(opened.target)
            history = store.previous(opened.target, name)
        run = opened.run(checks, progress, history)
    take_change_log(run, {s.id for s in checks if s.change_log})
    apply_waivers(run, waivers)
    # after the waivers (an accepted finding stays its own line), before anything is counted
    run.findings = consolidate(run.findings)
    if store is not None and name is not None:
        run.diff = store.record(run, name)
        run.history = {
            "store": store.display,
            "target_name": name,
            "runs": store.history(name)[-30:],
            "growth": store.growth(run.target, name),
        }
    return run


def run_audit_with_store(
    dsn: str,
    checks: list[CheckSpec],
    options: AuditOptions,
    store_url: str,
    name: str | None = None,
    progress: Progress | None = None,
    waivers: Iterable[Waiver] = (),
) -> AuditRun:
    """``run_audit`` with a history store."""
    return run_audit(
        dsn, checks, options, progress, store_url=store_url, name=name, waivers=waivers
    )


def audit(
    settings: Setup, dsn: str, name: str | None = None, progress: Progress | None = None
) -> AuditRun:
    """The audit a command asks for: the settings' checks, options, store and waivers."""
    cfg = settings.config
    return run_audit(
        dsn,
        settings.chosen,
        options_from_config(cfg),
        progress,
        store_url=settings.store_url,
        name=name,
        waivers=cfg.waivers,
    )


def check_fail_on_new(fail_on_new: str | None, has_store: object) -> None:
    """``--fail-on-new`` compares with the stored previous run: it needs a store."""
    if fail_on_new and not has_store:
        raise PgauditError("--fail-on-new needs a history store (--store)")


def exit_code(run: Counted, fail_on: str, fail_on_new: str | None = None) -> int:
    """1 when a counted finding reaches ``fail_on`` (or, with ``fail_on_new``, a new one
    reaches it), else 0; read from the run's summary."""
    summary = run.summary
    if fail_on_new:
        check_fail_on_new(fail_on_new, run.diff is not None)
        return int(fail_on_new != "never" and summary.new_at_or_above(fail_on_new) > 0)
    return int(fail_on != "never" and summary.at_or_above(fail_on) > 0)


# --- preflight --------------------------------------------------------------------------------


@dataclass
class Preflight:
    """What the role can see and which checks can run with it."""

    database: str
    role: str
    server_version: str
    privileges: list[tuple[str, bool, str]]  # privilege, held, what it unlocks
    schemas: list[str]
    verdicts: list[tuple[CheckSpec, str | None]]  # check, why it cannot run (None: it can)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "role": self.role,
            "server_version": self.server_version,
            "privileges": [
                {"privilege": p, "held": h, "unlocks": u} for p, h, u in self.privileges
            ],
            "schemas": self.schemas,
            "checks": [
                {"id": s.id, "can_run": r is None, "reason": r} for s, r in self.verdicts
            ],
        }


def preflight(settings: Setup, dsn: str) -> Preflight:
    """Connect as the audit would and judge every check as the runner will: the role's
    privileges, the options and the statistics window (``capabilities.missing_need``)."""
    options = options_from_config(settings.config)
    with Sessions(dsn, options.session) as sessions:
        facts = sessions.facts
        engine = Engine(sessions.first, facts, options)
        return Preflight(
            database=facts.database,
            role=facts.role,
            server_version=facts.server_version,
            privileges=privilege_report(facts),
            schemas=engine.schemas,
            # the runner's own decision: same function, same parameters (a config may change
            # a check's statistics window)
            verdicts=[
                (s, missing_need(s, engine.ctx, check_params(s, options.overrides.get(s.id))))
                for s in settings.specs.values()
            ],
        )
