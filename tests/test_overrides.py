"""A config's per-check overrides: the severity always wins, and params must exist."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from pgaudit.cli import app

CHECK = "json_instead_of_jsonb"  # a warning by default


@pytest.fixture(scope="module")
def shop(db: str) -> str:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create table if not exists docs (id int primary key, body json)")
    return db


def _audit(shop: str, tmp_path: Path, config: str) -> tuple[int, str, list[dict]]:
    cfg = tmp_path / "pgaudit.toml"
    cfg.write_text(config, encoding="utf-8")
    out = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["audit", shop, "--checks", CHECK, "--format", "json",
                                      "--output", str(out), "--config", str(cfg)])
    findings = json.loads(out.read_text())["findings"] if out.exists() else []
    return result.exit_code, result.stderr, [f for f in findings if f["severity"] != "ok"]


def test_without_an_override_the_check_s_own_rule_rates(shop: str, tmp_path: Path) -> None:
    _, _, found = _audit(shop, tmp_path, "")
    assert [f["severity"] for f in found] == ["warning"]


def test_the_config_s_severity_wins(shop: str, tmp_path: Path) -> None:
    _, _, found = _audit(shop, tmp_path, f'[checks.{CHECK}]\nseverity = "critical"\n')
    assert [f["severity"] for f in found] == ["critical"]


def test_an_unknown_param_is_2_naming_it_and_the_valid_ones(shop: str, tmp_path: Path) -> None:
    code, err, _ = _audit(
        shop, tmp_path,
        '[checks.unindexed_foreign_key]\nseverity = "critical"\nparams = { min_rows = 100000 }\n')
    assert code == 2
    line = err.strip()
    assert "\n" not in line and "Traceback" not in err
    assert "'min_rows'" in line and "critical_rows" in line and "critical_writes_per_s" in line


def test_a_known_param_is_accepted(shop: str, tmp_path: Path) -> None:
    code, err, _ = _audit(
        shop, tmp_path, "[checks.unindexed_foreign_key]\nparams = { critical_rows = 100000 }\n")
    assert code in (0, 1), err
