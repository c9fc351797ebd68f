"""Sign-off: pgaudit signoff records who, when and the SHA-256 of the run's JSON; the run's
reports carry it; pgaudit verify checks a report against it; a signed run is immutable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pgaudit.cli import app
from pgaudit.signoff import digest
from pgaudit.store import Store
from tests.casefile import execute_script

NO_PK = "table_without_primary_key"
HOSTILE = 'Ann <b>"O\'Neil"</b> | `x` *y*'


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args))

    return run


@pytest.fixture
def stored(cli, db: str, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Three runs of one target; run 3 sees a second keyless table."""
    execute_script(db, "drop schema public cascade; create schema public;"
                       " create table public.a (x int);")
    store = f"sqlite:///{tmp_path}/history.db"
    for step in (1, 2, 3):
        if step == 3:
            execute_script(db, "create table public.b (y int);")
        r = cli("audit", db, "-f", "json", "-o", f"run{step}.json", "--store", store,
                "--checks", NO_PK, "--fail-on", "never", "--target-name", "shop")
        assert r.exit_code == 0, r.output
    yield store


def test_signoff_fills_the_reports_and_verify_matches(cli, stored: str, tmp_path: Path
                                                      ) -> None:  # type: ignore[no-untyped-def]
    r = cli("signoff", "2", "--by", HOSTILE, "--role", "DBA <lead>", "--comment",
            "ok | ship *it*", "--store", stored)
    assert r.exit_code == 0, r.output
    signed = Store(stored).signoff(2)
    assert signed is not None and signed["by"] == HOSTILE and signed["role"] == "DBA <lead>"
    assert signed["sha256"] in r.output
    # the JSON the audit wrote that night matches; so does the one history show writes now
    assert digest(json.loads((tmp_path / "run2.json").read_text())) == signed["sha256"]
    r = cli("verify", "run2.json", "--store", stored)
    assert r.exit_code == 0, r.output
    assert "matches the sign-off of run 2" in r.output
    r = cli("history", "show", "2", "--store", stored, "-f", "json,md,html", "-o", "shown/")
    assert r.exit_code == 0, r.output
    r = cli("verify", "shown/report.json", "--store", stored)
    assert r.exit_code == 0, r.output
    md = (tmp_path / "shown" / "report.md").read_text()
    sign_block = md.split("## Sign-off", 1)[1].split("\n\n", 2)[1]
    assert signed["sha256"] in sign_block and "☐ Approved" not in sign_block
    assert "<b>" not in sign_block and "\\| \\`x\\`" in sign_block, sign_block
    html = (tmp_path / "shown" / "report.html").read_text()
    block = html.split('id="signoff"', 1)[1].split("</section>", 1)[0]
    assert signed["sha256"] in block and "☐ Approved" not in block
    assert "&lt;b&gt;" in block and "<b>" not in block and "DBA &lt;lead&gt;" in block
    # an unsigned run's report keeps the empty table
    r = cli("history", "show", "1", "--store", stored, "-f", "md")
    assert "☐ Approved" in r.output.split("## Sign-off", 1)[1]
    # another run's report does not match
    r = cli("verify", "run1.json", "--store", stored)
    assert r.exit_code == 1 and "no sign-off recorded" in r.output, r.output


def test_verify_says_a_changed_report_does_not_match(cli, stored: str, tmp_path: Path
                                                     ) -> None:  # type: ignore[no-untyped-def]
    assert cli("signoff", "3", "--by", "Ann", "--store", stored).exit_code == 0
    doc = json.loads((tmp_path / "run3.json").read_text())
    doc["findings"][0]["severity"] = "info"
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    r = cli("verify", "edited.json", "--store", stored)
    assert r.exit_code == 1 and "does not match: run 3 was signed by Ann" in r.output, r.output
    # key order and whitespace are not content
    same = json.loads((tmp_path / "run3.json").read_text())
    (tmp_path / "reordered.json").write_text(json.dumps(dict(reversed(same.items())), indent=1))
    assert cli("verify", "reordered.json", "--store", stored).exit_code == 0


def test_bad_input_is_one_line_and_exit_2(cli, stored: str, tmp_path: Path
                                          ) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notjson.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    for args, words in [
        (("verify", "missing.json"), "cannot read"),
        (("verify", "notjson.json"), "is not JSON"),
        (("verify", "other.json"), "not a pgaudit JSON report"),
        (("signoff", "99", "--by", "Ann"), "no run 99"),
        (("signoff", "1", "--by", "  "), "--by needs"),
    ]:
        r = cli(*args, "--store", stored)
        assert r.exit_code == 2 and words in r.output, (args, r.output)
        assert len(r.output.strip().splitlines()) == 1, r.output
    r = cli("signoff", "1", "--store", stored)  # --by is required
    assert r.exit_code == 2


def test_a_signed_run_is_immutable_and_kept_by_prune(cli, stored: str, db: str
                                                     ) -> None:  # type: ignore[no-untyped-def]
    assert cli("signoff", "2", "--by", "Ann", "--store", stored).exit_code == 0
    r = cli("signoff", "2", "--by", "Bob", "--store", stored)
    assert r.exit_code == 2 and "already signed" in r.output
    store = Store(stored)
    assert store.signoff(2)["by"] == "Ann"  # type: ignore[index]
    r = cli("history", "--store", stored)
    assert r.exit_code == 0
    ids = [line.split()[0] for line in r.output.splitlines()[1:4]]
    assert ids == ["1", "2*", "3"] and "* signed off" in r.output, r.output
    listed = json.loads(cli("history", "--store", stored, "-f", "json").output)
    assert [h["signed"] for h in listed] == [False, True, False]

    r = cli("history", "prune", "--keep", "0h", "--store", stored)
    assert r.exit_code == 0 and "removed 2 runs" in r.output, r.output
    assert [h["run_id"] for h in store.history()] == [2]
    # it still renders as signed: its frame no longer leans on the pruned run 1
    doc = store.document(2)
    assert digest(doc) == doc["signoff"]["sha256"]
    assert cli("verify", "run2.json", "--store", stored).exit_code == 0
    # the next run carries on from it
    r = cli("audit", db, "-f", "json", "-o", "run4.json", "--store", stored, "--checks", NO_PK,
            "--fail-on", "never", "--target-name", "shop")
    assert r.exit_code == 0, r.output
    run4 = json.loads(Path("run4.json").read_text())
    assert run4["diff"]["previous_run"]["id"] == 2 and run4["summary"]["new"] == 1
    r = cli("history", "prune", "--keep", "0h", "--include-signed", "--store", stored)
    assert r.exit_code == 0 and "removed 2 runs" in r.output, r.output
    assert store.history() == []
