"""Issue 12's length bound, measured on a real audit of a large schema in a real browser.

A generated catalog of 1,000 tables (ten schemas of 100, every table with an unindexed foreign
key and no primary key on every third one, so several checks fire on hundreds of objects) is
audited and its HTML report printed by headless Chromium at A4 and Letter: the executive
summary and the Priority Action Items must fit on two pages; long object lists go to the
appendix. The printed summary pages are saved as PNG screenshots under test-artifacts/
(print-summary-*.png). Skipped without chromium (tests/chromium.py), like tests/test_browser.py.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgaudit import render
from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from tests.test_browser import ARTIFACTS, DevTools, _browse, _pages

pytestmark = pytest.mark.browser

SCHEMAS, PER_SCHEMA = 10, 100
# Letter and A4, in inches (Page.printToPDF's unit)
PAPERS = {"letter": (8.5, 11.0), "a4": (8.27, 11.69)}
CUT = "#actions ~ * { display: none !important }"


def _build(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for s in range(SCHEMAS):
            conn.execute(f"create schema s{s}")
            ddl = []
            for t in range(PER_SCHEMA):
                key = "unique" if t % 3 == 0 else "primary key"  # a third without one
                ref = "" if t == 0 else f", parent_id bigint references s{s}.t{t - 1} (id)"
                ddl.append(f"create table s{s}.t{t} (id bigint {key}, user_id bigint,"
                           f" created_at timestamp, payload json{ref});")
            conn.execute("\n".join(ddl))
        conn.execute("analyze")


@pytest.fixture(scope="module")
def big_report(db: str, specs: dict[str, CheckSpec],
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    _build(db)
    run = audit(db, list(specs.values()), AuditOptions())
    report = tmp_path_factory.mktemp("print") / "report.html"
    report.write_text(render.render(run, "html", specs), encoding="utf-8")
    return report


@pytest.fixture(scope="module")
def printed(big_report: Path) -> Iterator[DevTools]:
    yield from _browse(big_report)


def _pdf(page: DevTools, paper: str, cut: bool) -> bytes:
    width, height = PAPERS[paper]
    if cut:
        page.js("(() => { const s = document.createElement('style'); s.id = 'cut';"
                f" s.textContent = '{CUT}'; document.head.appendChild(s); }})()")
    try:
        data = page.send("Page.printToPDF", printBackground=True, paperWidth=width,
                         paperHeight=height)["data"]
    finally:
        if cut:
            page.js("document.getElementById('cut').remove()")
    return base64.b64decode(data)


def test_the_schema_is_large(printed: DevTools) -> None:
    tables = printed.js("document.body.textContent.match(/s[0-9]\\.t[0-9]+/g).length")
    assert tables > 300  # hundreds of table names in the report: the bound below is not vacuous
    assert printed.js("document.querySelectorAll('#actions li').length") >= 3


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_summary_and_actions_fit_on_two_pages(printed: DevTools, paper: str) -> None:
    assert _pages(_pdf(printed, paper, cut=True)) <= 2


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_teeth_the_whole_report_is_longer(printed: DevTools, paper: str) -> None:
    assert _pages(_pdf(printed, paper, cut=False)) > 10


def test_screenshots_of_the_printed_summary(printed: DevTools) -> None:
    """The summary as printed (print media, A4 width at 96 dpi), two page heights of it."""
    printed.send("Emulation.setEmulatedMedia", media="print")
    printed.send("Emulation.setDeviceMetricsOverride", width=794, height=1123,
                 deviceScaleFactor=1, mobile=False)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        for n in range(2):
            shot = printed.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                clip={"x": 0, "y": 1123 * n, "width": 794, "height": 1123,
                                      "scale": 1})
            (ARTIFACTS / f"print-summary-{n + 1}.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        printed.send("Emulation.setEmulatedMedia", media="")
    assert (ARTIFACTS / "print-summary-2.png").stat().st_size > 1000
