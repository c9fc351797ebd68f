"""Report model and renderers: golden files, escaping of hostile identifiers, grouping, waivers.

Golden files live in tests/render/golden/; rewrite them after an intended change with
``PGAUDIT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render.py`` and review the diff.
The fixture run (tests/render/run.json) is a real audit of a schema full of hostile names,
with a waived finding, expired and stale waivers, a skipped and a failed check added by hand;
also by hand: five more tables without a primary key (a group longer than a finding shows
inline), an entry with "also", facts a person does not read, a partial positive beside a
critical of its check, a not-applicable check and an inventory. The check headers it is
rendered with are frozen copies in tests/render/checks/.
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

from pgaudit import evidence, render, report, sarif, waivers
from pgaudit.checkfile import discover
from pgaudit.config import Waiver
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, CheckResult, Finding
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
        "**1.1.1 Tables without a primary key (12 tables)**", "**Impact:** CRITICAL",
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
    assert len(g.table_rows) == report.INLINE_PREVIEW and g.table_more == 60 - report.INLINE_PREVIEW
    assert g.sql.count("select") == report.SQL_CAP and g.sql_more == 30
    # the whole list is in the appendix, once
    assert g.object_list is not None and len(g.object_list.rows) == 60
    assert [o.number for o in ctx.object_lists] == ["3.1.1"]
    md = render.render(doc, "md")
    assert "(60 columns on 60 tables)" in md
    assert "… and 30 more statements in the JSON report." in md
    assert f"… and {60 - report.INLINE_PREVIEW} more: see Appendix: object lists, 3.1.1." in md
    body, _, appendix = md.partition("## Appendix: object lists")
    assert "public.t055" not in body and "public.t055" in appendix
    assert "the largest, public.t059, has \\~59 rows" in body
    html = render.render(doc, "html")
    assert 'href="#a-3-1-1"' in html and 'id="a-3-1-1"' in html


def test_the_appendix_keeps_a_cap_with_its_total(monkeypatch):
    monkeypatch.setattr(report, "APPENDIX_CAP", 25)
    ctx = report.build(AuditRun.from_dict(_doc([_finding(i) for i in range(40)])))
    (lst,) = ctx.object_lists
    assert len(lst.rows) == 25 and lst.more == 15


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


def test_a_few_objects_split_unless_informational():
    doc = _doc([_finding(i, check="w", severity="warning", priority="high") for i in (1, 2, 3)]
               + [_finding(i, check="i", severity="info", priority="low") for i in (4, 5, 6)])
    ctx = report.build(AuditRun.from_dict(doc))
    sub = next(s for ch in ctx.chapters for s in ch.subsections if s.key == "3.1")
    assert [(g.check, g.count) for g in sub.optimization] == [
        ("w", 1), ("w", 1), ("w", 1), ("i", 3)]
    assert [g.fix_ref for g in sub.optimization] == ["", "", "", ""]  # no spec: no fix prose


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


# --- what the report says: true 🟢 lines, one count, evidence for people --------------------

def _ok(check: str, title: str, *, wide: bool, obj: str = "d", section: str = "3.1") -> dict:
    return _finding(0, check=check, severity="ok", priority="low", object=obj, section=section,
                    object_type="database" if wide else "table", title=title, detail=title,
                    columns=[], evidence={}, remediation=None, impact=None, check_wide=wide)


def _run(findings: list[dict], checks: list[CheckResult] | None = None) -> AuditRun:
    run = AuditRun.from_dict(_doc(findings))
    run.checks = checks or []
    return run


def test_green_lines_are_true():
    run = _run([
        _finding(1, check="cascade", severity="critical", priority="immediate"),
        # the check-wide line of a check that also found something: never shown
        _ok("cascade", "No delete propagates", wide=True),
        # a partial positive: its own sentence, even beside a critical of its check
        _ok("secrets", "Passwords not stored in clear: public.users.password_hash", wide=False,
            obj="public.users"),
        _finding(2, check="secrets", severity="critical", priority="immediate"),
        _ok("fine", "No invalid indexes", wide=True),
        # a check with nothing to judge: one "not applicable" line, not well-designed
        _ok("soft", "Soft-delete tables have partial indexes", wide=True),
    ], [CheckResult("soft", "not_applicable", "no soft-delete table in scope")])
    specs = {"soft": _spec("soft", "Soft-delete tables without a partial index", "3.1")}
    ctx = report.build(run, specs)
    sub = next(s for ch in ctx.chapters for s in ch.subsections if s.key == "3.1")
    assert [(o.title, o.check_wide) for o in sub.ok] == [
        ("Passwords not stored in clear: public.users.password_hash", False),
        ("No invalid indexes", True)]
    assert sub.not_applicable == [("Soft-delete tables without a partial index",
                                   "no soft-delete table in scope")]
    # the well-designed count is what is listed, everywhere it is printed
    assert ctx.counts["well_designed"] == 2 and ctx.not_applicable == 1
    assert ctx.well_designed_line.startswith("2 aspects")
    assert "2 well-designed aspects are listed" in ctx.assessment
    md = render.render(run, "md", specs)
    assert "No delete propagates" not in md
    assert "Soft-delete tables have partial indexes" not in md
    assert "_Not applicable: Soft-delete tables without a partial index (no soft-delete table" in md
    assert "2 aspects" in md and "(1 not applicable, not counted)" in md
    html = render.render(run, "html", specs)
    assert '<div class="v">2</div><div class="l">Well-designed aspects' in html
    assert "Well-designed (2)" in html


def test_teeth_a_contradicted_green_line_is_caught():
    """The rule is not vacuous: without the critical, the check-wide line is shown."""
    run = _run([_ok("cascade", "No delete propagates", wide=True)])
    assert "No delete propagates" in render.render(run, "md")


def test_the_executive_summary_names_each_category_once():
    # two objects of one check: two numbered findings (2.1.1, 2.1.2), one category
    run = _run([_finding(i, check="missing_fk", severity="critical", priority="immediate",
                         section="2.1", title="Columns without a foreign key") for i in (1, 2)])
    ctx = report.build(run)
    assert [g.number for ch in ctx.chapters for s in ch.subsections for g in s.critical] == [
        "2.1.1", "2.1.2"]
    assert ctx.assessment.count("columns without a foreign key") == 1
    assert "columns without a foreign key (2 columns on 2 tables)" in ctx.assessment
    (item,) = ctx.actions["immediate"]
    assert item.number == "2.1.1, 2.1.2" and item.count == 2


def test_also_is_one_line_and_no_second_fix(doc, frozen_specs):
    md = render.render(doc, "md", frozen_specs)
    entry = md.split("**1.1.2 ", 1)[1].split("**1.1.3 ", 1)[0]
    assert "**Also:** Same column name with different types across tables (info)  \n" in entry
    assert entry.count("**Fix:**") == 1 and entry.count("```sql") == 1
    html = render.render(doc, "html", frozen_specs)
    assert ('<p class="also"><strong>Also:</strong> Same column name with different types'
            " across tables (info)</p>") in html


def test_a_group_opens_with_a_sentence_about_this_database(doc, frozen_specs):
    md = render.render(doc, "md", frozen_specs)
    assert ("**1.1.1 Tables without a primary key (12 tables)**  \nFound on 12 tables in 1 schema"
            " (app); the largest, app.audit\\_2025, has \\~2.4 M rows.") in md
    assert frozen_specs["table_without_primary_key"].detects not in md


MACHINE = re.compile(
    r"\^\(|\(\?[:=!]|\\\\[dws]"  # regular expressions
    r"|\{\\?\"|\[\\?'|: \\?\{"  # JSON and Python reprs
    r"|\bStats age\b|\bTrue\b|\bFalse\b|\bNone\b"  # internal parameters, Python values
)


def machine_text(md: str) -> list[str]:
    """Evidence lines of a Markdown report that show what only a program reads: regular
    expressions, JSON or Python reprs, internal parameters."""
    return [line for line in md.splitlines()
            if line.startswith(("_Evidence:_", "_Common to all")) and MACHINE.search(line)]


def test_evidence_is_for_people(doc, frozen_specs):
    md = render.render(doc, "md", frozen_specs)
    assert machine_text(md) == []
    line = next(x for x in md.splitlines() if x.startswith("_Evidence:_ Rows: 1,234,567"))
    assert line == ("_Evidence:_ Rows: 1,234,567 · Table size: 70.0 MB · Html: \\<img src=x"
                    " onerror=alert(1)\\> · Last autovacuum age: 26.1 h · Dead: 12.3% · Also in:"
                    " app.orders, app.events · Seen at: 2026-11-25 21:04 UTC  ")


def test_teeth_machine_text_is_caught():
    assert machine_text("_Evidence:_ Pattern: ^(.+)\\_id$ · Type: uuid\n")
    assert machine_text('_Evidence:_ Types: \\{"a": \\["b"\\]\\}\n')
    assert machine_text("_Common to all 3:_ Stats age s: 695\n")
    assert not machine_text("_Evidence:_ Estimated rows: 20,000 · Heap size: 8.0 kB\n")


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("heap_bytes", 73400320, ("Heap size", "70.0 MB")),
    ("wal_behind_bytes", 512, ("WAL behind", "512 bytes")),
    ("last_vacuum_age_s", 93784, ("Last vacuum age", "26.1 h")),
    ("replay_lag_s", 42, ("Replay lag", "42 s")),
    ("server_ms", 1500, ("Server", "2 s")),
    ("dead_pct", 12.345, ("Dead", "12.3%")),
    ("share_pct", 0.004, ("Share", "0.004%")),
    ("writes_per_s", 12.5, ("Writes per s", "12.5")),
    ("n_fk", 3, ("FK count", "3")),
    ("pg_stat_statements_loaded", True, ("pg_stat_statements loaded", "yes")),
    ("missing", ["created_by", "updated_by"], ("Missing", "created_by, updated_by")),
    ("valid_until", "2000-01-01T00:00:00+00:00", ("Valid until", "2000-01-01 00:00 UTC")),
])
def test_a_fact_reads_with_its_unit(key, value, shown):
    assert evidence.items({key: value}) == [shown]


@pytest.mark.parametrize(("key", "value"), [
    ("_columns_text", "a, b"),  # internal by name
    ("stats_age_s", 695),  # how the audit ran
    ("critical_rows", 1000000),  # a [params] threshold (below)
    ("pattern", "^(.+)_id$"),
    ("matched_by", "balance columns ~ ledger_column_pattern"),  # names a parameter
    ("name_regex", "x"),
    ("candidates", "(?i)token"),
    ("types", {"uuid": ["a.b"]}),
    ("payload", '{"a": 1}'),
    ("oldest", [{"relation": "t", "xid_age": 3}]),
    ("reasons", "['upper case']"),
    ("partitioned", False),  # a false flag nobody labelled
    ("rows", None),
    ("other", []),
])
def test_machine_facts_stay_in_the_json(key, value):
    params = {"critical_rows": 1, "ledger_column_pattern": "x"}
    assert evidence.items({key: value}, params=params) == []


def test_labels_come_from_the_check_and_repeats_are_dropped():
    facts = {"est_rows": 5, "partitioned": False, "column": "email", "note": "public.t has a flaw"}
    labels = {"est_rows": "Estimated rows", "partitioned": "Partitioned"}
    assert evidence.items(facts, labels=labels, sentence="public.t has a flaw: 5 rows",
                          repeats=("email",)) == [
        ("Estimated rows", "5"), ("Partitioned", "no")]


def test_html_evidence_is_collapsed(doc, frozen_specs):
    html = render.render(doc, "html", frozen_specs)
    assert html.count('<details class="evidence">') >= 5
    assert '<details class="evidence" open' not in html


def test_inventory_appendix(doc, frozen_specs):
    md = render.render(doc, "md", frozen_specs)
    inventory = md.split("## Appendix: Inventory", 1)[1]
    assert "Tables: 17 (and 2 partitions) · Indexes: 21" in inventory
    assert "| app.audit\\_2025 | 2,400,000 | 1.0 GB | 870.4 MB | 1 | 153.6 MB |" in inventory
    assert "**Tables never analyzed:** 2 — app.\"pipe\\|table\", public.scratch" in inventory
    assert "**Not measured** (locked by concurrent DDL): app.\"back\\`\\`\\`tick\"" in inventory
    assert_tables_keep_their_shape(inventory)
    html = render.render(doc, "html", frozen_specs)
    assert 'id="inventory"' in html and 'href="#inventory"' in html
    # a run written before the inventory existed renders without the appendix
    old = {k: v for k, v in doc.items() if k != "inventory"}
    assert "Appendix: Inventory" not in render.render(old, "md", frozen_specs)


def _spec(check: str, title: str, section: str):
    from pgaudit.checkfile import CheckSpec

    return CheckSpec(id=check, title=title, section=section, severity="warning", detects="d",
                     why="w", example="e", fix="f", ignore_when="i", ok="ok", impact="x",
                     sql="select 1", path=f"{check}.sql")


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
    # a trailing separator means a folder (given as a string: Path drops it), created later
    assert destinations(f"{tmp_path}/missing/", ["md", "json"]) == {
        "md": tmp_path / "missing" / "report.md", "json": tmp_path / "missing" / "report.json"}
    assert not (tmp_path / "missing").exists()
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


# --- trend charts --------------------------------------------------------------------------

def _instants(*stamps: str) -> list[float]:
    return [dt.datetime.fromisoformat(s).timestamp() for s in stamps]


@pytest.mark.parametrize("stamps", [
    ("2026-12-04T09:15:00+00:00", "2026-12-04T17:40:00+00:00", "2026-12-05T02:00:00+00:00"),
    ("2026-12-04T09:15:00+00:00", "2026-12-04T09:15:05+00:00", "2026-12-04T09:15:12+00:00"),
    ("2026-12-04T09:15:00+00:00", "2026-12-06T17:40:00+00:00"),
    ("2026-12-01T00:00:00+00:00", "2026-12-04T23:00:00+00:00"),
    ("2025-10-01T09:15:00+00:00", "2026-12-04T17:40:00+00:00"),
    ("2024-10-01T09:15:00+00:00", "2026-12-04T17:40:00+00:00"),
])
def test_time_axis_labels_each_tick_once(stamps):
    from pgaudit.charts import MAX_TICKS, time_axis

    axis = time_axis(_instants(*stamps))
    labels = [label for _, label in axis.ticks]
    assert 2 <= len(labels) <= MAX_TICKS
    assert len(set(labels)) == len(labels), labels
    assert all(axis.lo <= t <= axis.hi for t, _ in axis.ticks)
    assert axis.lo < min(_instants(*stamps)) and axis.hi > max(_instants(*stamps))


def test_value_axis_round_ticks_and_units():
    from pgaudit.charts import value_axis

    axis, scale, unit = value_axis([0, 3, 17])
    assert [label for _, label in axis.ticks] == ["0", "5", "10", "15", "20"] and unit == ""
    axis, scale, unit = value_axis([1.5 * 1024 ** 2, 2e5], "bytes")
    assert unit == "MB" and scale == 1024 ** 2
    assert [label for _, label in axis.ticks] == ["0.0", "0.5", "1.0", "1.5"]
    axis, _, _ = value_axis([0, 0, 1])
    assert [label for _, label in axis.ticks] == ["0", "1"]  # counts: whole numbers only


def test_trend_chart_one_point_per_run_escaped_and_reproducible():
    from pgaudit.charts import trend_charts

    runs = [{"generated_at": t, "critical": 1, "warning": 2, "info": i}
            for i, t in enumerate(("2026-11-25T03:30:00+00:00", "2026-11-26T01:05:00+00:00",
                                   "2026-11-26T03:30:00+00:00"))]
    growth = {'app."<b>x</b>"': [[r["generated_at"], 10 ** 6 * (i + 1)]
                                 for i, r in enumerate(runs)]}
    charts = trend_charts({"runs": runs, "growth": growth})
    assert charts == trend_charts({"runs": runs, "growth": growth})  # no random ids
    findings, sizes = charts
    assert findings.count('r="3.5"') == 3 * 3 and sizes.count('r="3.5"') == 3  # legend aside
    assert ">Findings per audit</text>" in findings and ">Findings</text>" in findings
    assert ">Size (MB)</text>" in sizes and "<b>" not in sizes and "&lt;b&gt;" in sizes
    # the two runs of Nov 26 are two points at their own times, under one day's tick
    assert findings.count(">Nov 26<") <= 1
