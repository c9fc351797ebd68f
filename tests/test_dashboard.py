"""``pgaudit serve``: every page over a SQLite and a PostgreSQL store, names escaped, read-only.

Stores are filled through ``Store.record`` with runs made from the real run document
(tests/render/run.json): three targets, twelve nightly runs each, findings that come and go,
tables that grow. One target, its findings' objects and a sign-off carry the hostile names of
tests/test_hostile_identifiers.py. Pages are fetched with Starlette's TestClient; the browser
test serves the app with uvicorn and takes screenshots of the fleet and target pages
(test-artifacts/dashboard-*.png).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import sqlalchemy as sa
from starlette.routing import Route
from starlette.testclient import TestClient
from typer.testing import CliRunner

from pgaudit import render
from pgaudit.cli import app as cli_app
from pgaudit.config import Waiver
from pgaudit.dashboard import auth, pages
from pgaudit.dashboard.app import create_app
from pgaudit.dashboard.readonly import open_read_only
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun
from pgaudit.snapshot import Snapshot
from pgaudit.store import Store
from tests import chromium
from tests.pgserver import create_database, drop_database, with_db
from tests.test_hostile_identifiers import WORST_CASES

RUN_JSON = Path(__file__).parent / "render" / "run.json"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
START = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
NOW = START + dt.timedelta(days=12)
NIGHTS = 12
HOSTILE = WORST_CASES[0]
TARGETS = ["billing-primary", "inventory", HOSTILE.schema]
HOSTILE_NAMES = [HOSTILE.schema, HOSTILE.base, HOSTILE.long, WORST_CASES[2].schema]
SPECS = None  # the shipped checks: the run page's report loads them once


def _runs(name: str, seed: int) -> list[AuditRun]:
    """Twelve nightly runs: finding k is absent on nights where (k + night + seed) % 5 == 0
    (so some are new, some resolved, each night), the hostile target's objects renamed."""
    base = render.as_run(json.loads(RUN_JSON.read_text(encoding="utf-8")))
    out = []
    for night in range(NIGHTS):
        run = copy.copy(base)
        run.generated_at = (START + dt.timedelta(days=night, minutes=seed)).isoformat()
        kept = [f for k, f in enumerate(base.findings) if (k + night + seed) % 5 or k < 3]
        if name == HOSTILE.schema:
            kept = [dataclasses.replace(f, object=f"{HOSTILE_NAMES[k % 4]}.{k}", fingerprint="",
                                        detail=f"{HOSTILE.base} detail", also=[])
                    for k, f in enumerate(kept)]
        run.findings = kept
        run.snapshot = Snapshot(tables={
            f"public.{HOSTILE.long if name == HOSTILE.schema else 'orders'}_{t}":
                {"bytes": (t + 1) * 2**20 * (10 + night * (t + 1)), "rows": 1000}
            for t in range(3)})
        out.append(run)
    return out


def fill(store: Store) -> dict[str, Any]:
    for seed, name in enumerate(TARGETS):
        for run in _runs(name, seed):
            store.record(run, name)
    fleet = {t["name"]: t for t in store.targets()}
    signed = fleet[HOSTILE.schema]["last_run_id"]
    store.sign(signed, by=HOSTILE.base, role=HOSTILE.schema, comment=HOSTILE.long)
    return {"fleet": fleet, "signed": signed}


