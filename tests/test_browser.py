"""The HTML report in a real headless Chromium, driven over the DevTools protocol.

It must load from file:// with no console error, its severity filters must hide and show the
findings, hostile identifiers must stay text, evidence must be collapsed until opened, and the
executive summary with the Priority Action Items must print on at most two pages, also for a
catalog with a finding from every check on hundreds of tables. Screenshots are saved to
test-artifacts/: the first screen (report.png), a finding with its collapsed evidence and
"Also" line (report-finding.png), the same with the evidence opened
(report-evidence.png) and the appendices (report-appendix.png); look at them after a change to
the templates. Chromium is Debian's ``chromium`` package (``.ci/run`` installs it).
Without chromium on PATH these tests are skipped, or fail under PGAUDIT_REQUIRE_BROWSER=1
(tests/chromium.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

from pgaudit import render
from pgaudit.api import load_checks
from pgaudit.checkfile import discover
from pgaudit.model import DEFAULT_PRIORITY, RANK, SEVERITIES, AuditRun, Finding
from tests import chromium

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent / "render"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--hide-scrollbars", "--remote-debugging-port=0"]


def _chromium() -> str:
    path = chromium.find()
    assert path, chromium.MISSING  # tests/conftest.py skips the browser tests without one
    return path


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands, and the events seen meanwhile."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.events:
                if ev["method"] == method:
                    return ev
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
        raise AssertionError(f"no {method} within {timeout} s")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    doc = json.loads((HERE / "run.json").read_text(encoding="utf-8"))
    html = render.render(doc, "html", discover([HERE / "checks"]))
    report = tmp_path_factory.mktemp("html") / "report.html"
    report.write_text(html, encoding="utf-8")
    yield from _browse(report)


def _browse(report: Path) -> Iterator[DevTools]:
    profile = tempfile.mkdtemp(prefix="pgaudit-chromium-")
    proc = subprocess.Popen(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", "--window-size=1366,900",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    dt = None
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        dt = DevTools(ws_url)
        for domain in ("Page", "Runtime", "Log"):
            dt.send(f"{domain}.enable")
        dt.send("Emulation.setDeviceMetricsOverride", width=1366, height=900,
                deviceScaleFactor=1, mobile=False)
        dt.send("Page.navigate", url=report.as_uri())
        dt.wait_for("Page.loadEventFired")
        yield dt
    finally:
        if dt is not None:
            dt.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def test_loads_without_console_errors(page: DevTools) -> None:
    assert page.js("document.readyState") == "complete"
    assert page.js("document.title").startswith("Production Database Review")
    errors = [
        e for e in page.events
        if (e["method"] == "Runtime.exceptionThrown")
        or (e["method"] == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "assert"))
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []


def _shot(page: DevTools, name: str, selector: str | None = None, height: int = 900) -> None:
    """A PNG of the first screen, or of the element ``selector`` (at most ``height`` px)."""
    params: dict[str, Any] = {"format": "png"}
    if selector:
        box = page.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                      " e.scrollIntoView(); const r = e.getBoundingClientRect();"
                      " return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()")
        x, y, w, h = box
        params.update(clip={"x": x, "y": y, "width": w, "height": min(h, height), "scale": 1},
                      captureBeyondViewport=True)
    shot = page.send("Page.captureScreenshot", **params)
    ARTIFACTS.mkdir(exist_ok=True)
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    (ARTIFACTS / name).write_bytes(data)


def test_screenshot_of_first_screen(page: DevTools) -> None:
    page.js("window.scrollTo(0, 0)")
    _shot(page, "report.png")


def test_evidence_is_collapsed_until_opened(page: DevTools) -> None:
    page.js("document.getElementById('expand-all').click()")
    page.js("document.querySelectorAll('details.evidence').forEach(d => d.open = false)")
    evidence = "#f-1-1-2 details.evidence"
    assert page.js("document.querySelectorAll('details.evidence').length") >= 5
    # the finding merged with another check: one "Also" line, one fix
    assert page.js("document.querySelector('#f-1-1-2 .also').textContent") == (
        "Also: Same column name with different types across tables (info)")
    assert page.js("document.querySelectorAll('#f-1-1-2 .fix').length") == 1
    assert page.js(f"document.querySelector('{evidence} dl').checkVisibility()") is False
    _shot(page, "report-finding.png", "#f-1-1-2")
    many = "#f-1-1-3 details.evidence"  # the finding with facts in every unit
    page.js(f"document.querySelector('{many} summary').click()")
    assert page.js(f"document.querySelector('{many} dl').checkVisibility()") is True
    assert "Dead" in page.js(f"document.querySelector('{many} dl').textContent")
    _shot(page, "report-evidence.png", "#f-1-1-3")
    page.js(f"document.querySelector('{many}').open = false")


def test_green_lines_and_not_applicable(page: DevTools) -> None:
    ok = page.js("Array.from(document.querySelectorAll('#s-6-1 ul.ok li')).map(e => e.textContent)")
    assert ok == ["Passwords not stored in clear: app.users.password_hash (sampled values are in"
                  " a hash format)"]
    assert page.js("document.querySelector('#s-4-1 .na').textContent").startswith(
        "Not applicable: Balance or credit columns without a non-negative CHECK")
    _shot(page, "report-green.png", "#s-6-1", height=700)


def test_a_long_list_links_to_its_appendix(page: DevTools) -> None:
    link = page.js("document.querySelector('#f-1-1-1 p.more a').getAttribute('href')")
    assert link == "#a-1-1-1"
    rows = page.js("document.querySelectorAll('#a-1-1-1 + .tablewrap tbody tr').length")
    assert rows == 12  # every table, where the finding shows the first five
    assert page.js("document.querySelectorAll('#f-1-1-1 table.objects tbody tr').length") == 5
    assert page.js("document.getElementById('inventory').checkVisibility()") is True
    _shot(page, "report-appendix.png", "#object-lists", height=1400)
    _shot(page, "report-inventory.png", "#inventory", height=1400)


def _visible(page: DevTools, severity: str) -> int:
    return page.js(
        f"Array.from(document.querySelectorAll('[data-severity=\"{severity}\"]'))"
        ".filter(e => e.checkVisibility()).length")


def test_severity_filter_hides_and_shows(page: DevTools) -> None:
    for sev in ("critical", "warning", "info", "ok"):
        assert _visible(page, sev) > 0, sev
    before_warning = _visible(page, "warning")
    page.js("document.getElementById('filter-critical').click()")
    assert page.js("document.getElementById('filter-critical').checked") is False
    assert _visible(page, "critical") == 0
    assert _visible(page, "warning") == before_warning
    page.js("document.getElementById('filter-critical').click()")
    assert _visible(page, "critical") > 0
    page.js("document.getElementById('filter-ok').click()")
    assert _visible(page, "ok") == 0
    page.js("document.getElementById('filter-ok').click()")
    assert _visible(page, "ok") > 0


def test_sections_collapse_and_expand(page: DevTools) -> None:
    page.js("document.getElementById('collapse-all').click()")
    assert page.js("document.querySelectorAll('details[open]').length") == 0
    assert page.js("Array.from(document.querySelectorAll('details.finding'))"
                   ".filter(e => e.checkVisibility()).length") == 0
    page.js("document.getElementById('expand-all').click()")
    assert page.js("document.querySelectorAll('details:not([open])').length") == 0
    assert _visible(page, "critical") > 0


def test_hostile_identifiers_render_as_text(page: DevTools) -> None:
    assert page.js("document.querySelectorAll('script').length") == 1
    assert page.js("document.querySelectorAll('img').length") == 0
    assert page.js("typeof window.alert_called") == "undefined"
    texts = page.js("Array.from(document.querySelectorAll('td.ident')).map(e => e.textContent)")
    assert 'app."<script>alert(1)</script>"' in texts
    assert 'app."pipe|table"' in texts
    assert 'app."new\nline"' in texts
    assert page.js("document.body.textContent.includes('Orders <b>API</b> | peak 2k tps')")
    assert page.js("document.querySelectorAll('main b').length") == 0


def _pages(pdf: bytes) -> int:
    """Pages of a PDF written by Chromium (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def _summary_pages(page: DevTools) -> int:
    """Printed pages of the report up to the end of the Priority Action Items."""
    page.js("(() => { const s = document.createElement('style'); s.id = 'cut';"
            " s.textContent = '#actions ~ * { display: none !important }';"
            " document.head.appendChild(s); })()")
    try:
        pdf = base64.b64decode(page.send("Page.printToPDF", printBackground=True)["data"])
    finally:
        page.js("document.getElementById('cut').remove()")
    return _pages(pdf)


def test_summary_and_actions_print_on_two_pages(page: DevTools) -> None:
    assert _summary_pages(page) <= 2


def test_teeth_pages_are_counted(page: DevTools) -> None:
    pdf = base64.b64decode(page.send("Page.printToPDF", printBackground=True)["data"])
    assert _pages(pdf) > 2  # the whole report is longer: the count above is not vacuous


# Checks with findings on the corpus schemas: 27 at most (docs/corpus-findings.md); twice that
# and more, each on hundreds of tables, must still leave a two-page summary.
CHECKS_FIRING = 60


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevTools, int]]:
    """Findings from CHECKS_FIRING checks, each on up to 400 tables in seven schemas."""
    specs = dict(list(load_checks().items())[:CHECKS_FIRING])
    findings = []
    for n, spec in enumerate(specs.values()):
        level = max(spec.levels(), key=lambda lv: RANK[lv])
        for i in range(5 + 37 * n % 400):
            findings.append(Finding(
                check=spec.id, section=spec.section, severity=level,
                priority=DEFAULT_PRIORITY[SEVERITIES[level]].value,
                object=f"schema_{i % 7}.table_with_a_long_name_{i:04d}", object_type="table",
                title=spec.title, detail=f"table {i} shows it", columns=[f"column_{i % 5}"],
                evidence={"estimated_rows": i * 1000, "heap_bytes": i * 8192},
                remediation=f"select {i};", impact=spec.impact))
    run = AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                   target={"database": "big", "server_version": "17", "host": "h",
                           "port": "5432"},
                   facts={}, scope={"schemas": [f"schema_{i}" for i in range(7)]},
                   assumptions={}, findings=findings, checks=[])
    report = tmp_path_factory.mktemp("big") / "report.html"
    report.write_text(render.render(run, "html", specs), encoding="utf-8")
    for browser in _browse(report):
        yield browser, len(specs)


def test_findings_from_many_checks_still_print_on_two_pages(
        big_page: tuple[DevTools, int]) -> None:
    browser, checks = big_page
    assert browser.js("document.querySelectorAll('#actions li').length") == checks
    assert _summary_pages(browser) <= 2


def test_print_expands_and_hides_controls(page: DevTools) -> None:
    page.js("document.getElementById('collapse-all').click()")
    page.send("Emulation.setEmulatedMedia", media="print")
    try:
        assert page.js("getComputedStyle(document.querySelector('.toolbar')).display") == "none"
        assert page.js("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
        pdf = page.send("Page.printToPDF", printBackground=True)
        assert base64.b64decode(pdf["data"])[:4] == b"%PDF"
        if os.environ.get("PGAUDIT_KEEP_PDF"):
            (ARTIFACTS / "report.pdf").write_bytes(base64.b64decode(pdf["data"]))
    finally:
        page.send("Emulation.setEmulatedMedia", media="")
        page.js("document.getElementById('expand-all').click()")
