"""The layers: one typed run whose counts every output reads, the audit in two phases (store
read before the checks run, no callback), and an engine that never imports the store."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from pgaudit import api, cli, prometheus, render, report, sarif, waivers
from pgaudit.checkfile import CheckSpec
from pgaudit.cli import app
from pgaudit.config import Waiver
from pgaudit.engine import AuditOptions, open_audit
from pgaudit.model import AuditRun, CheckResult, Diff, Finding
from pgaudit.store import Store
from tests.casefile import execute_script

CHECK = "table_without_primary_key"


def _finding(i: int, severity: str = "warning", check: str = "some_check", **kw: object) -> Finding:
    fields: dict[str, object] = {
        "check": check, "section": "3.1", "severity": severity, "priority": "medium",
        "object": f"public.t{i:03d}", "object_type": "table", "title": f"{check} title",
        "detail": f"t{i}"}
    fields.update(kw)
    return Finding(**fields)  # type: ignore[arg-type]


def _run() -> AuditRun:
    findings = [
        _finding(1, "critical", "crit_a"), _finding(2, "critical", "crit_a"),
        _finding(3, "critical", "crit_b"), _finding(4, "warning"), _finding(5, "warning"),
        _finding(6, "info"), _finding(7, "ok", "fine"), _finding(8, "ok", "fine"),
    ]
    run = AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                   target={"database": "d", "server_version": "17", "host": "h", "port": "5432"},
                   facts={}, scope={"schemas": ["public"]}, assumptions={}, findings=findings,
                   checks=[CheckResult("crit_a", "ran"), CheckResult("crit_b", "ran")])
    # one critical and one warning accepted
    waivers.apply(run, [
        Waiver(check="crit_a", object="public.t001", reason="r", approved_by="a",
               expires=dt.date(2099, 1, 1)),
        Waiver(check="some_check", object="public.t004", reason="r", approved_by="a",
               expires=dt.date(2099, 1, 1)),
    ], today=dt.date(2026, 1, 1))
    before = {_finding(9).fingerprint: _finding(9).brief()}  # resolved since
    run.diff = Diff.compare(run.findings, before, {"id": 1, "generated_at": "2025-12-31"})
    return run


def test_every_output_reads_the_same_counts() -> None:
    run = _run()
    s = run.summary
    assert (s.critical, s.warning, s.info, s.ok, s.waived) == (2, 1, 1, 2, 2)
    # new: every counted non-ok finding (the previous run had none of them); waived ones are not
    assert (s.new, s.resolved) == (4, 1)
    assert s.new_by_severity == {"critical": 2, "warning": 1, "info": 1}
    # JSON, and JSON read back
    doc = run.to_dict()
    assert doc["summary"] == {"critical": 2, "warning": 1, "info": 1, "ok": 2, "waived": 2,
                              "new": 4, "resolved": 1}
    assert AuditRun.from_dict(json.loads(json.dumps(doc))).summary == s
    # exit codes
    assert api.exit_code(run, "critical") == 1 and api.exit_code(run, "never") == 0
    assert api.exit_code(run, "critical", fail_on_new="critical") == 1
    # the report: objects per severity, well-designed, waived, the changes block
    ctx = report.build(run)
    assert ctx.counts["critical_objects"] == s.critical
    assert ctx.counts["optimization_objects"] == s.warning + s.info
    assert (ctx.counts["ok"], ctx.counts["waived"]) == (s.ok, s.waived)
    assert ctx.diff is not None
    assert (ctx.diff["new_count"], ctx.diff["resolved_count"]) == (s.new, s.resolved)
    md = render.render(run, "md")
    assert "**4 new**, **1 resolved**" in md
    # SARIF: waived findings are suppressed results
    results = sarif.build(run)["runs"][0]["results"]
    live = [r for r in results if not r.get("suppressions")]
    assert len(live) == s.critical + s.warning + s.info
    # Prometheus
    prom = prometheus.metrics([("t", run, 1.0)])
    findings = [line for line in prom.splitlines() if line.startswith("pgaudit_findings{")]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in findings) == s.at_or_above("info")
    assert 'pgaudit_new_findings{target="t",severity="critical"} 2' in prom


def test_waived_new_finding_is_not_news() -> None:
    run = _run()
    assert run.diff is not None
    assert {f["object"] for f in run.diff.new} == {"public.t002", "public.t003", "public.t005",
                                                   "public.t006"}
    # a waived critical does not fail --fail-on-new
    for f in run.findings:
        if f.severity == "critical":
            f.waived = {"reason": "r"}
    run.diff = Diff.compare(run.findings, {}, {"id": 1})
    assert run.summary.new_by_severity.get("critical", 0) == 0
    assert api.exit_code(run, "never", fail_on_new="critical") == 0


# --- one set of counts in every format ------------------------------------------------------

COUNTED = ("critical", "warning", "info", "ok", "waived")
FIXTURE = Path(__file__).parent / "render" / "run.json"


def _text_counts(text: str) -> dict[str, int]:
    """The counts a report prints in its executive summary (Markdown or HTML, tags and emphasis
    removed): findings per severity, well-designed aspects listed, waived findings."""
    plain = re.sub(r"<[^>]+>", "", text).replace("**", "")
    found = {
        "critical": re.search(r"\((\d+) critical findings?\)", plain),
        "warning": re.search(r"\((\d+) warning and \d+ info findings?\)", plain),
        "info": re.search(r"\(\d+ warning and (\d+) info findings?\)", plain),
        "ok": re.search(r"Well-Designed: (\d+) aspects?", plain),
        "waived": re.search(r"Accepted risks: (\d+) waived", plain),
    }
    return {k: int(m.group(1)) if m else -1 for k, m in found.items()}


def counts_by_format(run: AuditRun, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, int]]:
    """critical/warning/info/ok/waived as each output shows them."""
    out: dict[str, dict[str, int]] = {}
    monkeypatch.setattr(cli, "_tty", lambda: True)
    capsys.readouterr()
    nowhere = SimpleNamespace(written=[], stem=False)  # no report file: the counts line only
    cli._summary(run, nowhere, 0, output=None, fail_on="never",  # type: ignore[arg-type]
                 fail_on_new=None, screen=False)
    line = capsys.readouterr().err
    m = re.search(r"(\d+) critical, (\d+) warning, (\d+) info, (\d+) ok(?:, (\d+) waived)?", line)
    assert m, line
    out["terminal"] = dict(zip(COUNTED, (int(g or 0) for g in m.groups()), strict=True))
    out["md"] = _text_counts(render.render(run, "md"))
    out["html"] = _text_counts(render.render(run, "html").split('id="actions"')[0])
    doc = json.loads(render.render(run, "json"))
    out["json"] = {k: doc["summary"][k] for k in COUNTED}
    back = AuditRun.from_dict(doc)
    out["json read back"] = {k: getattr(back.summary, k) for k in COUNTED}
    sarif_run = json.loads(render.render(run, "sarif"))["runs"][0]
    out["sarif"] = {k: sarif_run["properties"]["summary"][k] for k in COUNTED}
    results = sarif_run["results"]
    by_level = {lvl: sum(1 for r in results if r["level"] == lvl and not r.get("suppressions"))
                for lvl in ("error", "warning", "note")}
    out["sarif results"] = {"critical": by_level["error"], "warning": by_level["warning"],
                            "info": by_level["note"], "ok": out["sarif"]["ok"],
                            "waived": sum(1 for r in results if r.get("suppressions"))}
    prom = render.render(run, "prom")
    out["prom"] = {k: int(re.search(rf'pgaudit_summary{{[^}}]*severity="{k}"}} (\d+)',
                                    prom).group(1)) for k in COUNTED}  # type: ignore[union-attr]
    per_check = dict.fromkeys(("critical", "warning", "info"), 0)
    for sev, n in re.findall(r'pgaudit_findings{[^}]*severity="(\w+)"} (\d+)', prom):
        per_check[sev] += int(n)
    out["prom per check"] = {**out["prom"], **per_check}
    return out


def assert_same_counts(by_format: dict[str, dict[str, int]], summary: dict[str, int]) -> None:
    wrong = {fmt: c for fmt, c in by_format.items() if c != summary}
    assert not wrong, f"counts differ from the run's summary {summary}: {wrong}"


@pytest.mark.parametrize("which", ["layers", "fixture"])
def test_the_same_counts_in_every_format(which: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Terminal, Markdown, HTML, JSON, SARIF and Prometheus print one set of counts."""
    run = _run() if which == "layers" else render.as_run(json.loads(FIXTURE.read_text()))
    s = run.summary
    expected = {k: getattr(s, k) for k in COUNTED}
    assert expected["waived"] and expected["ok"] and expected["critical"]  # nothing vacuous
    assert_same_counts(counts_by_format(run, monkeypatch, capsys), expected)
    # the well-designed count is the 🟢 lines the report lists
    ctx = report.build(run)
    listed = sum(len(sub.ok) for ch in ctx.chapters for sub in ch.subsections)
    assert listed == ctx.counts["well_designed"] == s.ok


