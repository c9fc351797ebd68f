"""The dashboard's routes: a read-only Starlette application over a history store.

Pages (GET and HEAD only; ``auth.Guard`` answers anything else with 405):

- ``/`` the fleet: every target with its last run, counts, new findings and a sparkline;
- ``/targets/{name}`` one target: trend charts, its runs, its open findings by age;
- ``/runs/{id}`` one run: its HTML report as ``pgaudit history show`` renders it (sign-off
  block included), under a bar with the way back and the sign-off;
- ``/criticals`` the oldest open critical findings across the fleet;
- ``/waivers`` the config file's waivers expiring within 30 days.

The store is read only through ``Store.targets``, ``open_findings``, ``signoff``, ``history``
and ``document``; ``readonly.open_read_only`` opens it so that even a bug here could not write
to it. Every page is a Jinja template with autoescape: names are text, never markup. The sync
endpoints run in Starlette's thread pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from pgaudit import __version__, render
from pgaudit.config import Waiver
from pgaudit.dashboard import pages
from pgaudit.dashboard.auth import Guard
from pgaudit.dsn import redact_text
from pgaudit.errors import PgauditError

if TYPE_CHECKING:
    from jinja2 import Environment

    from pgaudit.checkfile import CheckSpec
    from pgaudit.store import Store

# the dashboard's own pages run no script; a run's report runs its own inline one (filters)
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
REPORT_CSP = PAGE_CSP.replace("img-src", "script-src 'unsafe-inline'; img-src")
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store", "X-Frame-Options": "DENY"}


def _environment() -> Environment:
    env = render.environment()
    env.filters["urlpart"] = lambda value: quote(str(value), safe="")
    env.filters["stamp"] = lambda value: pages.stamp(str(value))
    env.globals["version"] = __version__
    return env


def create_app(store: Store, *, waivers: list[Waiver] | None = None,
               specs: Mapping[str, CheckSpec] | None = None, token: str | None = None,
               allowed_hosts: list[str] | None = None,
               now: Callable[[], dt.datetime] | None = None) -> Starlette:
    """The dashboard over ``store``. ``waivers`` None: no config file was given. With
    ``token`` every request needs it; ``allowed_hosts`` limits the Host header (a loopback
    bind: a page elsewhere cannot reach it by DNS rebinding)."""
    env = _environment()
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    checks: dict[str, Mapping[str, CheckSpec]] = {}

    def check_docs() -> Mapping[str, CheckSpec]:
        if "specs" not in checks:  # loaded on the first report, once
            if specs is not None:
                checks["specs"] = specs
            else:
                from pgaudit.api import load_checks

                checks["specs"] = load_checks()
        return checks["specs"]

    def page(template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        body = env.get_template(f"dashboard/{template}.html.j2").render(
            store=store.display, **ctx)
        return HTMLResponse(body, status_code=status,
                            headers={**HEADERS, "Content-Security-Policy": PAGE_CSP})

    def fleet(request: Request) -> Response:
        return page("fleet", active="fleet", **pages.fleet(store.targets(), clock()))

    def target(request: Request) -> Response:
        name = request.path_params["name"]
        runs = store.history(name)
        if not runs:
            raise HTTPException(404, f"no run of a target named {name!r} in this store")
        # the largest tables' growth as the last run's document carries it
        growth = store.document(runs[-1]["run_id"]).get("history", {}).get("growth") or {}
        return page("target", active="fleet",
                    **pages.target(name, runs, store.open_findings(name), growth, clock()))

    def run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            doc = store.document(run_id)
        except PgauditError as exc:
            raise HTTPException(404, str(exc)) from None
        report = render.render(doc, "html", check_docs())
        name = (doc.get("history") or {}).get("target_name") or ""
        bar = env.get_template("dashboard/_runbar.html.j2").render(
            name=name, run_id=run_id, generated_at=pages.stamp(str(doc.get("generated_at"))),
            signoff=store.signoff(run_id))
        # the report as history show writes it, the dashboard's bar first in its body
        head, sep, rest = report.partition("<body>")
        if not sep:
            raise PgauditError("the HTML report has no <body>: cannot place the dashboard bar")
        return HTMLResponse(head + sep + "\n" + bar + rest,
                            headers={**HEADERS, "Content-Security-Policy": REPORT_CSP})

    def criticals(request: Request) -> Response:
        return page("criticals", active="criticals",
                    **pages.oldest_criticals(store.open_findings(), clock()))

    def expiring(request: Request) -> Response:
        return page("waivers", active="waivers",
                    **pages.expiring_waivers(waivers, clock().date()))

    async def error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, detail = exc.status_code, str(exc.detail)
        else:  # the store failed (gone, unreachable): one line, no traceback
            status, detail = 503, redact_text(str(exc))
        return page("error", status=status, active="", status_code=status, detail=detail)

    routes = [
        Route("/", fleet, methods=["GET"]),
        Route("/targets/{name:path}", target, methods=["GET"]),
        Route("/runs/{run_id:int}", run, methods=["GET"]),
        Route("/criticals", criticals, methods=["GET"]),
        Route("/waivers", expiring, methods=["GET"]),
    ]
    middleware = [Middleware(Guard, token=token)]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={HTTPException: error, PgauditError: error})
