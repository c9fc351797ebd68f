"""What the audit role can see, and therefore which checks can give a verdict.

A check the role cannot serve is ``skipped`` with the missing privilege named: a silent pass on
an empty ``pg_stats`` or a filtered ``pg_stat_activity`` is worse than no answer.

``missing_need`` is the one place that decides it: the runner calls it before a check runs and
``preflight`` calls it for its table, so the two agree by construction. A ``permission denied``
the catalog could not predict is turned into the same kind of reason by ``denied``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pgaudit.checkfile import CheckSpec
from pgaudit.connection import ServerFacts
from pgaudit.wording import window_too_short


@dataclass(frozen=True)
class Context:
    facts: ServerFacts
    allow_data: bool
    has_store: bool
    pgss_schema: str | None  # schema of a readable pg_stat_statements view, if any
    # pg_hba_file_rules readable: superuser, or SELECT on the view and EXECUTE on its function
    hba_readable: bool = False


def missing_need(
    spec: CheckSpec, ctx: Context, params: Mapping[str, Any] | None = None
) -> str | None:
    """Why this check cannot give a verdict here, or None when it can: the server version,
    the role's privileges, the options, and the statistics window its rates need (``params``:
    the check's parameters with the config's overrides, which may change the window)."""
    facts = ctx.facts
    priv = facts.privileges
    if facts.major < spec.min_server_version:
        return f"needs PostgreSQL {spec.min_server_version}+ (server is {facts.major})"
    for need in spec.needs:
        if need == "settings" and not (priv.get("superuser") or priv.get("pg_read_all_settings")):
            return (
                "reads settings hidden from the role (shared_preload_libraries): grant "
                "pg_read_all_settings (or pg_monitor) to the audit role"
            )
        if need == "stats" and facts.settings.get("track_counts", {}).get("setting") == "off":
            return "track_counts is off: the statistics views hold no counters"
        if need == "activity" and not priv.get("pg_read_all_stats"):
            return (
                "pg_stat_activity hides other roles' sessions: grant pg_read_all_stats "
                "(or pg_monitor) to the audit role"
            )
        if need == "column_stats" and not (priv.get("superuser") or priv.get("pg_read_all_data")):
            return (
                "pg_stats shows only columns the role may SELECT: grant pg_read_all_data "
                "(PostgreSQL 14+) to the audit role"
            )
        if need == "data":
            if not ctx.allow_data:
                return "reads table rows; disabled by --no-data"
            if not (priv.get("superuser") or priv.get("pg_read_all_data")):
                return "reads table rows: grant pg_read_all_data (PostgreSQL 14+) to the audit role"
        if need == "pg_stat_statements" and ctx.pgss_schema is None:
            return (
                "pg_stat_statements is not installed in this database, not preloaded, "
                "or not readable by the role"
            )
        if need == "hba_file_rules" and not (priv.get("superuser") or ctx.hba_readable):
            return (
                "reads pg_hba_file_rules: grant SELECT on pg_catalog.pg_hba_file_rules and "
                "EXECUTE on function pg_catalog.pg_hba_file_rules() to the audit role"
            )
        if need == "history" and not ctx.has_store:
            return "compares with the previous run: give a history store with --store"
    window = (params or {}).get("min_stats_age_s", spec.min_stats_age_s)
    if window is not None and spec.stats_window == "required":
        age = facts.stats_age_s
        if age is None or age < float(window):
            return f"no verdict: {window_too_short(age, float(window))}"
    return None


# PostgreSQL 16+ names the role in the DETAIL only: "permission denied to examine <setting>"
_DENIED_SETTING = re.compile(r"pg_read_all_settings|permission denied to examine", re.I)
_DENIED_OBJECT = re.compile(
    r"permission denied for (?P<kind>table|view|sequence|schema|function|relation|column)"
    r"\s+(?P<name>\S+)", re.I)


def denied(message: str) -> str:
    """The reason of a check whose query met ``permission denied``: the privilege named."""
    first = message.strip().splitlines()[0] if message.strip() else "permission denied"
    if _DENIED_SETTING.search(first):
        return f"{first}: grant pg_read_all_settings (or pg_monitor) to the audit role"
    match = _DENIED_OBJECT.search(first)
    if match and match.group("kind").lower() == "schema":
        return f"{first}: grant USAGE on schema {match.group('name')} to the audit role"
    if match and match.group("kind").lower() == "function":
        return f"{first}: grant EXECUTE on function {match.group('name')} to the audit role"
    if match:
        return (f"{first}: grant SELECT on {match.group('name')} (or pg_read_all_data, "
                "PostgreSQL 14+) to the audit role")
    return f"{first}: the audit role lacks a privilege this check needs"


def privilege_report(facts: ServerFacts) -> list[tuple[str, bool, str]]:
    """The preflight table: privilege, held, what it unlocks."""
    p = facts.privileges
    return [
        ("superuser", p.get("superuser", False), "everything (not needed; pg_monitor is enough)"),
        ("pg_monitor", p.get("pg_monitor", False), "statistics views, settings, activity"),
        ("pg_read_all_stats", p.get("pg_read_all_stats", False), "other roles' sessions"),
        ("pg_read_all_settings", p.get("pg_read_all_settings", False),
         "settings hidden from other roles (shared_preload_libraries)"),
        ("pg_read_all_data", p.get("pg_read_all_data", False), "pg_stats columns, data checks"),
    ]