def test_teeth_a_format_that_counts_differently_is_caught(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run()
    s = run.summary
    expected = {k: getattr(s, k) for k in COUNTED}
    by_format = counts_by_format(run, monkeypatch, capsys)
    # a Markdown report that counts items (numbered groups) instead of findings
    md = render.render(run, "md").replace(f"({s.critical} critical findings)",
                                          "(1 critical finding)")
    by_format["md"] = _text_counts(md)
    with pytest.raises(AssertionError, match="'md'"):
        assert_same_counts(by_format, expected)
    # a report that lists a 🟢 line its check contradicts
    bad = copy.deepcopy(run)
    bad.findings.append(dataclasses.replace(bad.findings[-1], check="crit_a", check_wide=True,
                                            title="No crit_a", detail="No crit_a"))
    assert report.build(bad).counts["well_designed"] == s.ok  # the report drops it...
    assert bad.summary.ok == s.ok + 1  # ...which the summary alone would have counted


def test_summary_counts_teeth() -> None:
    """The shared counts are not vacuous: changing a finding changes every output's number."""
    run = _run()
    before = report.build(run).counts["critical_objects"]
    run.findings[1].waived = {"reason": "r"}
    assert run.summary.critical == before - 1
    assert report.build(run).counts["critical_objects"] == before - 1


def test_a_json_only_audit_never_imports_the_store() -> None:
    code = (
        "import sys\n"
        "import pgaudit.api, pgaudit.cli, pgaudit.engine, pgaudit.render, pgaudit.sessions\n"
        "import pgaudit.snapshot, pgaudit.targets\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_the_engine_takes_history_as_data() -> None:
    assert "history_loader" not in {f.name for f in dataclasses.fields(AuditOptions)}


# --- with a database ---------------------------------------------------------------------------


@pytest.fixture
def target(db: str) -> Iterator[str]:
    execute_script(db, "drop schema public cascade; create schema public;"
                       " create table public.keyed (id bigint primary key);")
    yield db


def test_two_phases_target_known_before_the_checks_run(
    target: str, specs: dict[str, CheckSpec]
) -> None:
    with open_audit(target, AuditOptions()) as opened:
        known = dict(opened.target)
        run = opened.run([specs[CHECK]], history={"tables": {}, "schema": {}})
    assert run.target == known and known["database"]


def test_the_store_records_counted_findings(
    target: str, tmp_path: Path, specs: dict[str, CheckSpec]
) -> None:
    url = f"sqlite:///{tmp_path}/h.db"
    accepted = Waiver(check=CHECK, object="public.accepted", reason="r", approved_by="a",
                      expires=dt.date(2099, 1, 1))
    api.run_audit_with_store(target, [specs[CHECK]], AuditOptions(), url, "w",
                             waivers=[accepted])
    execute_script(target, "create table public.accepted (x int);"
                           " create table public.fresh (x int);")
    run = api.run_audit_with_store(target, [specs[CHECK]], AuditOptions(), url, "w",
                                   waivers=[accepted])
    s = run.summary
    assert (s.critical, s.waived, s.new) == (1, 1, 1)
    assert run.diff is not None and [f["object"] for f in run.diff.new] == ["public.fresh"]
    last = Store(url).history("w")[-1]
    assert (last["critical"], last["new"], last["resolved"]) == (s.critical, s.new, s.resolved)


def test_json_metrics_and_history_agree(target: str, tmp_path: Path) -> None:
    execute_script(target, "create table public.legacy (x int); create table public.ok2 (x int);")
    (tmp_path / "pgaudit.toml").write_text(
        f'[[waivers]]\ncheck = "{CHECK}"\nobject = "public.ok2"\nreason = "r"\n'
        'approved_by = "a"\nexpires = 2099-01-01\n', encoding="utf-8")
    store = f"sqlite:///{tmp_path}/h.db"
    r = CliRunner().invoke(app, [
        "audit", target, "--config", str(tmp_path / "pgaudit.toml"), "--store", store,
        "--checks", CHECK, "-f", "json,prom", "-o", f"{tmp_path}/out"])
    assert r.exit_code == 1, r.output
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["summary"]["critical"] == 1 and doc["summary"]["waived"] == 1
    prom = (tmp_path / "out.prom").read_text()
    assert f'check="{CHECK}",severity="critical"}} 1' in prom
    listed = json.loads(CliRunner().invoke(app, ["history", "--store", store, "-f", "json"]).output)
    assert listed[-1]["critical"] == doc["summary"]["critical"]
