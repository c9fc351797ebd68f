"""Open the audit session: read-only, bounded, labelled, and safe behind poolers.

Settings are issued with ``SET`` after connecting rather than as startup options, because
PgBouncer and other poolers drop startup options silently.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from pgaudit.dsn import display, redact_text
from pgaudit.errors import PgauditError

# Settings whose values for the connecting role the checks judge. They are read before the
# session's own SETs, which would otherwise mask them.
WATCHED_SETTINGS = (
    "lock_timeout",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "transaction_timeout",
    "log_min_duration_statement",
    "max_connections",
    "max_locks_per_transaction",
    "shared_preload_libraries",
    "track_counts",
    "track_activities",
    "autovacuum",
    "default_transaction_read_only",
    "log_lock_waits",
    "deadlock_timeout",
    "server_version_num",
)

PROVIDER_DATABASES = frozenset({"rdsadmin", "cloudsqladmin", "azure_maintenance", "azure_sys"})


@dataclass
class SessionOptions:
    lock_timeout_ms: int = 2000
    statement_timeout_ms: int = 30000
    connect_timeout_s: int = 10
    application_name: str = "pgaudit"


@dataclass
class ServerFacts:
    database: str
    server_version: str
    server_version_num: int
    is_replica: bool
    role: str
    superuser: bool
    memberships: list[str]
    extensions: dict[str, str]
    settings: dict[str, dict[str, Any]]
    stats_reset: str | None
    stats_age_s: float | None
    system_identifier: str | None
    host: str
    port: str
    privileges: dict[str, bool] = field(default_factory=dict)

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def connect(dsn: str, options: SessionOptions | None = None) -> psycopg.Connection[dict[str, Any]]:
    options = options or SessionOptions()
    given: dict[str, Any] = {}
    try:
        # a connect_timeout in the DSN (or PGCONNECT_TIMEOUT) wins over the default
        given = conninfo_to_dict(dsn) if dsn else {}
        own = "connect_timeout" in given or os.environ.get("PGCONNECT_TIMEOUT")
        conn = psycopg.connect(
            dsn,
            connect_timeout=None if own else options.connect_timeout_s,  # None: not passed
            application_name=options.application_name,
            autocommit=True,
            row_factory=dict_row,
        )
    except psycopg.OperationalError as exc:
        message = _not_postgres(_first_line(exc))
        if "timeout expired" in message and given.get("host"):  # psycopg's own: says no host
            message += f" ({display(given)})"
        raise PgauditError(f"cannot connect: {message}") from None
    except psycopg.Error as exc:
        raise PgauditError(f"cannot connect: {_first_line(exc)}") from None
    # evidence arrives as jsonb, tens of thousands of documents on a large catalog
    set_json_loads(orjson.loads, conn)
    return conn


# libpq's words when the peer answers, but not in the PostgreSQL protocol (HTTP, SSH, …)
_PROTOCOL_MISMATCH = re.compile(
    r"invalid response to (?:SSL|GSSAPI) negotiation|expected authentication request from server"
    r"|unexpected message from server during startup|received invalid protocol negotiation")


def _not_postgres(message: str) -> str:
    if _PROTOCOL_MISMATCH.search(message):
        return f"{message} (not a PostgreSQL server? check the host and port)"
    return message


_ATTEMPT = re.compile(r'connection to server (?:at|on) (?P<where>.+?) failed:\s*', re.S)


def _first_line(exc: BaseException) -> str:
    """libpq's message in one line: where it tried, why it failed, its hint; no password."""
    text = str(exc).strip() or type(exc).__name__
    attempts = list(_ATTEMPT.finditer(text))
    if not attempts:
        return redact_text(" ".join(text.split()))
    # libpq repeats "connection to server at ... failed:" per address tried; keep the last.
    last = attempts[-1]
    reason = " ".join(text[last.end():].split())
    where = " ".join(last.group("where").split())
    return redact_text(f"{where}: {reason}")


