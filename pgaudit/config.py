"""``pgaudit.toml``: scope, assumptions, per-check overrides, waivers and targets.

Validation is strict on purpose: an unknown key is a typo that would silently change the audit.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import tomli
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pgaudit.errors import PgauditError

# Sessions an audit may spread its checks over (``[audit] connections``, ``--connections``).
MAX_CONNECTIONS = 8
Connections = int | Literal["auto"]


def connections_value(value: object) -> Connections:
    """The one rule for the number of sessions: "auto", or a whole number 1 to 8."""
    if value == "auto":
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CONNECTIONS:
        return value
    raise ValueError(f"use auto or 1 to {MAX_CONNECTIONS}")


def require_connections(value: object, label: str) -> Connections:
    """``connections_value``, or a PgauditError naming ``label`` and the value."""
    try:
        return connections_value(value)
    except ValueError as exc:
        raise PgauditError(f"{label} {value}: {exc}") from None


_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|min|h)?\s*$")


def duration_ms(value: str | int) -> int:
    """'2s', '500ms', '1min' or a number of milliseconds."""
    if isinstance(value, int):
        return value
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '500ms', '2s' or '1min'")
    number, unit = int(match.group(1)), match.group(2) or "ms"
    return number * {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}[unit]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditSection(_Strict):
    schemas: list[str] = Field(default_factory=list)
    exclude_schemas: list[str] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)
    skip: list[str] = Field(default_factory=list)
    no_data: bool = False
    lock_timeout: str | int = "2s"
    statement_timeout: str | int = "30s"
    fail_on: Literal["critical", "warning", "info", "never"] = "critical"
    max_probes: int = 50
    connections: Connections = "auto"
    # record the schema and configuration in the run document (``catalog``), for
    # ``pgaudit compare`` against this run without connecting to the database again
    catalog_snapshot: bool = False

    @field_validator("lock_timeout", "statement_timeout")
    @classmethod
    def _duration(cls, value: str | int) -> str | int:
        duration_ms(value)
        return value

    @field_validator("connections", mode="before")
    @classmethod
    def _connections(cls, value: object) -> Connections:
        return connections_value(value)


class Assumptions(_Strict):
    high_traffic: bool = False
    multi_tenant: bool = False
    cloud_hosted: bool = False
    cost_optimized: bool = False
    notes: str = ""


class CheckOverride(_Strict):
    severity: Literal["critical", "warning", "info"] | None = None
    statement_timeout: str | int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    extend: dict[str, list[Any]] = Field(default_factory=dict)


class Waiver(_Strict):
    check: str
    object: str
    columns: list[str] | None = None
    fingerprint: str | None = None
    reason: str
    approved_by: str
    expires: dt.date


class Target(_Strict):
    name: str
    dsn: str
    checks: list[str] = Field(default_factory=list)
    skip: list[str] = Field(default_factory=list)
    checks_config: dict[str, CheckOverride] = Field(default_factory=dict, alias="overrides")


class StoreSection(_Strict):
    url: str | None = None


class Config(_Strict):
    audit: AuditSection = Field(default_factory=AuditSection)
    assumptions: Assumptions = Field(default_factory=Assumptions)
    checks: dict[str, CheckOverride] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    store: StoreSection = Field(default_factory=StoreSection)

    def referenced_check_ids(self) -> set[str]:
        ids = set(self.audit.checks) | set(self.audit.skip) | set(self.checks)
        ids |= {w.check for w in self.waivers}
        for t in self.targets:
            ids |= set(t.checks) | set(t.skip) | set(t.checks_config)
        return ids


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def interpolate_env(text: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise PgauditError(f"environment variable {name} is not set (used in config)")
        return os.environ[name]

    return _ENV.sub(sub, text)


def check_overrides(config: Config, known_params: Mapping[str, Iterable[str]]) -> list[str]:
    """Problems with the per-check parameters a config sets: each names the key and the
    check's valid ones. A parameter the check does not have would otherwise do nothing."""
    problems: list[str] = []
    scopes: list[tuple[str, dict[str, CheckOverride]]] = [("checks", config.checks)]
    scopes += [(f"targets.{t.name}.overrides", t.checks_config) for t in config.targets]
    for where, overrides in scopes:
        for check_id, override in overrides.items():
            valid = set(known_params.get(check_id, ()))
            for key in [*override.params, *override.extend]:
                if key not in valid:
                    names = ", ".join(sorted(valid)) or "none"
                    problems.append(
                        f"{where}.{check_id}: unknown parameter {key!r}; valid: {names}"
                    )
    return problems


def load(
    path: Path | None,
    known_checks: set[str] | None = None,
    known_params: Mapping[str, Iterable[str]] | None = None,
) -> Config:
    """Read and validate a config file; None or a missing default file gives the defaults.

    With ``known_params`` (check id -> its parameter names) every override's ``params`` and
    ``extend`` keys must be parameters of that check."""
    if path is None:
        default = Path("pgaudit.toml")
        if not default.exists():
            return Config()
        path = default
    try:
        raw = tomli.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PgauditError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PgauditError(f"config file {path} cannot be read: {exc}") from None
    except tomli.TOMLDecodeError as exc:
        raise PgauditError(f"config file {path} is not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise PgauditError(f"config file {path}: {where}: {err['msg']}") from None
    if known_checks is not None:
        unknown = sorted(config.referenced_check_ids() - known_checks)
        if unknown:
            ids = "unknown check id" if len(unknown) == 1 else "unknown check ids"
            raise PgauditError(f"config file {path}: {ids}: {', '.join(unknown)}")
    if known_params is not None:
        problems = check_overrides(config, known_params)
        if problems:
            raise PgauditError(f"config file {path}: {problems[0]}")
    return config
