"""Issue 12: every critical left on the corpus is defended in docs/corpus-findings.md.

scripts/corpus_report.py merges the one-line defences of docs/corpus-defences.toml into the
list of remaining criticals and exits 1 while any critical has none; a critical that could
not be defended was fixed in its check instead (pg_partman's template tables here).
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from tests.casefile import execute_script, reset_schema

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_report", ROOT / "scripts" /
                                                  "corpus_report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_report"] = module
    spec.loader.exec_module(module)
    return module


def test_the_most_specific_defence_wins_and_a_missing_one_is_reported() -> None:
    report = _script()
    defences = {
        "lock_timeout_not_set": {"*": "every database"},
        "table_without_primary_key": {"synapse": "synapse's keyless tables",
                                      "synapse:public.users": "users: a nullable unique name"},
    }
    criticals = {
        "synapse": {"lock_timeout_not_set": ["corpus_synapse"],
                    "table_without_primary_key": ["public.users", "public.event_auth"],
                    "missing_foreign_key": ["public.events(event_id)"]},
        "pagila": {"lock_timeout_not_set": ["corpus_pagila"]},
    }
    listed, missing = report.criticals_section(criticals, defences)
    text = "\n".join(listed)
    assert missing == ["synapse missing_foreign_key public.events(event_id)"]
    assert report.UNDEFENDED in text
    defences["table_without_primary_key"]["synapse:public.event_auth"] = "UNDEFENDED: a queue"
    listed, missing = report.criticals_section(criticals, defences)
    assert "synapse table_without_primary_key public.event_auth" in missing
    shown = "\n".join(listed)
    assert "**UNDEFENDED**, not defensible as critical (its check is to be fixed): a queue" in shown
    del defences["table_without_primary_key"]["synapse:public.event_auth"]
    listed, missing = report.criticals_section(criticals, defences)
    text = "\n".join(listed)
    assert "- users: a nullable unique name\n  - **synapse** (1): public.users" in text
    assert "- synapse's keyless tables\n  - **synapse** (1): public.event_auth" in text
    # one line for the reasoning every database shares, each database's objects under it
    assert text.count("- every database") == 1
    assert "  - **pagila** (1): corpus_pagila" in text
    assert "  - **synapse** (1): corpus_synapse" in text


def test_the_defences_file_is_one_line_each() -> None:
    defences = tomllib.loads((ROOT / "docs" / "corpus-defences.toml").read_text("utf-8"))
    assert defences, "no defence at all"
    for check, lines in defences.items():
        assert (ROOT / "checks" / f"{check}.sql").exists(), check
        assert lines, check
        for key, line in lines.items():
            assert isinstance(line, str) and line.strip() and "\n" not in line, (check, key)


@pytest.fixture()
def partman(db: str) -> Iterator[str]:
    reset_schema(db, "pm")
    yield db
    execute_script(db, "drop schema if exists pm cascade")


def test_a_pg_partman_template_is_not_a_critical_keyless_table(
        partman: str, specs: dict[str, CheckSpec]) -> None:
    # lago's partman.template_public_enriched_events: pg_partman names the template of
    # <schema>.<table> template_<schema>_<table>; it never holds rows
    execute_script(partman, """
        create table pm.enriched_events (id uuid not null, at timestamptz not null)
          partition by range (at);
        create table pm.template_pm_enriched_events (id uuid not null, at timestamptz not null);
        create table pm.template_emails (subject text);""")
    run = audit(partman, [specs["table_without_primary_key"]], AuditOptions(schemas=["pm"]))
    found = {f.object: f for f in run.findings}
    assert found["pm.template_pm_enriched_events"].severity == "info"
    assert found["pm.template_pm_enriched_events"].evidence["template_of"] == "pm.enriched_events"
    # a table merely named template_*, and the partitioned table itself, stay critical
    assert found["pm.template_emails"].severity == "critical"
    assert found["pm.enriched_events"].severity == "critical"
