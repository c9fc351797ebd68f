"""``pgaudit audit --all``: every ``[[targets]]`` entry of the config, concurrently.

Failures are isolated: one unreachable database is reported and the others are still audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pgaudit.api import options_from_config, run_audit, run_audit_with_store, select_checks
from pgaudit.checkfile import CheckSpec
from pgaudit.config import Config, Target, interpolate_env
from pgaudit.dsn import redact_text, resolve
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun


@dataclass
class Outcome:
    name: str
    run: AuditRun | None
    error: str | None
    seconds: float


def _audit_one(
    target: Target,
    config: Config,
    specs: dict[str, CheckSpec],
    store_url: str | None,
    allow_data: bool | None,
) -> Outcome:
    started = time.monotonic()
    try:
        dsn = resolve(interpolate_env(target.dsn))
        checks = select_checks(
            specs,
            target.checks or config.audit.checks,
            [*config.audit.skip, *target.skip],
        )
        opts = options_from_config(config, allow_data=allow_data)
        opts.overrides = {**opts.overrides, **target.checks_config}
        if store_url:
            run = run_audit_with_store(dsn, checks, opts, store_url, target.name)
        else:
            run = run_audit(dsn, checks, opts)
        return Outcome(target.name, run, None, time.monotonic() - started)
    except PgauditError as exc:
        return Outcome(target.name, None, str(exc), time.monotonic() - started)
    except Exception as exc:  # one target's surprise must not stop the others
        message = redact_text(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return Outcome(target.name, None, message, time.monotonic() - started)


def audit_all(
    config: Config,
    specs: dict[str, CheckSpec],
    *,
    jobs: int = 4,
    store_url: str | None = None,
    allow_data: bool | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    if not config.targets:
        raise PgauditError("the config lists no [[targets]] to audit with --all")
    names = [t.name for t in config.targets]
    if len(set(names)) != len(names):
        raise PgauditError("target names in the config must be unique")
    if store_url:
        from pgaudit.store import Store

        Store(store_url)  # create or upgrade the store once, before the threads share it
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(_audit_one, t, config, specs, store_url, allow_data)
            for t in config.targets
        ]
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    return outcomes
