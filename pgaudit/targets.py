"""``pgaudit audit --all``: every ``[[targets]]`` entry of the config, concurrently, and the
reports' layout: one folder per target, an index, one metrics file.

Failures are isolated: one unreachable database is reported and the others are still audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgaudit.api import Setup, options_from_config, run_audit, select_checks
from pgaudit.config import Target, interpolate_env
from pgaudit.dsn import redact_text, resolve
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun
from pgaudit.output import EXTENSIONS, ensure_writable, write_atomic


@dataclass
class Outcome:
    name: str
    run: AuditRun | None
    error: str | None
    seconds: float


def _audit_one(target: Target, settings: Setup) -> Outcome:
    started = time.monotonic()
    config = settings.config
    try:
        dsn = resolve(interpolate_env(target.dsn))
        checks = select_checks(
            settings.specs,
            target.checks or config.audit.checks,
            [*config.audit.skip, *target.skip],
        )
        opts = options_from_config(config)
        opts.overrides = {**opts.overrides, **target.checks_config}
        run = run_audit(
            dsn, checks, opts, store_url=settings.store_url, name=target.name,
            waivers=config.waivers,
        )  # fmt: skip
        return Outcome(target.name, run, None, time.monotonic() - started)
    except PgauditError as exc:
        return Outcome(target.name, None, str(exc), time.monotonic() - started)
    except Exception as exc:  # one target's surprise must not stop the others
        message = redact_text(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return Outcome(target.name, None, message, time.monotonic() - started)


def audit_all(
    settings: Setup,
    *,
    jobs: int = 4,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    config = settings.config
    if not config.targets:
        raise PgauditError("the config lists no [[targets]] to audit with --all")
    names = [t.name for t in config.targets]
    if len(set(names)) != len(names):
        raise PgauditError("target names in the config must be unique")
    if settings.store_url:
        from pgaudit.store import Store

        Store(settings.store_url)  # create or upgrade the store once, before the threads share it
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_audit_one, t, settings) for t in config.targets]
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    return outcomes


# --- the reports' layout ----------------------------------------------------------------------


def prepare_folder(output: Path | None) -> Path:
    """The folder the reports go to, checked before any database is touched; it is created
    (parents too) only when the reports are written."""
    if output is None:
        raise PgauditError("--all needs --output, a folder for the reports")
    ensure_writable(output / "index.md", create_folder=True)
    return output


def safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return cleaned or "target"


def write_reports(
    outcomes: list[Outcome], output: Path, formats: list[str], settings: Setup
) -> None:
    """``<output>/<target>/report.<ext>`` per audited target, ``index.md`` and ``index.html``
    listing every target with its summary, and ``pgaudit.prom`` when ``prom`` is asked for."""
    from pgaudit.prometheus import metrics
    from pgaudit.render import render_bytes, render_index

    rows: list[dict[str, Any]] = []
    report_formats = [f for f in formats if f != "prom"]
    output.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        row: dict[str, Any] = {"name": outcome.name, "error": outcome.error,
                               "seconds": round(outcome.seconds, 1), "links": {}}
        if outcome.run is not None:
            folder = output / safe_name(outcome.name)
            folder.mkdir(exist_ok=True)
            for fmt in report_formats:
                path = folder / f"report{EXTENSIONS[fmt]}"
                write_atomic(path, render_bytes(outcome.run, fmt, settings.specs))
                row["links"][fmt] = f"{folder.name}/{path.name}"
            summary = outcome.run.summary
            row.update(summary=summary, new=summary.new or 0, resolved=summary.resolved or 0)
        rows.append(row)
    for fmt in ("md", "html"):
        write_atomic(output / f"index.{fmt}", render_index(rows, fmt))
    if "prom" in formats:
        write_atomic(output / "pgaudit.prom",
                     metrics([(o.name, o.run, o.seconds) for o in outcomes]))
