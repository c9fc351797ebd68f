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


def _browse(report: Path, width: int = 1366, height: int = 900,
            scripts: bool = True) -> Iterator[DevTools]:
    """The report in a fresh chromium, its viewport ``width`` CSS px wide (a phone's below
    600, as a phone lays it out), with or without JavaScript."""
    profile = tempfile.mkdtemp(prefix="pgaudit-chromium-")
    proc = subprocess.Popen(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
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
        dt.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                deviceScaleFactor=1, mobile=width < 600)
        if not scripts:
            dt.send("Emulation.setScriptExecutionDisabled", value=True)
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


def _shot(page: DevTools, name: str, selector: str | None = None, height: int = 900,
          margin: int = 0) -> None:
    """A PNG of the first screen, or of the element ``selector`` (at most ``height`` px); with
    ``margin``, the page's whole width that many px above and below it too."""
    params: dict[str, Any] = {"format": "png"}
    if selector:
        box = page.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                      " e.scrollIntoView(); const r = e.getBoundingClientRect();"
                      " return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()")
        x, y, w, h = box
        if margin:
            x, w = 0, page.js("document.documentElement.clientWidth")
            y, h = max(0, y - margin), h + 2 * margin
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
    assert page.js("document.querySelectorAll('main details[open]').length") == 0
    assert page.js("document.getElementById('toc').open") is True  # the contents stay
    assert page.js("Array.from(document.querySelectorAll('details.finding'))"
                   ".filter(e => e.checkVisibility()).length") == 0
    page.js("document.getElementById('expand-all').click()")
    assert page.js("document.querySelectorAll('main details:not([open])').length") == 0
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


def test_code_spans_of_prose_are_code(page: DevTools) -> None:
    """A check's remediation writes `alter column …` as Markdown code: the report shows code,
    never the backticks; identifiers with backticks stay text."""
    codes = page.js("Array.from(document.querySelectorAll('.fix code')).map(e => e.textContent)")
    assert "alter column … type jsonb using …::jsonb" in codes
    fixes = page.js("Array.from(document.querySelectorAll('.fix')).map(e => e.textContent)")
    assert not [f for f in fixes if "`" in f]
    assert page.js("document.body.textContent.includes('app.\"back```tick\"')")


