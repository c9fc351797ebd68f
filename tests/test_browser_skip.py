"""The browser tests on a machine without chromium: skipped with one line, or, under CI's
PGAUDIT_REQUIRE_BROWSER=1, failed. Each case runs tests/test_browser.py in a child pytest whose
PATH holds no chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import chromium

ROOT = Path(__file__).resolve().parent.parent


def _browser_tests(admin: str, path_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if k != chromium.REQUIRE}
    child.update(PATH=str(path_dir), PGAUDIT_TEST_DSN=admin, **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_browser.py", "-p", "no:cacheprovider",
         "-q", "-rsE"],
        cwd=ROOT, env=child, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_without_chromium_the_browser_tests_skip_with_one_line(
    admin: str, tmp_path: Path
) -> None:
    r = _browser_tests(admin, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    reasons = [line for line in r.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(reasons) == 1 and reasons[0].endswith(chromium.MISSING), r.stdout
    assert " passed" not in r.stdout and " skipped" in r.stdout, r.stdout


@pytest.mark.parametrize("value", ["1", "yes"])
def test_ci_turns_the_missing_browser_into_a_failure(
    admin: str, tmp_path: Path, value: str
) -> None:
    r = _browser_tests(admin, tmp_path, **{chromium.REQUIRE: value})
    assert r.returncode == 1, r.stdout + r.stderr
    assert " skipped" not in r.stdout and f"{chromium.REQUIRE} is set" in r.stdout, r.stdout


def test_unset_or_zero_does_not_require_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(chromium.REQUIRE, raising=False)
    assert not chromium.required()
    monkeypatch.setenv(chromium.REQUIRE, "0")
    assert not chromium.required()
    monkeypatch.setenv(chromium.REQUIRE, "1")
    assert chromium.required()