WAIVERS = [
    Waiver(check="table_without_primary_key", object=HOSTILE.long, reason=HOSTILE.base,
           approved_by=HOSTILE.schema, expires=NOW.date() + dt.timedelta(days=9)),
    Waiver(check="unused_index", object="public.orders_idx", reason="reporting season",
           approved_by="Dana", expires=NOW.date() + dt.timedelta(days=29)),
    Waiver(check="unused_index", object="public.later", reason="later", approved_by="Dana",
           expires=NOW.date() + dt.timedelta(days=31)),
    Waiver(check="unused_index", object="public.gone", reason="old", approved_by="Dana",
           expires=NOW.date() - dt.timedelta(days=1)),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           admin: str) -> Iterator[tuple[Store, dict[str, Any]]]:
    """A filled store, opened again as ``pgaudit serve`` opens it (read-only)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('dash')}/history.db"
        info = fill(Store(url))
        yield open_read_only(url), {**info, "url": url}
        return
    name = create_database(admin, "dash")
    try:
        params = psycopg.conninfo.conninfo_to_dict(with_db(admin, name))
        url = (f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
               f":{params.get('port', '5432')}/{name}")
        writer = Store(url)
        info = fill(writer)
        writer.engine.dispose()
        store = open_read_only(url)
        yield store, {**info, "url": url}
        store.engine.dispose()
    finally:
        drop_database(admin, name)


@pytest.fixture(scope="module")
def client(filled: tuple[Store, dict[str, Any]]) -> TestClient:
    store, _ = filled
    return TestClient(create_app(store, waivers=WAIVERS, now=lambda: NOW))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_escaped(html: str, scripts: int = 0) -> None:
    """No tag or event handler came from a name: only the page's own ``scripts`` scripts."""
    parsed = parse(html)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == scripts
    assert "img" not in tags
    for tag, attrs in parsed.tags:
        for attr, _ in attrs:
            assert not attr.startswith("on"), f"event handler attribute on <{tag}>: {attr}"
    for name in HOSTILE_NAMES:
        if any(c in name for c in "<>"):
            assert name not in html, f"raw {name!r} in the page"


def test_the_escaping_check_has_teeth() -> None:
    assert_escaped("<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;|</p>")
    for leaked in (f"<p>{HOSTILE.base}</p>", '<p><img src=x onerror="alert(1)"></p>',
                   '<p onclick="x()">a</p>', f"<td>{WORST_CASES[2].schema}</td>"):
        with pytest.raises(AssertionError):
            assert_escaped(leaked)


def text_of(html: str) -> str:
    return "".join(parse(html).text)


# --- every page --------------------------------------------------------------------------------

def test_fleet_lists_every_target_worst_first(client: TestClient,
                                              filled: tuple[Store, dict[str, Any]]) -> None:
    _, info = filled
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.text
    assert_escaped(html)
    rows = re.findall(r'<td class="name"><a href="/targets/([^"]*)">', html)
    assert sorted(rows) == sorted(quote(n, safe="") for n in TARGETS)
    fleet = info["fleet"]
    order = sorted(TARGETS, key=lambda n: (-fleet[n]["critical"], -fleet[n]["warning"], n))
    assert rows == [quote(n, safe="") for n in order]
    assert html.count('<svg class="spark"') == len(TARGETS)
    for name in TARGETS:
        assert f'href="/runs/{fleet[name]["last_run_id"]}"' in html
    assert HOSTILE.schema in text_of(html)  # shown, as text
    total = sum(t["critical"] for t in fleet.values())
    assert f'<div class="v">{total}</div><div class="l">critical findings' in html


def test_target_page_has_trends_runs_and_open_findings_by_age(client: TestClient) -> None:
    resp = client.get("/targets/inventory")
    assert resp.status_code == 200
    html = resp.text
    assert_escaped(html)
    assert html.count('<svg class="chart"') == 3  # findings, new/resolved, table sizes
    assert len(re.findall(r'<tr><td class="r"><a href="/runs/\d+">', html)) == NIGHTS
    buckets = re.findall(r'<h3 class="bucket">Open ([^<]+)<', html)
    # findings first seen on the first night are 12 days old, later ones younger
    assert buckets[0] == "1 to 4 weeks" and "under a week" in buckets


def test_target_names_with_slashes_and_markup_route(client: TestClient) -> None:
    resp = client.get("/targets/" + quote(HOSTILE.schema, safe=""))
    assert resp.status_code == 200
    assert_escaped(resp.text)
    assert HOSTILE.schema in text_of(resp.text)
    assert HOSTILE.long in text_of(resp.text)  # a finding's object and a table in the chart


