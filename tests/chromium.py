"""Where the browser tests find chromium, and what happens on a machine without one.

The README's test command must pass on a fresh machine: there the tests marked ``browser`` are
skipped with one line saying why (tests/conftest.py). ``.ci/run`` installs chromium and sets
``PGAUDIT_REQUIRE_BROWSER=1``, which turns that skip into a failure: CI never passes with the
browser tests quietly skipped.
"""

from __future__ import annotations

import os
import shutil

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
REQUIRE = "PGAUDIT_REQUIRE_BROWSER"
MISSING = "no chromium on PATH (apt-get install chromium; .ci/run installs it)"


def find() -> str | None:
    """The first chromium on PATH, or None."""
    return next((path for path in map(shutil.which, NAMES) if path), None)


def required() -> bool:
    """CI's promise that chromium is there: a missing browser fails instead of skipping."""
    return os.environ.get(REQUIRE, "").strip() not in ("", "0")
