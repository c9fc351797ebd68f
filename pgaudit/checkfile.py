"""Discover, parse and validate check files: ``checks/<id>.sql`` with a TOML header comment.

A check exists if and only if its file exists. The header is a ``/* pgaudit ... */`` block of
TOML holding the check's metadata; the rest of the file is one set-based SQL query.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pgaudit.errors import PgauditError
from pgaudit.model import SECTIONS

Need = Literal[
    "catalog", "stats", "column_stats", "activity", "data", "pg_stat_statements", "history"
]

_HEADER = re.compile(r"\A\s*/\*\s*pgaudit\s*\n(?P<toml>.*?)\*/\s*(?P<sql>.*)\Z", re.S)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CheckSpec(BaseModel):
    """Everything the engine, the docs and the report need to know about one check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(max_length=120)
    section: str
    severity: Literal["critical", "warning", "info"]
    priority: Literal["immediate", "high", "medium", "low"] | None = None
    needs: list[Need] = Field(default_factory=lambda: ["catalog"])
    min_server_version: int = 13
    detects: str
    why: str
    example: str
    fix: str
    ignore_when: str
    references: list[str] = Field(default_factory=list)
    ok: str  # the 🟢 line when the check finds nothing
    impact: str
    message: str = "{object}"
    remediation: str = ""  # prose on how to fix, beside the per-finding SQL
    replica_note: str | None = None  # why the check means less on a hot standby
    locks: bool = False  # calls size functions or reads rows: skip AccessExclusive-locked relations
    raise_when: dict[str, Literal["critical", "warning", "info"]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    sql: str
    path: str

    @field_validator("section")
    @classmethod
    def _known_section(cls, value: str) -> str:
        if value not in SECTIONS:
            raise ValueError(f"unknown section {value!r}; use one of {', '.join(SECTIONS)}")
        return value

    @field_validator("title")
    @classmethod
    def _title_names_the_defect(cls, value: str) -> str:
        if value.split(" ", 1)[0] in {"Ensure", "Check", "Avoid"}:
            raise ValueError("title names the defect state, not an instruction")
        return value

    @field_validator("references")
    @classmethod
    def _https(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith("https://"):
                raise ValueError(f"reference {url!r} is not an https URL")
        if len(set(value)) != len(value):
            raise ValueError("duplicate references")
        return value

    @model_validator(mode="after")
    def _id_matches_file(self) -> CheckSpec:
        if Path(self.path).stem != self.id:
            raise ValueError(f"id {self.id!r} differs from its file name {Path(self.path).name}")
        if not _ID.match(self.id):
            raise ValueError(f"id {self.id!r} is not snake_case")
        if self.example.strip() == self.fix.strip():
            raise ValueError("example and fix are identical")
        return self

    @property
    def chapter(self) -> str:
        return SECTIONS[self.section].chapter

    def docs(self) -> dict[str, str]:
        return {
            "What it detects": self.detects,
            "Why it matters": self.why,
            "Example": self.example,
            "Fix": self.fix,
            "When to ignore it": self.ignore_when,
        }


_INCLUDE = re.compile(r"^[ \t]*--[ \t]*pgaudit:include[ \t]+(?P<name>_[\w.-]+\.sql)[ \t]*$", re.M)


def _expand_includes(sql: str, path: Path) -> str:
    """Replace ``-- pgaudit:include _shared.sql`` lines by that file of the same folder.

    Checks that differ only in their parameters (the three timeout settings) or that build on
    a shared query (schema_drift on the stored snapshot) keep that SQL once.
    """

    def load(match: re.Match[str]) -> str:
        shared = path.parent / match.group("name")
        try:
            return shared.read_text(encoding="utf-8").strip()
        except OSError:
            raise PgauditError(f"{path}: included file {shared.name} does not exist") from None

    return _INCLUDE.sub(load, sql)


def parse_check(path: Path) -> CheckSpec:
    text = path.read_text(encoding="utf-8")
    match = _HEADER.match(text)
    if not match:
        raise PgauditError(f"{path}: a check file starts with a '/* pgaudit' TOML header block")
    try:
        meta = tomllib.loads(match.group("toml"))
    except tomllib.TOMLDecodeError as exc:
        raise PgauditError(f"{path}: header is not valid TOML: {exc}") from exc
    try:
        sql = _expand_includes(match.group("sql"), path)
        return CheckSpec(**meta, sql=sql.strip(), path=str(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "header"
        raise PgauditError(f"{path}: {where}: {first['msg']}") from exc


def discover(dirs: list[Path]) -> dict[str, CheckSpec]:
    """All checks in the given folders, later folders overriding earlier ones by id."""
    specs: dict[str, CheckSpec] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise PgauditError(f"checks folder {folder} does not exist")
        for path in sorted(folder.glob("*.sql")):
            if path.name.startswith("_"):
                continue
            spec = parse_check(path)
            specs[spec.id] = spec
    return dict(sorted(specs.items(), key=lambda kv: (kv[1].section, kv[0])))
