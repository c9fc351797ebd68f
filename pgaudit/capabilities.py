"""What the audit role can see, and therefore which checks can give a verdict.

A check the role cannot serve is ``skipped`` with the missing privilege named: a silent pass on
an empty ``pg_stats`` or a filtered ``pg_stat_activity`` is worse than no answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgaudit.checkfile import CheckSpec
from pgaudit.connection import ServerFacts


@dataclass(frozen=True)
class Context:
    facts: ServerFacts
    allow_data: bool
    has_store: bool
    pgss_schema: str | None  # schema of a readable pg_stat_statements view, if any


def missing_need(spec: CheckSpec, ctx: Context) -> str | None:
    """Why this check cannot run here, or None when it can."""
    facts = ctx.facts
    priv = facts.privileges
    if facts.major < spec.min_server_version:
        return f"needs PostgreSQL {spec.min_server_version}+ (server is {facts.major})"
    for need in spec.needs:
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
        if need == "history" and not ctx.has_store:
            return "compares with the previous run: give a history store with --store"
    return None


def privilege_report(facts: ServerFacts) -> list[tuple[str, bool, str]]:
    """The preflight table: privilege, held, what it unlocks."""
    p = facts.privileges
    return [
        ("superuser", p.get("superuser", False), "everything (not needed; pg_monitor is enough)"),
        ("pg_monitor", p.get("pg_monitor", False), "statistics views, settings, activity"),
        ("pg_read_all_stats", p.get("pg_read_all_stats", False), "other roles' sessions"),
        ("pg_read_all_settings", p.get("pg_read_all_settings", False), "all server settings"),
        ("pg_read_all_data", p.get("pg_read_all_data", False), "pg_stats columns, data checks"),
    ]
