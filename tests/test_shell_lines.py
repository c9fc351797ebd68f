"""Remediation lines meant for a shell (pg_repack) quote their arguments for the shell: a table
or database name with quotes, spaces, ``$( )`` or backticks stays one literal argument."""

from __future__ import annotations

import shlex

import psycopg
from psycopg import sql

from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from tests.casefile import execute_script, settle_stats

TABLE = 'it\'s $(touch pwned) `id` "q"'
QUALIFIED = '"sh ell".' + sql.Identifier(TABLE).as_string(None)


def test_pg_repack_line_is_one_shell_word_per_argument(
    db: str, specs: dict[str, CheckSpec], server_major: int
) -> None:
    execute_script(
        db,
        'create schema if not exists "sh ell";'
        f" create table {QUALIFIED} (id bigint primary key, body text)"
        " with (autovacuum_enabled = false);"
        f" insert into {QUALIFIED} select g, repeat('x', 60) from generate_series(1, 20000) g;",
    )
    execute_script(db, f"delete from {QUALIFIED} where id % 4 <> 0")
    settle_stats(db, server_major)  # the delete is counted before ANALYZE resets the counter
    execute_script(db, f"analyze {QUALIFIED}")
    settle_stats(db, server_major)
    with psycopg.connect(db) as conn:
        row = conn.execute("select %s::regclass::text, current_database()", [QUALIFIED]).fetchone()
    assert row is not None
    name, dbname = row
    opts = AuditOptions(
        schemas=["sh ell"],
        overrides={
            "table_bloat": CheckOverride(
                params={"min_table_bytes": 0, "min_bloat_bytes": 0, "min_bloat_ratio": 0.1}
            )
        },
    )
    run = audit(db, [specs["table_bloat"]], opts)
    assert run.checks[0].status == "ran", run.checks[0]
    (finding,) = [f for f in run.findings if f.severity != "ok"]
    line = next(x for x in (finding.remediation or "").splitlines() if "pg_repack --table" in x)
    words = shlex.split(line.removeprefix("--").strip())
    assert words == ["pg_repack", f"--table={name}", f"--dbname={dbname}"]
