"""``pgaudit audit --all``: every ``[[targets]]`` entry of the config, a few at a time, and the
reports' layout: one folder per target, an index, one metrics file.

Built for fleets of hundreds of targets on a small machine:
- **One process per target**, forked from this one (the checks are loaded once, nothing is
  imported again), at most ``jobs`` at a time. Its memory goes back to the system when it
  ends, and it can be stopped whatever it is doing.
- **A wall-clock limit per target** (``timeout_s``): a target that has not finished by then
  (a server that accepts the connection and never answers, a query stuck on a lock) is told
  to stop (SIGTERM: psycopg cancels the running query on the server), then killed, and
  reported as timed out; the others go on.
- **Results leave as soon as a target is done:** its process records the run in the store
  and writes the target's reports, and sends back only what the index, the metrics and the
  exit status need (``Digest``), so memory does not grow with the number of targets.
- **Shards:** ``shard=(i, n)`` keeps the targets at positions ``i, i+n, i+2n …`` of the config
  (``i`` from 0, as Kubernetes' ``JOB_COMPLETION_INDEX``): every process of an Indexed Job
  reads the same config and audits its own share, all writing to one store.

Failures are isolated: one unreachable or hanging database is reported and the others are still
audited.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from pgaudit.api import Setup, options_from_config, run_audit, select_checks
from pgaudit.config import Target, interpolate_env
from pgaudit.dsn import redact_text, resolve
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Summary
from pgaudit.output import EXTENSIONS, ensure_writable, write_atomic

DEFAULT_TIMEOUT_S = 900.0
# after SIGTERM, how long a target's process gets to cancel its query and close its sessions
_GRACE_S = 5.0


@dataclass
class Digest:
    """What the index, the metrics and the exit status read of a finished run: its counts, not
    its findings (a fleet's findings never sit in memory together)."""

    summary: Summary
    generated_at: str
    diff: bool | None = None  # True when compared with a stored run (``AuditRun.diff``)


@dataclass
class Outcome:
    name: str
    run: Digest | None
    error: str | None
    seconds: float
    links: dict[str, str] = field(default_factory=dict)  # format -> report path, from output


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` (``0/4`` … ``3/4``) as (I, N); anything else is a PgauditError."""
    left, sep, right = text.partition("/")
    if not sep or not left.strip().isdigit() or not right.strip().isdigit():
        raise PgauditError(f"--shard {text!r}: use I/N, e.g. 0/4 (I from 0 to N-1)")
    index, count = int(left), int(right)
    if count < 1 or index >= count:
        raise PgauditError(f"--shard {text!r}: I must be from 0 to N-1 and N at least 1")
    return index, count


def shard_targets(targets: list[Target], shard: tuple[int, int] | None) -> list[Target]:
    """The targets of one shard: every N-th of the config's list, from position I."""
    if shard is None:
        return list(targets)
    index, count = shard
    return [t for i, t in enumerate(targets) if i % count == index]


def _audit_one(target: Target, settings: Setup) -> tuple[AuditRun | None, str | None]:
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
        return run, None
    except PgauditError as exc:
        return None, str(exc)
    except Exception as exc:  # one target's surprise must not stop the others
        return None, redact_text(f"{type(exc).__name__}: {exc}".splitlines()[0])


def _interrupt(signum: int, frame: Any) -> None:
    # psycopg cancels the running query on the server when its wait is interrupted this way
    raise KeyboardInterrupt


def _child(target: Target, settings: Setup, output: Path | None, formats: list[str],
           pipe: Connection) -> None:
    """One target, in its own process: audit, record (``run_audit``), write its reports, send
    back the outcome. Never prints: the parent reports."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # fresh streams: a thread of the parent (the progress bar) may have held the old ones'
    # locks at the fork, and a warning written to them would then wait forever
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    started = time.monotonic()
    try:
        run, error = _audit_one(target, settings)
        outcome = Outcome(target.name, None, error, 0.0)
        if run is not None:
            if output is not None:
                outcome.links = write_target_reports(run, target.name, output, formats, settings)
            outcome.run = Digest(run.summary, run.generated_at, True if run.diff else None)
    except KeyboardInterrupt:
        outcome = Outcome(target.name, None, "stopped", 0.0)
    except BaseException as exc:  # a report that cannot be written, memory …: this target only
        message = redact_text(f"{type(exc).__name__}: {exc}".splitlines()[0])
        outcome = Outcome(target.name, None, message, 0.0)
    outcome.seconds = time.monotonic() - started
    with contextlib.suppress(BaseException):
        pipe.send(outcome)
        pipe.close()


@dataclass
class _Running:
    target: Target
    process: Any  # multiprocessing's forked Process
    pipe: Connection
    started: float
    stopping: float | None = None  # when SIGTERM was sent


def audit_all(
    settings: Setup,
    *,
    jobs: int = 4,
    on_done: Callable[[Outcome], None] | None = None,
    output: Path | None = None,
    formats: list[str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    shard: tuple[int, int] | None = None,
) -> list[Outcome]:
    """Audit the config's targets (or one shard of them), ``jobs`` processes at a time; with
    ``output``, each target's reports are written there as it finishes. Outcomes come back in
    the config's order."""
    config = settings.config
    if not config.targets:
        raise PgauditError("the config lists no [[targets]] to audit with --all")
    names = [t.name for t in config.targets]
    if len(set(names)) != len(names):
        raise PgauditError("target names in the config must be unique")
    if timeout_s <= 0:
        raise PgauditError(f"the per-target timeout must be positive, not {timeout_s:g}")
    chosen = shard_targets(config.targets, shard)
    if settings.store_url:
        from pgaudit.store import Store

        Store(settings.store_url)  # create or upgrade the store once, before the processes
    context = multiprocessing.get_context("fork")  # the loaded checks are inherited
    todo = deque(chosen)
    running: list[_Running] = []
    done: dict[str, Outcome] = {}

    def finish(item: _Running, outcome: Outcome) -> None:
        running.remove(item)
        item.pipe.close()
        item.process.join(timeout=1)
        if item.process.is_alive():
            item.process.kill()
            item.process.join()
        done[item.target.name] = outcome
        if on_done:
            on_done(outcome)

    try:
        while todo or running:
            while todo and len(running) < max(1, jobs):
                target = todo.popleft()
                ours, theirs = context.Pipe(duplex=False)
                process = context.Process(
                    target=_child, args=(target, settings, output, formats or [], theirs),
                    name=f"pgaudit-target-{target.name}", daemon=True)
                process.start()
                theirs.close()
                running.append(_Running(target, process, ours, time.monotonic()))
            now = time.monotonic()
            deadlines = [(r.stopping + _GRACE_S) if r.stopping else (r.started + timeout_s)
                         for r in running]
            ready = wait([r.pipe for r in running] + [r.process.sentinel for r in running],
                         timeout=max(0.0, min(deadlines) - now))
            now = time.monotonic()
            for item in list(running):
                if item.pipe in ready or item.process.sentinel in ready:
                    try:
                        outcome = item.pipe.recv()
                    except (EOFError, OSError):  # died without a word (killed, out of memory)
                        code = item.process.exitcode
                        why = "timed out" if item.stopping else f"its process ended ({code})"
                        outcome = Outcome(item.target.name, None, why, now - item.started)
                    if item.stopping and outcome.run is None:  # it answered the stop
                        outcome = Outcome(item.target.name, None,
                                          f"timed out after {timeout_s:g} s", now - item.started)
                    finish(item, outcome)
                elif item.stopping is None and now >= item.started + timeout_s:
                    item.stopping = now
                    with contextlib.suppress(OSError):
                        os.kill(item.process.pid, signal.SIGTERM)
                elif item.stopping is not None and now >= item.stopping + _GRACE_S:
                    item.process.kill()
                    finish(item, Outcome(item.target.name, None,
                                         f"timed out after {timeout_s:g} s", now - item.started))
    finally:  # Ctrl-C or a failure here: no target process outlives the run
        for item in running:
            with contextlib.suppress(OSError):
                item.process.kill()
            item.process.join()
    return [done[t.name] for t in chosen]


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


def write_target_reports(
    run: AuditRun, name: str, output: Path, formats: list[str], settings: Setup
) -> dict[str, str]:
    """``<output>/<target>/report.<ext>`` for each report format; the links the index uses."""
    from pgaudit.render import render_bytes

    links: dict[str, str] = {}
    folder = output / safe_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt == "prom":  # one metrics file for the fleet, written with the index
            continue
        path = folder / f"report{EXTENSIONS[fmt]}"
        write_atomic(path, render_bytes(run, fmt, settings.specs))
        links[fmt] = f"{folder.name}/{path.name}"
    return links


def write_index(outcomes: list[Outcome], output: Path, formats: list[str]) -> None:
    """``index.md`` and ``index.html`` listing every target with its summary, and
    ``pgaudit.prom`` when ``prom`` is asked for."""
    from pgaudit.prometheus import metrics
    from pgaudit.render import render_index

    rows: list[dict[str, Any]] = []
    output.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        row: dict[str, Any] = {"name": outcome.name, "error": outcome.error,
                               "seconds": round(outcome.seconds, 1), "links": outcome.links}
        if outcome.run is not None:
            summary = outcome.run.summary
            row.update(summary=summary, new=summary.new or 0, resolved=summary.resolved or 0)
        rows.append(row)
    for fmt in ("md", "html"):
        write_atomic(output / f"index.{fmt}", render_index(rows, fmt))
    if "prom" in formats:
        write_atomic(output / "pgaudit.prom",
                     metrics([(o.name, o.run, o.seconds) for o in outcomes]))