def test_unknown_target_and_run_are_404_pages(client: TestClient) -> None:
    for path in ("/targets/nobody", "/runs/987654", "/nothing-here"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "Back to the fleet" in resp.text


def test_run_page_is_the_report_with_its_signoff(client: TestClient,
                                                 filled: tuple[Store, dict[str, Any]]) -> None:
    _, info = filled
    signed = info["signed"]
    resp = client.get(f"/runs/{signed}")
    assert resp.status_code == 200
    html = resp.text
    assert_escaped(html, scripts=1)  # the report's own
    assert 'id="signoff"' in html and "Executive Summary" in html
    bar = html[html.index('<nav class="dashbar"'):html.index("</nav>")]
    assert 'id="dash-signoff"' in bar and "Signed off by" in bar
    # the store keeps the name without its trailing newline (Store.sign strips it)
    assert HOSTILE.base.strip() in text_of(bar) and HOSTILE.long in text_of(bar)
    sha = filled[0].signoff(signed)
    assert sha is not None and sha["sha256"] in bar
    other = info["fleet"]["inventory"]["last_run_id"]
    unsigned = client.get(f"/runs/{other}").text
    assert "Not signed off" in unsigned and f"pgaudit signoff {other} --by NAME" in unsigned
    assert "script-src 'unsafe-inline'" in resp.headers["content-security-policy"]


def test_oldest_criticals_across_the_fleet(client: TestClient,
                                           filled: tuple[Store, dict[str, Any]]) -> None:
    store, _ = filled
    resp = client.get("/criticals")
    assert resp.status_code == 200
    assert_escaped(resp.text)
    crit = [f for f in store.open_findings() if f["severity"] == "critical"]
    assert crit, "the fixture run has critical findings"
    listed = re.findall(r'<tr><td class="when"><strong>([^<]+)</strong>', resp.text)
    assert len(listed) == len(crit)
    assert listed[0] == "12 days"  # open since the first night
    ages = [pages._days(f["first_seen_at"], NOW) for f in crit]
    assert listed[-1] == pages.age_text(min(ages))


def test_waivers_expiring_within_30_days(client: TestClient) -> None:
    resp = client.get("/waivers")
    assert resp.status_code == 200
    html = resp.text
    assert_escaped(html)
    days_left = re.findall(r'<td class="r[^"]*">(\d+)</td><td><code>', html)
    assert days_left == ["9", "29"]  # not 31 days away, not the expired one
    assert "Already expired: 1 waiver, no longer applied" in html
    assert HOSTILE.base in text_of(html)


def test_waivers_page_without_a_config(filled: tuple[Store, dict[str, Any]]) -> None:
    store, _ = filled
    page = TestClient(create_app(store, waivers=None)).get("/waivers")
    assert page.status_code == 200 and "--config pgaudit.toml" in page.text


# --- safety --------------------------------------------------------------------------------------

def test_only_get_and_head(client: TestClient) -> None:
    app_routes = client.app.routes  # type: ignore[attr-defined]
    assert app_routes
    for route in app_routes:
        assert isinstance(route, Route) and route.methods <= {"GET", "HEAD"}, route.path
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        for path in ("/", "/runs/1", "/targets/inventory", "/criticals", "/waivers"):
            resp = client.request(method, path)
            assert resp.status_code == 405, (method, path)
            assert resp.headers["allow"] == "GET, HEAD"
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""


def test_postgresql_store_is_opened_read_only(filled: tuple[Store, dict[str, Any]]) -> None:
    store, _ = filled
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no read-only session setting; the routes never write")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("show default_transaction_read_only").scalar() == "on"
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.exec_driver_sql("create table pgaudit_dashboard_probe (x int)")


def test_no_write_reaches_the_store(filled: tuple[Store, dict[str, Any]]) -> None:
    """Both backends: the store the dashboard reads through refuses a write (PostgreSQL's
    read-only session, SQLite's mode=ro connection)."""
    store, _ = filled
    with store.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError,
                                                       match=r"read-?only"):
        conn.exec_driver_sql("create table pgaudit_dashboard_probe (x int)")


def test_read_only_never_creates_a_store(admin: str) -> None:
    name = create_database(admin, "dash_empty")
    try:
        params = psycopg.conninfo.conninfo_to_dict(with_db(admin, name))
        host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
        url = f"postgresql://{params.get('user', 'postgres')}@{host}:{port}/{name}"
        with pytest.raises(PgauditError, match="never creates or upgrades it"):
            open_read_only(url)
        with psycopg.connect(with_db(admin, name)) as conn:
            tables = conn.execute("select count(*) from pg_catalog.pg_tables"
                                  " where schemaname = 'public'").fetchone()
        assert tables == (0,)
        with pytest.raises(PgauditError, match="sets options"):
            open_read_only(url + "?options=-c%20default_transaction_read_only%3Doff")
    finally:
        drop_database(admin, name)


