"""The executive summary's count of critical issues against the action items it names.

Critical issues are counted by subsection (a check on two tables is two numbered issues), the
Priority Action Items by check: "found 3 critical issues ...: a; b" read as a miscount until the
sentence says how many kinds those are (issue 12, found reading the demo report).
"""

from __future__ import annotations

import re

import psycopg

from pgaudit import evidence, render, wording
from pgaudit.api import load_checks
from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun, Finding


def _summary(objects_per_check: list[int], starts: str = "The audit of app found") -> str:
    specs = load_checks()
    critical = [s for s in specs.values() if "critical" in s.levels()][:len(objects_per_check)]
    assert len(critical) == len(objects_per_check)
    findings = [
        Finding(check=spec.id, section=spec.section, severity="critical", priority="immediate",
                object=f"app.t{n}_{i}", object_type="table", title=spec.title,
                detail="shown", remediation="select 1;", impact=spec.impact)
        for n, (spec, count) in enumerate(zip(critical, objects_per_check, strict=True))
        for i in range(count)]
    run = AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                   target={"database": "app", "server_version": "17", "host": "h", "port": "1"},
                   facts={}, scope={"schemas": ["app"]}, assumptions={}, findings=findings,
                   checks=[])
    md = render.render(run, "md", specs)
    return next(line for line in md.splitlines() if line.startswith(starts))


def test_issues_of_fewer_kinds_say_so() -> None:
    assert "found 3 critical issues of 2 kinds that" in _summary([2, 1])


def test_teeth_one_issue_per_kind_says_no_kinds() -> None:
    line = _summary([1, 1])
    assert "found 2 critical issues that" in line
    assert "kind" not in line


def test_overall_assessment_counts_the_kinds_the_action_items_list() -> None:
    line = _summary([2, 1], starts="- **🔴 Critical Issues:**")
    assert "3 items of 2 kinds requiring immediate attention (3 critical findings)" in line
    teeth = _summary([1, 1], starts="- **🔴 Critical Issues:**")
    assert "2 items requiring immediate attention" in teeth and "kind" not in teeth


def _evidence_line(columns: int) -> str:
    specs = load_checks()
    spec = next(s for s in specs.values() if "critical" in s.levels())
    findings = [
        Finding(check=spec.id, section=spec.section, severity="critical", priority="immediate",
                object="app.t", object_type="table", title=spec.title, detail=f"c{i} shown",
                columns=[f"c{i}"], evidence={"estimated_rows": 5, "column": f"c{i}"},
                remediation="select 1;", impact=spec.impact)
        for i in range(columns)]
    run = AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                   target={"database": "app", "server_version": "17", "host": "h", "port": "1"},
                   facts={}, scope={"schemas": ["app"]}, assumptions={}, findings=findings,
                   checks=[])
    md = render.render(run, "md", specs)
    return next(line for line in md.splitlines() if line.startswith("_Common to"))


def test_evidence_common_to_two_reads_both() -> None:
    assert _evidence_line(2).startswith("_Common to both:_")


def test_teeth_evidence_common_to_three_counts_them() -> None:
    assert _evidence_line(3).startswith("_Common to all 3:_")


def test_a_label_does_not_repeat_the_unit_its_value_carries() -> None:
    labels = {"server_ms": "Server level (ms)", "dead_pct": "Dead share (%)",
              "writes_per_s": "Writes (per s)"}
    shown = dict(evidence.items({"server_ms": 0, "dead_pct": 12.5, "writes_per_s": 3},
                                labels=labels))
    assert shown == {"Server level": "0 ms", "Dead share": "12.5%", "Writes (per s)": "3"}


