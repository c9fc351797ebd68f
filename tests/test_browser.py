"""The HTML report in a real headless Chromium, driven over the DevTools protocol.

It must load from file:// with no console error, its severity filters must hide and show the
findings, hostile identifiers must stay text, and a screenshot of the first screen is saved to
test-artifacts/report.png. Chromium is Debian's ``chromium`` package (``.ci/run`` installs it).
Without chromium on PATH these tests are skipped, or fail under PGAUDIT_REQUIRE_BROWSER=1
(tests/chromium.py).
"""

from __future__ import annotations

import base64
import json
import os
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
from pgaudit.checkfile import discover
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


def test_screenshot_of_first_screen(page: DevTools) -> None:
    shot = page.send("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(exist_ok=True)
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    (ARTIFACTS / "report.png").write_bytes(data)


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