_FACTS_SQL = """
select current_database() as database,
       current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       pg_is_in_recovery() as is_replica,
       current_user as role,
       r.rolsuper as superuser,
       coalesce((select array_agg(g.rolname order by g.rolname)
                 from pg_catalog.pg_roles g
                 where pg_has_role(current_user, g.oid, 'USAGE')
                   and g.rolname <> current_user), '{}')
         as memberships,
       coalesce((select jsonb_object_agg(extname, extversion) from pg_catalog.pg_extension), '{}')
         as extensions,
       (select stats_reset from pg_catalog.pg_stat_database where datname = current_database())
         as stats_reset,
       (select extract(epoch from now() - coalesce(stats_reset, pg_postmaster_start_time()))
        from pg_catalog.pg_stat_database where datname = current_database()) as stats_age_s,
       coalesce(inet_server_addr()::text, '') as server_addr,
       coalesce(inet_server_port()::text, '') as server_port
from pg_catalog.pg_roles r where r.rolname = current_user
"""


def read_facts(conn: psycopg.Connection[dict[str, Any]]) -> ServerFacts:
    """Server facts, read once, before the session's own SETs mask the role's settings."""
    with conn.cursor() as cur:
        try:
            cur.execute(_FACTS_SQL)
        except psycopg.Error as exc:
            raise PgauditError(
                f"the server did not answer as PostgreSQL: {_first_line(exc)}"
            ) from None
        row = cur.fetchone()
        assert row is not None
        cur.execute(
            "select name, setting, unit, source, boot_val from pg_catalog.pg_settings"
            " where name = any(%s)",
            [list(WATCHED_SETTINGS)],
        )
        settings = {
            r["name"]: {k: r[k] for k in ("setting", "unit", "source", "boot_val")}
            for r in cur.fetchall()
        }
        system_identifier = None
        cur.execute(
            "select has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE') as ok"
        )
        ok = cur.fetchone()
        if ok and ok["ok"]:
            cur.execute("select system_identifier::text as sid from pg_catalog.pg_control_system()")
            sid = cur.fetchone()
            system_identifier = sid["sid"] if sid else None
    info = conn.info
    members = set(row["memberships"])
    superuser = bool(row["superuser"])
    privileges = {
        "superuser": superuser,
        "pg_monitor": superuser or "pg_monitor" in members,
        "pg_read_all_stats": superuser or bool({"pg_read_all_stats", "pg_monitor"} & members),
        "pg_read_all_settings": superuser or bool({"pg_read_all_settings", "pg_monitor"} & members),
        "pg_read_all_data": superuser or "pg_read_all_data" in members,
    }
    return ServerFacts(
        database=row["database"],
        server_version=row["server_version"],
        server_version_num=row["server_version_num"],
        is_replica=bool(row["is_replica"]),
        role=row["role"],
        superuser=superuser,
        memberships=sorted(members),
        extensions=dict(row["extensions"]),
        settings=settings,
        stats_reset=row["stats_reset"].isoformat() if row["stats_reset"] else None,
        stats_age_s=float(row["stats_age_s"]) if row["stats_age_s"] is not None else None,
        system_identifier=system_identifier,
        host=info.host
        if info.host and not info.host.startswith("/")
        else (row["server_addr"] or info.host),
        port=str(info.port),
        privileges=privileges,
    )


def prepare_session(conn: psycopg.Connection[dict[str, Any]], options: SessionOptions) -> None:
    """Make the session read-only and bounded. Done after ``read_facts``."""
    with conn.cursor() as cur:
        cur.execute(
            "select set_config('application_name', %(app)s, false),"
            " set_config('lock_timeout', %(lock)s, false),"
            " set_config('statement_timeout', %(stmt)s, false),"
            " set_config('idle_in_transaction_session_timeout', '60s', false),"
            " set_config('search_path', 'pg_catalog', false),"
            " set_config('default_transaction_read_only', 'on', false),"
            # JIT compiles big catalog queries for longer than they run (2 s vs 50 ms seen)
            " set_config('jit', 'off', false),"
            # no parallel workers: one CPU per audit session on the server; catalog scans ran
            # no faster with them (3.0 s either way at 50,000 relations)
            " set_config('max_parallel_workers_per_gather', '0', false)",
            {
                "app": options.application_name,
                "lock": f"{options.lock_timeout_ms}ms",
                "stmt": f"{options.statement_timeout_ms}ms",
            },
        )
    conn.autocommit = False
    conn.read_only = True


def target_of(conn: psycopg.Connection[Any], facts: ServerFacts) -> dict[str, Any]:
    params = conn.info.get_parameters()
    return {
        "database": facts.database,
        "server_version": facts.server_version,
        "host": facts.host,
        "port": facts.port,
        "user": params.get("user", facts.role),
        "display": display({**params, "host": facts.host}),
        "system_identifier": facts.system_identifier,
        "is_replica": facts.is_replica,
    }
