"""Locate the shipped ``checks/`` and ``templates/`` folders.

In a source checkout (``pip install -e .``) they sit beside the package; in a wheel they are
copied into ``pgaudit/_data``. The source folders win so that an editable install sees edits.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pgaudit installation is missing its {name}/ folder")


def checks_dir() -> Path:
    return _locate("checks")


def templates_dir() -> Path:
    return _locate("templates")
