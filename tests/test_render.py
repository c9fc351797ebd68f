"""Report model and renderers: golden files, escaping of hostile identifiers, grouping, waivers.

Golden files live in tests/render/golden/; rewrite them after an intended change with
``PGAUDIT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render.py`` and review the diff.
The fixture run (tests/render/run.json) is a real audit of a schema full of hostile names,
with a waived finding, expired and stale waivers, a skipped and a failed check added by hand.
The check headers it is rendered with are frozen copies in tests/render/checks/.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgaudit import render, report, sarif, waivers
from pgaudit.checkfile import discover
from pgaudit.config import Waiver
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Finding
from pgaudit.output import destinations, ensure_writable, write_atomic

HERE = Path(__file__).parent / "render"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("PGAUDIT_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads((HERE / "run.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def frozen_specs():
    return discover([HERE / "checks"])


@pytest.mark.parametrize("fmt", ["md", "html", "sarif"])
def test_golden(doc, frozen_specs, fmt):
    text = render.render(doc, fmt, frozen_specs)
    path = GOLDEN / f"report.{fmt}"
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist; written now — review and commit it")
    assert text == path.read_text(encoding="utf-8"), (
        f"{fmt} output differs from {path}; if intended, rerun with PGAUDIT_UPDATE_GOLDEN=1")


# --- Markdown escaping ---------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "escaped"), [
    ("a|b", r"a\|b"),
    ("`x`", r"\`x\`"),
    ("*b* _i_", r"\*b\* \_i\_"),
    ("<script>alert(1)</script>", r"\<script\>alert(1)\</script\>"),
    ("new\nline", "new ␤ line"),
    ("cr\r\nlf", "cr ␤ lf"),
    ("back\\slash", "back\\\\slash"),
    ("[link](x)", r"\[link\](x)"),
    ("# not a heading", r"\# not a heading"),
    ("- not a list", r"\- not a list"),
    ("1. not a list", r"1\. not a list"),
    ("0.1.0", "0.1.0"),
    ("&lt;", r"\&lt;"),
    ("café_表", r"café\_表"),
])
def test_md_escapes(raw, escaped):
    assert render.md(raw) == escaped


def test_md_cell_is_never_empty():
    assert render.md_cell("") == " "
    assert render.md_cell(None) == " "


@pytest.mark.parametrize(("sql", "fence"), [
    ("select 1;", "```"),
    ('create table "a```b" ();', "````"),
    ("```\n-- backticks", "````"),
    ("`````", "``````"),
])
def test_fence_is_longer_than_any_backtick_run(sql, fence):
    assert render.fence(sql) == fence


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def assert_tables_keep_their_shape(text: str) -> int:
    """Every row of every Markdown table has its header's cells; returns the rows checked.
    A text without a table row fails: it would show nothing about escaping."""
    lines = text.splitlines()
    rows = 0
    for i, line in enumerate(lines):
        if line.startswith("|---") and i > 0:
            width = _unescaped_pipes(lines[i - 1])
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert _unescaped_pipes(lines[j]) == width, f"row {j + 1} breaks: {lines[j]}"
                rows += 1
                j += 1
    assert rows, "no Markdown table rows to check"
    return rows


def test_markdown_tables_keep_their_shape(doc, frozen_specs):
    text = render.render(doc, "md", frozen_specs)
    assert_tables_keep_their_shape(text)
    # the hostile names are in the rows checked: a pipe inside one would add a cell
    assert '| app."pipe\\|table" |' in text


def test_teeth_tables_keep_their_shape():
    table = "| Object | Detail |\n|---|---|\n| a | b |\n"
    assert assert_tables_keep_their_shape(table) == 1
    with pytest.raises(AssertionError, match="no Markdown table rows"):
        assert_tables_keep_their_shape("# Report\n\nNo findings.\n")
    with pytest.raises(AssertionError, match="no Markdown table rows"):
        assert_tables_keep_their_shape("| Object | Detail |\n|---|---|\n")
    with pytest.raises(AssertionError, match="row 3 breaks"):
        assert_tables_keep_their_shape("| Object | Detail |\n|---|---|\n| a|b | c |\n")


def test_markdown_code_fences_are_not_closed_by_identifiers(doc, frozen_specs):
    text = render.render(doc, "md", frozen_specs)
    fence = None
    for line in text.splitlines():
        if fence is None:
            m = re.match(r"^(`{3,})sql$", line)
            if m:
                fence = m.group(1)
            else:
                assert not line.startswith("```"), f"stray fence line: {line!r}"
        elif line == fence:
            fence = None
    assert fence is None
    assert "````sql" in text  # the identifier with ``` forced a longer fence


def test_markdown_has_the_reviews_skeleton(doc, frozen_specs):
    text = render.render(doc, "md", frozen_specs)
    for heading in [
        "## Executive Summary", "### Overall Assessment", "- **🔴 Critical Issues:** 2 items",
        "- **🟡 Optimization Opportunities:** 9 items", "- **🟢 Well-Designed:**",
        "## 1. Schema Design", "### 1.1 Table Structure & Naming", "#### 🟢 Well-Designed",
        "#### 🔴 Critical Issues", "#### 🟡 Optimization Opportunities",
        "## 7. Scalability & Cost Optimization",
        "### 7.3 Cost-Efficient Design for Cloud Databases",
        "## Priority Action Items", "### 🔴 IMMEDIATE (Before Production)",
        "### 🟡 HIGH PRIORITY (Before Scale)", "### 🟢 LOW PRIORITY (Optimization)",
        "## Summary", "### Critical Risks (🔴)", "## Accepted Risks", "**Expired waivers**",
        "**Stale waivers**", "## Checks Not Run", "## Sign-off",
        "**1.1.1 Tables without a primary key (7 objects)**", "**Impact:** CRITICAL",
        "**Priority:** IMMEDIATE", "**Assumptions:** High traffic, multi-tenant",
    ]:
        assert heading in text, heading
    assert "hunter2" not in text
    assert "Changes since the last audit" not in text


def test_html_escapes_hostile_identifiers(doc, frozen_specs):
    html = render.render(doc, "html", frozen_specs)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<b>API</b>" not in html and "<b>bold</b>" not in html
    assert html.count("<script>") == 1  # ours, at the end
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no network


def test_diff_block_only_with_diff(doc, frozen_specs):
    with_diff = copy.deepcopy(doc)
    with_diff["diff"] = {
        "previous_run": {"generated_at": "2026-11-01T00:00:00+00:00"},
        "new": [{"check": "table_without_primary_key", "severity": "critical",
                 "title": "Tables without a primary key", "object": 'app."pipe|table"'}],
        "resolved": ["duplicate_index on app.old"],
        "persisting": 12,
    }
    md = render.render(with_diff, "md", frozen_specs)
    assert "## Changes since the last audit" in md
    assert "**1 new**, **1 resolved**, 12 persisting" in md
    assert 'app."pipe\\|table"' in md
    html = render.render(with_diff, "html", frozen_specs)
    assert 'id="changes"' in html


# --- report model --------------------------------------------------------------------------

def _finding(i: int, **kw) -> dict:
    base = {"check": "some_check", "section": "3.1", "severity": "warning", "priority": "medium",
                "object": f"public.t{i:03d}", "object_type": "table", "title": "Some defect",
                "detail": f"t{i} is bad", "columns": ["c"], "index": None, "evidence": {"rows": i},
                "remediation": f"select {i};", "impact": "slow", "fingerprint": "", "waived": None}
    base.update(kw)
    return Finding(**base).to_dict()


def _doc(findings: list[dict]) -> dict:
    run = AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                   target={"database": "d", "server_version": "17", "host": "h", "port": "5432"},
                   facts={}, scope={"schemas": ["public"]}, assumptions={},
                   findings=[Finding(**f) for f in findings], checks=[])
    return run.to_dict()


def test_many_objects_become_one_numbered_finding_with_caps():
    doc = _doc([_finding(i) for i in range(60)])
    ctx = report.build(AuditRun.from_dict(doc))
    sub = next(s for ch in ctx.chapters for s in ch.subsections if s.key == "3.1")
    assert len(sub.optimization) == 1
    g = sub.optimization[0]
    assert g.number == "3.1.1" and g.count == 60
    assert len(g.table_rows) == report.TABLE_CAP and g.table_more == 10
    assert g.sql.count("select") == report.SQL_CAP and g.sql_more == 30
    md = render.render(doc, "md")
    assert "(60 objects)" in md and "… and 30 more statements in the JSON report." in md
    assert "… and 10 more in the JSON report." in md


def test_criticals_are_numbered_first_and_medium_priority_buckets():
    doc = _doc([
        _finding(1, check="b_info", severity="info", priority="medium"),
        _finding(2, check="a_warn", severity="warning", priority="medium"),
        _finding(3, check="c_crit", severity="critical", priority="immediate"),
    ])
    ctx = report.build(AuditRun.from_dict(doc))
    sub = next(s for ch in ctx.chapters for s in ch.subsections if s.key == "3.1")
    assert [g.number for g in sub.critical] == ["3.1.1"]
    assert sub.critical[0].check == "c_crit"
    assert [g.check for g in sub.optimization] == ["a_warn", "b_info"]
    assert [a.title for a in ctx.actions["immediate"]] == ["Some defect"]
    assert [a.number for a in ctx.actions["high"]] == ["3.1.2"]  # medium warning → HIGH
    assert [a.number for a in ctx.actions["low"]] == ["3.1.3"]  # medium info → LOW


def test_report_never_shows_a_password():
    doc = _doc([_finding(1)])
    doc["target"]["display"] = "u@h:5432/d"
    md = render.render(doc, "md")
    assert "password" not in md.lower()


def test_bad_document_is_a_clean_error():
    with pytest.raises(PgauditError):
        AuditRun.from_dict({"findings": []})
    with pytest.raises(PgauditError):
        render.render(_doc([]), "pdf")


# --- waivers -------------------------------------------------------------------------------

def _waiver(**kw) -> Waiver:
    base = {"check": "some_check", "object": "public.t001", "reason": "r", "approved_by": "a",
                "expires": dt.date(2030, 1, 1)}
    base.update(kw)
    return Waiver(**base)


def test_waivers_match_expire_and_go_stale():
    run = AuditRun.from_dict(_doc([_finding(1), _finding(2, columns=["x", "y"]), _finding(3)]))
    fp3 = next(f.fingerprint for f in run.findings if f.object == "public.t003")
    result = waivers.apply(run, [
        _waiver(),
        _waiver(object="public.t002", columns=["y", "x"]),  # wrong column order: no match
        _waiver(object="public.t003", fingerprint=fp3),
        _waiver(object="public.t002", expires=dt.date(2020, 1, 1)),
        _waiver(object="public.gone"),
    ], today=dt.date(2026, 1, 1))
    waived = {f.object: f.waived for f in run.findings}
    assert waived["public.t001"] == {"reason": "r", "approved_by": "a", "expires": "2030-01-01"}
    assert waived["public.t002"] is None
    assert waived["public.t003"] is not None
    assert [w["object"] for w in result["expired"]] == ["public.t002"]
    assert result["expired"][0]["matched"] == 1
    assert sorted(w["object"] for w in result["stale"]) == ["public.gone", "public.t002"]
    doc = run.to_dict()
    assert doc["summary"]["warning"] == 1 and doc["summary"]["waived"] == 2
    assert doc["waivers"]["stale"]
    s = sarif.build(run)
    suppressed = [r for r in s["runs"][0]["results"] if r.get("suppressions")]
    assert len(suppressed) == 2


@given(st.text())
def test_toml_string_round_trips(value):
    assert tomllib.loads(f"v = {waivers.toml_string(value)}")["v"] == value


def test_baseline_text_parses_and_skips_ok_and_waived():
    findings = [Finding(**_finding(1, object='s."we""ird|\n"', columns=['a"b'])),
                Finding(**_finding(2, severity="ok")),
                Finding(**_finding(3, waived={"reason": "x"}))]
    text, n = waivers.baseline_text(findings, reason='because "legacy"', approved_by="me",
                                    expires=dt.date(2027, 1, 1))
    assert n == 1
    parsed = tomllib.loads(text)["waivers"][0]
    assert parsed["object"] == 's."we""ird|\n"' and parsed["columns"] == ['a"b']
    assert parsed["expires"] == dt.date(2027, 1, 1)
    w = Waiver(**parsed)
    assert waivers.matches(w, findings[0])


# --- SARIF ---------------------------------------------------------------------------------

def test_sarif_shape(doc, frozen_specs):
    s = json.loads(render.render(doc, "sarif", frozen_specs))
    assert s["version"] == "2.1.0"
    run = s["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert {r["level"] for r in run["results"]} <= {"error", "warning", "note"}
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        assert r["partialFingerprints"]
    pk = next(r for r in rules if r["id"] == "table_without_primary_key")
    assert pk["shortDescription"]["text"] == "Tables without a primary key"
    assert "Why it matters" in pk["help"]["text"]
    non_ok = [f for f in doc["findings"] if f["severity"] != "ok"]
    assert len(run["results"]) == len(non_ok)


# --- output --------------------------------------------------------------------------------

def test_destinations(tmp_path):
    assert destinations(None, ["md"]) == {"md": None}
    with pytest.raises(PgauditError):
        destinations(None, ["md", "html"])
    assert destinations(tmp_path, ["md", "json"]) == {
        "md": tmp_path / "report.md", "json": tmp_path / "report.json"}
    assert destinations(tmp_path / "audit.md", ["md", "html"]) == {
        "md": tmp_path / "audit.md", "html": tmp_path / "audit.html"}
    assert destinations(tmp_path / "r.txt", ["md"]) == {"md": tmp_path / "r.txt"}
    # a trailing separator means a folder, which must exist (given as a string: Path drops it)
    with pytest.raises(PgauditError, match="does not exist"):
        destinations(f"{tmp_path}/missing/", ["md", "json"])
    assert destinations(f"{tmp_path}/", ["md"]) == {"md": tmp_path / "report.md"}


def test_write_atomic_replaces_whole_files(tmp_path):
    target = tmp_path / "r.md"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]  # no temp file left behind
    with pytest.raises(PgauditError):
        ensure_writable(tmp_path / "nope" / "r.md")
    with pytest.raises(PgauditError):
        ensure_writable(tmp_path)
