"""The executive summary's count of critical issues against the action items it names.

Critical issues are counted by subsection (a check on two tables is two numbered issues), the
Priority Action Items by check: "found 3 critical issues ...: a; b" read as a miscount until the
sentence says how many kinds those are (issue 12, found reading the demo report).
"""

from __future__ import annotations

import psycopg

from pgaudit import evidence, render
from pgaudit.api import load_checks
from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun, Finding


def _summary(objects_per_check: list[int]) -> str:
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
    return next(line for line in md.splitlines() if line.startswith("The audit of app found"))


def test_issues_of_fewer_kinds_say_so() -> None:
    assert "found 3 critical issues of 2 kinds that" in _summary([2, 1])


def test_teeth_one_issue_per_kind_says_no_kinds() -> None:
    line = _summary([1, 1])
    assert "found 2 critical issues that" in line
    assert "kind" not in line


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