def test_long_sql_lines_wrap(page: DevTools) -> None:
    """No statement is cut off: every SQL block is as wide as its content, lines wrap."""
    cut = page.js("Array.from(document.querySelectorAll('pre.sql'))"
                  ".filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert cut == 0
    longest = page.js("Math.max(...Array.from(document.querySelectorAll('pre.sql'))"
                      ".map(e => Math.max(...e.textContent.split('\\n').map(l => l.length))))")
    assert longest > 120  # the test has a long line to wrap


# --- a run with history: trend charts, the change log, a phone, no JavaScript ---------------

RUN_TIMES = ("2026-11-23T03:30:00+00:00", "2026-11-24T03:30:00+00:00",
             "2026-11-25T22:10:00+00:00", "2026-11-26T01:05:00+00:00",
             "2026-11-26T03:30:00+00:00")  # the last two on one day


def history_doc() -> dict[str, Any]:
    """tests/render/run.json as the fifth run of a target in a history store: five runs (two on
    its day), the growth of three tables, two new findings and one resolved since the fourth,
    and the schema's change log."""
    doc = json.loads((HERE / "run.json").read_text(encoding="utf-8"))
    counts = [(9, 14, 20), (9, 15, 21), (8, 15, 23), (7, 14, 22), (7, 15, 24)]
    doc["history"] = {
        "store": "sqlite:///history.db", "target_name": "h8_fixture",
        "runs": [{"run_id": i + 1, "target": "h8_fixture", "generated_at": t, "critical": c,
                  "warning": w, "info": n, "ok": 5, "new": 0, "resolved": 0}
                 for i, (t, (c, w, n)) in enumerate(zip(RUN_TIMES, counts, strict=True))],
        "growth": {
            "app.audit_2025": [[t, 700_000_000 + 90_000_000 * i] for i, t in enumerate(RUN_TIMES)],
            "app.audit_2024": [[t, 536_870_912] for t in RUN_TIMES],
            'app."<script>alert(1)</script>"': [[t, 60_000_000 + 3_000_000 * i]
                                                for i, t in enumerate(RUN_TIMES)],
        },
    }
    doc["diff"] = {
        "run_id": 5, "previous_run": {"id": 4, "generated_at": RUN_TIMES[3]}, "persisting": 30,
        "new": [{"check": "table_without_primary_key", "object": "app.events",
                 "severity": "critical", "title": "Tables without a primary key"}],
        "resolved": [{"check": "duplicate_index", "object": "app.orders",
                      "severity": "warning", "title": "Duplicate indexes"}],
    }
    doc["changes"] = [
        {"object": "app.events", "object_type": "table", "change": "added",
         "identity": "table app.events"},
        {"object": "app.orders_status_idx", "object_type": "index", "change": "dropped",
         "identity": "index app.orders_status_idx"},
        {"object": "app.orders", "object_type": "table", "change": "altered",
         "identity": "table app.orders"},
    ]
    return doc


@pytest.fixture(scope="module")
def history_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    html = render.render(history_doc(), "html", discover([HERE / "checks"]))
    report = tmp_path_factory.mktemp("history") / "report.html"
    report.write_text(html, encoding="utf-8")
    return report


def _chart_facts(page: DevTools) -> list[dict[str, Any]]:
    return page.js("""Array.from(document.querySelectorAll('svg.chart')).map(svg => ({
        title: svg.querySelector(':scope > text').textContent,
        width: svg.getBoundingClientRect().width,
        xlabels: Array.from(svg.querySelectorAll('text[text-anchor=middle] tspan'))
                 .filter(t => !t.previousElementSibling).map(t => t.parentNode.textContent),
        ylabels: Array.from(svg.querySelectorAll('text[text-anchor=end]')).map(t => t.textContent),
        axes: Array.from(svg.querySelectorAll('text[text-anchor=middle]'))
              .filter(t => !t.querySelector('tspan')).map(t => t.textContent),
        points: svg.querySelectorAll('circle > title').length,
        boxes: Array.from(svg.querySelectorAll('text')).map(t => {
            const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }),
        svgbox: (r => [r.left, r.top, r.right, r.bottom])(svg.getBoundingClientRect()),
    }))""")


def _check_charts(charts: list[dict[str, Any]]) -> None:
    assert [c["title"] for c in charts] == ["Findings per audit", "Size of the largest tables"]
    for chart in charts:
        # one point per run and series, a real time axis: round ticks, each labelled once
        assert len(chart["xlabels"]) >= 2 and len(set(chart["xlabels"])) == len(chart["xlabels"])
        assert len(chart["ylabels"]) >= 3 and chart["ylabels"][0] == "0"
        assert "Time of the audit (UTC)" in chart["axes"]
        left, top, right, bottom = chart["svgbox"]
        for box in chart["boxes"]:  # no label outside the drawing
            assert box[0] >= left - 1 and box[2] <= right + 1, (chart["title"], box)
            assert box[1] >= top - 1 and box[3] <= bottom + 1, (chart["title"], box)
    assert charts[0]["points"] == 3 * len(RUN_TIMES)
    assert charts[1]["points"] == 3 * len(RUN_TIMES)
    assert "Findings" in charts[0]["axes"] and "Size (MB)" in charts[1]["axes"]


def test_trend_charts(history_report: Path) -> None:
    for page in _browse(history_report):
        charts = _chart_facts(page)
        _check_charts(charts)
        assert all(c["width"] <= 561 for c in charts)  # not blown up on a wide screen
        _shot(page, "report-charts.png", "#trends")
        changes = page.js("Array.from(document.querySelectorAll('#changes ul.changes li'))"
                          ".map(e => e.textContent)")
        assert changes == ["dropped index app.orders_status_idx", "altered table app.orders",
                           "added table app.events"]
        _shot(page, "report-changes.png", "#changes")


def test_narrow_screen(history_report: Path) -> None:
    """At 420 px: the summary first, the contents folded under it, nothing cut off or wider
    than the screen, the charts' text still about 11 px."""
    for page in _browse(history_report, width=420, height=900):
        top = page.js("(id => document.getElementById(id).getBoundingClientRect().top)")
        order = page.js("['summary', 'executive-summary', 'toc', 'actions']"
                        ".map(id => document.getElementById(id).getBoundingClientRect().top)")
        assert order == sorted(order), order
        del top
        assert page.js("document.getElementById('toc').open") is False
        assert page.js("document.querySelector('nav.toc ol').checkVisibility()") is False
        assert page.js("document.querySelector('nav.toc').getBoundingClientRect().height") < 60
        assert page.js("document.documentElement.scrollWidth") <= 420
        assert page.js("Array.from(document.querySelectorAll('pre.sql'))"
                       ".filter(e => e.scrollWidth > e.clientWidth + 1).length") == 0
        page.js("window.scrollTo(0, 0)")
        _shot(page, "report-narrow.png")
        charts = _chart_facts(page)
        _check_charts(charts)
        assert all(c["width"] * 12 / 400 >= 10 for c in charts)  # 12-unit text at >= 10 px
        _shot(page, "report-narrow-charts.png", "#trends", height=1400)
        _shot(page, "report-narrow-contents.png", "nav.toc", margin=200)
        page.js("(() => { const pres = Array.from(document.querySelectorAll('pre.sql'));"
                " const width = e => Math.max(...e.textContent.split('\\n').map(l => l.length));"
                " pres.sort((a, b) => width(b) - width(a));"
                " pres[0].classList.add('longest'); })()")
        _shot(page, "report-narrow-sql.png", "pre.longest", margin=150)
        page.js("document.querySelector('#toc summary').click()")
        assert page.js("document.querySelector('nav.toc ol').checkVisibility()") is True
        page.js("document.querySelector('nav.toc a[href=\"#changes\"]').click()")
        assert page.js("document.getElementById('toc').open") is False  # folds after a jump


def test_without_javascript_no_dead_controls(history_report: Path) -> None:
    """With JavaScript off the filters and Expand/Collapse, which need it, are not there;
    everything else is: sections open, the contents unfolded on a wide screen."""
    for page in _browse(history_report, scripts=False):
        assert page.js("document.querySelectorAll('.toolbar, input, button').length") == 0
        assert page.js("document.querySelector('#toolbar-template').checkVisibility()") is False
        assert page.js("document.querySelector('nav.toc ol').checkVisibility()") is True
        assert page.js("document.querySelectorAll('main details:not([open])').length") == \
            page.js("document.querySelectorAll('details.evidence').length")
        assert page.js("document.querySelectorAll('svg.chart').length") == 2
        _shot(page, "report-nojs.png")
        _shot(page, "report-nojs-findings.png", "#c-1", height=900)
    for page in _browse(history_report, width=420, scripts=False):
        assert page.js("document.querySelectorAll('.toolbar, input, button').length") == 0
        order = page.js("['executive-summary', 'toc', 'actions']"
                        ".map(id => document.getElementById(id).getBoundingClientRect().top)")
        assert order == sorted(order), order
        assert page.js("document.querySelector('nav.toc ol').checkVisibility()") is False
        _shot(page, "report-nojs-narrow.png")