def test_varchar_statistics_read_as_shares(db: str, specs: dict[str, CheckSpec]) -> None:
    """pg_stats' n_distinct -1 means "all rows distinct", null_frac is a fraction: neither is
    shown raw."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create table wide (code varchar(255));"
                     " insert into wide select 'c' || g from generate_series(1, 500) g;"
                     " insert into wide select null from generate_series(1, 100);"
                     " analyze wide")
    spec = specs["varchar_length_mismatch"]
    options = AuditOptions(overrides={spec.id: CheckOverride(
        params={"min_rows": 0, "min_declared": 10})})
    found = [f for f in audit(db, [spec], options).findings if f.object == "public.wide"]
    assert len(found) == 1
    assert found[0].evidence["n_distinct"].endswith("% of rows")
    assert 16 <= found[0].evidence["null_pct"] <= 17  # 100 of 600 rows


def test_table_growth_green_line_names_sizes_not_parameters(
        db: str, specs: dict[str, CheckSpec]) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create table if not exists small (id int); analyze small")
    run = audit(db, [specs["table_growth"]], AuditOptions())
    ok = [f for f in run.findings if f.severity == "ok"]
    assert len(ok) == 1
    assert "min_bytes" not in ok[0].title + ok[0].detail
    assert "tables are listed from 100 MB" in ok[0].title + ok[0].detail


def test_counts_carry_their_noun_in_the_right_number() -> None:
    template = ("{one:plural:enum type}; {many:plural:enum type}; {many:plural:unique index}; "
                "{zero:plural:replica}; {one:plural:function or other object|functions or other "
                "objects}; {many:plural:entry}")
    assert wording.fill(template, {"one": 1, "many": 8, "zero": 0}) == (
        "1 enum type; 8 enum types; 8 unique indexes; 0 replicas; 1 function or other object; "
        "8 entries")


def test_teeth_no_sentence_writes_a_plural_in_parentheses() -> None:
    # "8 enum type(s)", "login role(s)", "unique index(es)": a check's sentences, its labels and
    # the SQL string literals that build sentences say the number once, in words
    plural = re.compile(r"[a-z]\((s|es)\)(?!\?)")
    found = []
    for spec in load_checks().values():
        sql = re.sub(r"--[^\n]*", "", spec.sql)
        texts = [spec.message, spec.ok_message, spec.ok, spec.impact, spec.remediation,
                 *spec.labels.values(), *re.findall(r"'(?:[^']|'')*'", sql)]
        found += [f"{spec.id}: {t}" for t in texts if t and plural.search(t)]
    assert found == []


def test_sizes_and_windows_in_sentences_are_facts() -> None:
    facts = {"db_bytes": 8583000, "age_s": 7200.0, "needed_s": 86400.0, "long_s": 90000.0}
    assert wording.fill("of {db_bytes:size}", facts) == "of 8.2 MB"
    assert wording.fill("x{age_s:window:needed_s}", facts) == (
        "x, not judged: the statistics cover less than the 24.0 h needed to judge rates")
    # a sentence reads the same on the next run: the age moves, it stays in the facts
    assert wording.fill("x{age_s:window:needed_s}", {**facts, "age_s": 7211.0}) == (
        wording.fill("x{age_s:window:needed_s}", facts))
    # the check's result (no verdict) may say the age: it is not a finding's sentence
    assert wording.window_too_short(7200.0, 86400.0) == (
        "the statistics cover 2.0 h of the 24.0 h needed to judge rates")
    assert wording.fill("x{long_s:window:needed_s}", facts) == "x"


def test_thresholds_read_as_sentences() -> None:
    specs = load_checks()
    run = AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                   target={"database": "app", "server_version": "17", "host": "h", "port": "1"},
                   facts={}, scope={"schemas": ["app"], "allow_data": True,
                                    "lock_timeout_ms": 2000}, assumptions={}, findings=[],
                   checks=[])
    md = render.render(run, "md", specs)
    line = next(line for line in md.splitlines() if line.startswith("**Thresholds:**"))
    assert "Table rows read: yes, bounded samples" in line
    assert "Audit lock\\_timeout: 2000 ms" in line


def test_remediation_names_checks_by_title_not_id() -> None:
    specs = load_checks()
    ids = re.compile(r"\b(" + "|".join(re.escape(i) for i in specs) + r")\b")
    named = {s.id: ids.findall(s.remediation or "") for s in specs.values()}
    assert {k: v for k, v in named.items() if v} == {}


def test_teeth_no_sentence_names_an_engine_parameter() -> None:
    # "not judged (their statistics cover less than min_checkpoint_window_s)", "a statistics
    # window too short to judge (min_stats_age_s)": the lines say the window, not the knob
    found = []
    for spec in load_checks().values():
        knobs = {"min_stats_age_s", *(k for k in spec.params if k.endswith("_s"))}
        sql = re.sub(r"--[^\n]*", "", spec.sql)
        texts = [spec.message, spec.ok_message, spec.ok,
                 *(t for t in re.findall(r"'(?:[^']|'')*'", sql) if " " in t and "%(" not in t)]
        # a {placeholder} names a fact, filled in; the words around it must not name a knob
        words = [re.sub(r"\{[^}]*\}", "", t) for t in texts if t]
        found += [f"{spec.id}: {k}" for t in words for k in knobs if k in t]
    assert found == []


def test_teeth_no_evidence_label_names_a_parameter() -> None:
    # "Expired rows found (read stops at min_expired_rows)": a label says what the number is,
    # in words; the parameter's name is for the config file (knob-like names: with a '_')
    found = [f"{spec.id}.{key}: {label}"
             for spec in load_checks().values()
             for key, label in spec.labels.items()
             for param in spec.params if "_" in param and param in label]
    assert found == []


def test_large_counts_are_written_with_thousands_separated() -> None:
    """1,165 findings, not 1165: the Executive Summary's paragraph, its bullets and the HTML
    tiles. Teeth: the same run with a count under 1,000 has no separator to find."""
    specs = load_checks()
    spec = next(s for s in specs.values() if "warning" in s.levels() and s.section < "7")

    def run_of(n: int) -> AuditRun:
        findings = [Finding(check=spec.id, section=spec.section, severity="warning",
                            priority="high", object=f"app.t{i}", object_type="table",
                            title=spec.title, detail="shown", impact=spec.impact)
                    for i in range(n)]
        return AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                        target={"database": "app", "server_version": "17", "host": "h",
                                "port": "1"},
                        facts={}, scope={"schemas": ["app"]}, assumptions={},
                        findings=findings, checks=[])

    md = render.render(run_of(1165), "md", specs)
    html = render.render(run_of(1165), "html", specs)
    assert "(1,165 findings) would improve" in md
    assert "(1,165 warning and 0 info findings)" in md
    assert "1,165 warning and 0 info findings" in html
    assert "Optimization opportunities · 1,165 findings" in html  # the tile
    assert wording.plural(12556, "table") == "12,556 tables" and wording.plural(1, "row") == "1 row"
    assert not re.search(r"\b1165\b", md.split("## Appendix")[0])
    small = render.render(run_of(999), "md", specs)
    assert "(999 findings) would improve" in small and "999 warning and 0 info" in small
