"""The catalog meta-test: every check is complete, documented, tested, and runs on an empty db."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgaudit import api
from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import SECTIONS
from tests.casefile import Case, load_cases

ROOT = Path(__file__).resolve().parent.parent
CASES = load_cases()
# The meta-test covers every check file the loader discovers: a new check is held to it the
# moment its file exists, with no list to keep.
CHECK_IDS = sorted(api.load_checks())


def completeness_problems(spec: CheckSpec, cases: list[Case]) -> list[str]:
    """What a check lacks: documentation, a case file, a planted defect and a look-alike."""
    problems = [f"empty '{heading}'" for heading, text in spec.docs().items() if not text.strip()]
    if not spec.references:
        problems.append("no references")
    if not (spec.ok.strip() and spec.impact.strip()):
        problems.append("no ok line or impact")
    if not (ROOT / "docs" / "checks" / f"{spec.id}.md").is_file():
        problems.append(f"no generated docs page docs/checks/{spec.id}.md (scripts/gen_docs.py)")
    mine = [c for c in cases if c.check == spec.id]
    if not mine:
        return [*problems, f"no case file tests/cases/{spec.id}.toml"]
    fires_elsewhere = [c.fires_in for c in mine if c.fires_in]
    for module in fires_elsewhere:
        path = Path(__file__).parent / module
        if not (path.is_file() and spec.id in path.read_text(encoding="utf-8")):
            problems.append(f"{module} does not exercise it")
    if not (any(c.expect for c in mine) or fires_elsewhere):
        problems.append("no firing case (a planted defect with expect)")
    if len(mine) < (1 if fires_elsewhere else 2):
        problems.append("needs a planted case and a look-alike")
    return problems


def test_every_case_file_names_a_check(specs: dict[str, CheckSpec]) -> None:
    """Ids are interface: a check renamed or removed leaves its case file behind, named here."""
    orphans = sorted({c.check for c in CASES} - set(specs))
    assert not orphans, f"case files of checks that do not exist: {orphans}"


def test_every_section_has_a_check(specs: dict[str, CheckSpec]) -> None:
    covered = {s.section for s in specs.values()}
    # 1.2 (normalization) holds design trade-offs the review discusses but no catalog defect.
    assert covered >= set(SECTIONS) - {"1.2"}, sorted(set(SECTIONS) - covered)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_is_documented_and_tested(check_id: str, specs: dict[str, CheckSpec]) -> None:
    problems = completeness_problems(specs[check_id], CASES)
    assert not problems, f"{check_id}: {'; '.join(problems)}"


def test_a_new_check_without_case_docs_or_defect_fails_the_meta_test(tmp_path: Path) -> None:
    """Teeth: a check file dropped into an extra checks folder is discovered, and the
    meta-test names what it lacks."""
    (tmp_path / "zz_teeth_dummy.sql").write_text(DUMMY, encoding="utf-8")
    discovered = api.load_checks([tmp_path])
    assert "zz_teeth_dummy" in discovered
    problems = {
        check_id: completeness_problems(spec, CASES) for check_id, spec in discovered.items()
    }
    dummy = problems.pop("zz_teeth_dummy")
    assert any("no case file" in p for p in dummy), dummy
    assert any("docs page" in p for p in dummy), dummy
    assert any("empty 'Why it matters'" in p for p in dummy), dummy
    # a case file holding only a look-alike: no planted defect
    lookalike = Case(check="zz_teeth_dummy", name="look-alike", setup="", expect=[])
    dummy = completeness_problems(discovered["zz_teeth_dummy"], [lookalike])
    assert any("no firing case" in p for p in dummy), dummy
    assert any("look-alike" in p for p in dummy), dummy
    # ... while the real catalogue next to it is complete
    assert not {k: v for k, v in problems.items() if v}


DUMMY = """/* pgaudit
id = "zz_teeth_dummy"
title = "Dummy defect for the meta-test's teeth"
section = "3.1"
format = 2
severity = "info"
detects = "Nothing."
why = " "
example = "select 1"
fix = "select 2"
ignore_when = "Always."
references = ["https://www.postgresql.org/docs/current/"]
ok = "Nothing found"
impact = "None."
*/
select 'x' as object where false
"""


def test_every_check_runs_on_an_empty_database(db: str, specs: dict[str, CheckSpec]) -> None:
    run = audit(db, list(specs.values()), AuditOptions())
    errors = {c.id: c.reason for c in run.checks if c.status == "error"}
    assert not errors, errors
    assert {c.id for c in run.checks} == set(specs)


def test_statement_count_is_fixed_per_check(db: str, specs: dict[str, CheckSpec]) -> None:
    """No check loops over tables: statements per check do not depend on the catalog's size."""
    run = audit(db, list(specs.values()), AuditOptions())
    for c in run.checks:
        assert c.statements <= 4, f"{c.id} sent {c.statements} statements"


def test_generated_docs_are_up_to_date() -> None:
    """README's check table and the docs/checks/ pages come from the check files."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "scripts" / "gen_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