def test_sqlite_store_is_never_created_or_upgraded(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(PgauditError, match="no history store at"):
        open_read_only(f"sqlite:///{missing}")
    assert not missing.exists()
    old = tmp_path / "old.db"
    Store(f"sqlite:///{old}").engine.dispose()
    with sa.create_engine(f"sqlite:///{old}").begin() as conn:
        conn.exec_driver_sql("update pgaudit_alembic_version set version_num = '0004'")
    with pytest.raises(PgauditError, match=r"older .* never creates or upgrades it"):
        open_read_only(f"sqlite:///{old}")
    with sa.create_engine(f"sqlite:///{old}").connect() as conn:
        version = conn.exec_driver_sql("select version_num from pgaudit_alembic_version")
        assert version.scalar() == "0004"


def test_token_is_required_when_set(filled: tuple[Store, dict[str, Any]]) -> None:
    store, _ = filled
    guarded = TestClient(create_app(store, waivers=[], token="s3cret-Tok"))
    denied = guarded.get("/")
    assert denied.status_code == 401 and "Basic" in denied.headers["www-authenticate"]
    assert guarded.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/", headers={"Authorization": "Bearer s3cret-Tok"}).status_code == 200
    basic = base64.b64encode(b"anyone:s3cret-Tok").decode()
    assert guarded.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong = base64.b64encode(b"s3cret-Tok:nope").decode()
    assert guarded.get("/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    assert guarded.get("/", headers={"Authorization": "Basic !!"}).status_code == 401
    assert guarded.post("/", headers={"Authorization": "Bearer s3cret-Tok"}).status_code == 405


def test_loopback_bind_limits_the_host_header(filled: tuple[Store, dict[str, Any]]) -> None:
    store, _ = filled
    local = TestClient(create_app(store, waivers=[], allowed_hosts=["127.0.0.1", "localhost"]),
                       base_url="http://127.0.0.1:8765")
    assert local.get("/").status_code == 200
    assert local.get("/", headers={"Host": "rebound.example"}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_local_binds_need_no_token(host: str) -> None:
    auth.check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "db.example.com"])
def test_other_binds_need_a_token(host: str) -> None:
    with pytest.raises(PgauditError, match="PGAUDIT_SERVE_TOKEN"):
        auth.check_bind(host, None)
    auth.check_bind(host, "a-long-random-secret")
    with pytest.raises(PgauditError, match="empty"):
        auth.check_bind(host, " ")


def test_authorised_is_exact() -> None:
    assert auth.authorised("Bearer tok", "tok")
    assert auth.authorised("bearer  tok ", "tok")
    assert not auth.authorised("Bearer tok2", "tok")
    assert not auth.authorised("Bearer ", "tok")
    assert not auth.authorised("Token tok", "tok")
    assert not auth.authorised(None, "tok")
    assert not auth.authorised("Basic " + base64.b64encode(b"tok").decode(), "tok")  # no colon


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli_app, ["serve", "--store", f"sqlite:///{tmp_path}/h.db",
                                          "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "refusing to listen on 0.0.0.0" in result.output
    assert not (tmp_path / "h.db").exists()  # refused before the store was opened
    bad = CliRunner().invoke(cli_app, ["serve", "--store", "nonsense://x", "--port", "80000"])
    assert bad.exit_code == 2 and "--port" in bad.output


def test_pgaudit_serve_answers_on_loopback(filled: tuple[Store, dict[str, Any]],
                                          tmp_path: Path) -> None:
    """The command itself: uvicorn on 127.0.0.1, the read-only store, the Host check."""
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    url = filled[1]["url"]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != auth.TOKEN_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgaudit", "serve", "--store", url, "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as resp:
                    assert resp.status == 200
                    assert "Fleet: 3 targets" in resp.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "pgaudit serve did not answer"
                time.sleep(0.2)
        post = urllib.request.Request(base + "/", data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(post, timeout=5)
        assert refused.value.code == 405
        rebound = urllib.request.Request(base + "/", headers={"Host": "rebound.example"})
        with pytest.raises(urllib.error.HTTPError) as bad_host:
            urllib.request.urlopen(rebound, timeout=5)
        assert bad_host.value.code == 400
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"pgaudit dashboard on http://127.0.0.1:{port}/" in out
    assert "this machine only" in out


# --- the pages' model ----------------------------------------------------------------------------

def test_age_words() -> None:
    assert [pages.age_text(d) for d in (0.01, 0.05, 0.2, 1.99, 2, 6, 13, 20, 60, 90, 400,
                                        800)] == [
        "under an hour", "1 hour", "4 hours", "47 hours", "2 days", "6 days", "13 days",
        "2 weeks", "8 weeks", "3 months", "13 months", "2 years"]


def test_trend_charts_thin_old_runs_to_one_a_week() -> None:
    runs = [{"generated_at": (START + dt.timedelta(days=d)).isoformat(), "run_id": d}
            for d in range(365)]
    kept = pages.thinned(runs)
    recent = [r for r in kept if r["run_id"] >= 365 - 91]
    assert len(recent) == 91  # daily within 90 days of the newest (inclusive)
    older = [r["run_id"] for r in kept if r["run_id"] < 365 - 91]
    weeks = {(START + dt.timedelta(days=d)).isocalendar()[:2] for d in range(365 - 91)}
    assert len(older) == len(weeks)  # one a week before
    assert kept[-1] is runs[-1] and pages.thinned(runs[:10]) == runs[:10]
    assert pages.thinned([]) == []


def test_expiring_waivers_window() -> None:
    today = dt.date(2026, 12, 4)
    ctx = pages.expiring_waivers(WAIVERS, NOW.date())
    assert [w.days_left for w in ctx["waivers"]] == [9, 29]
    assert ctx["expired"] == 1 and ctx["total"] == 4
    assert pages.expiring_waivers(None, today)["configured"] is False


# --- the browser ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.browser
def test_screenshots_of_fleet_and_target(filled: tuple[Store, dict[str, Any]]) -> None:
    import uvicorn

    from tests.test_browser import FLAGS, DevTools

    store, info = filled
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(store, waivers=WAIVERS, now=lambda: NOW), host="127.0.0.1", port=port,
        log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        backend = store.engine.dialect.name
        for path, name in (("/", "fleet"), ("/targets/inventory", "target"),
                           ("/targets/" + quote(HOSTILE.schema, safe=""), "target-hostile"),
                           (f"/runs/{info['signed']}", "run"), ("/criticals", "criticals"),
                           ("/waivers", "waivers")):
            shot = _screenshot(DevTools, FLAGS, f"http://127.0.0.1:{port}{path}")
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / f"dashboard-{name}-{backend}.png").write_bytes(shot)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _screenshot(devtools: Any, flags: list[str], url: str) -> bytes:
    """The whole page at ``url`` as a PNG, from a fresh headless chromium."""
    import shutil
    import subprocess
    import tempfile
    import urllib.request

    path = chromium.find()
    assert path, chromium.MISSING
    profile = tempfile.mkdtemp(prefix="pgaudit-chromium-")
    proc = subprocess.Popen([path, *flags, f"--user-data-dir={profile}",
                             "--window-size=1366,900", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    page = None
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            ws = next(t["webSocketDebuggerUrl"] for t in json.load(resp) if t["type"] == "page")
        page = devtools(ws)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride", width=1366, height=900,
                  deviceScaleFactor=1, mobile=False)
        page.send("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        assert page.js("document.readyState") == "complete"
        errors = [e for e in page.events if e["method"] == "Runtime.exceptionThrown"
                  or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
        assert errors == []
        # nothing wider than the window: no horizontal scrolling on a laptop screen
        assert page.js("document.documentElement.scrollWidth <= window.innerWidth")
        height = page.js("document.documentElement.scrollHeight")
        shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1366, "height": min(height, 2400),
                               "scale": 1})
        data = base64.b64decode(shot["data"])
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
        return data
    finally:
        if page is not None:
            page.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
