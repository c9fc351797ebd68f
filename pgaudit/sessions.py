"""The read-only sessions of one audit: the first one, the extra ones, the spread over threads.

The first session is opened before anything runs: the server's facts are read on it and they
name the target (the history store is read by that name before the checks run). With
``connections`` above 1 more sessions are opened, set up like the first (no facts read again),
and the checks are spread over them, one thread each; a role's connection limit is no reason to
fail the audit, only to run on fewer sessions.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol, TypeVar

import psycopg

from pgaudit.checkfile import CheckSpec
from pgaudit.connection import (
    PROVIDER_DATABASES,
    ServerFacts,
    SessionOptions,
    connect,
    prepare_session,
    read_facts,
    target_of,
)
from pgaudit.dsn import redact_text
from pgaudit.errors import PgauditError

Conn = psycopg.Connection[dict[str, Any]]
Result = TypeVar("Result")
Result_co = TypeVar("Result_co", covariant=True)

# The checks' server time dominates from a few hundred tables up; a second read-only session
# halves it on a two-core server (benchmarks/README.md: musicbrainz, 3,030 pg_class rows,
# 0.96 -> 0.69 s; lago, 1,564, 0.86 -> 0.65 s). Below 1,000 rows (an empty database has ~420)
# the gain is under 0.1 s: not worth a second connection.
AUTO_RELATIONS = 1000
AUTO_SESSIONS = 2


def first_line(exc: BaseException) -> str:
    """An error's first line, without a password."""
    return redact_text((str(exc).strip().splitlines() or [type(exc).__name__])[0])


class StatementCounter:
    """Counts statements the audit sends, for the benchmark and the run's own footprint.

    A session's counter also adds to its ``parent``, the run's total: the session's own count
    stays exact per check while other sessions run theirs.
    """

    def __init__(self, parent: StatementCounter | None = None) -> None:
        self.count = 0
        self.parent = parent
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1
        if self.parent is not None:
            self.parent.add()

    def execute(self, cur: psycopg.Cursor[Any], sql: str, params: Any = None) -> None:
        self.add()
        cur.execute(sql, params)  # type: ignore[arg-type]


class Sessions:
    """The sessions of one audit; the first is open (facts read, session set up) once built.

    Use it as a context manager: every session is closed on the way out, and a database error
    inside becomes a PgauditError saying whether the connection was lost.
    """

    def __init__(self, dsn: str, options: SessionOptions) -> None:
        self.dsn = dsn
        self.options = options
        self.extra: list[Conn] = []
        self.first = connect(dsn, options)
        try:
            with self.errors():
                self.facts: ServerFacts = read_facts(self.first)
                if self.facts.database in PROVIDER_DATABASES:
                    raise PgauditError(
                        f"{self.facts.database} is a cloud provider's internal database;"
                        " not audited"
                    )
                prepare_session(self.first, options)
                self.target: dict[str, Any] = target_of(self.first, self.facts)
        except BaseException:
            self.first.close()
            raise

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def all(self) -> list[Conn]:
        return [self.first, *self.extra]

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            if any(c.broken for c in self.extra) or self.first.broken or self.first.closed:
                lost = f"lost the connection to the server: {first_line(exc)}"
                raise PgauditError(lost) from None
            raise PgauditError(f"the audit could not run: {first_line(exc)}") from None

    def wanted(
        self, connections: int | Literal["auto"], checks: int, counter: StatementCounter
    ) -> tuple[int, str | None]:
        """Sessions to run on, and for "auto" the reason it gives (one statement, any catalog
        size)."""
        if connections != "auto":
            return connections, None
        if checks < 2:  # nothing to spread
            return 1, None
        with self.first.cursor() as cur:
            counter.execute(cur, "select count(*) as n from pg_catalog.pg_class")
            row = cur.fetchone()
        self.first.rollback()
        relations = int(row["n"]) if row else 0
        if relations < AUTO_RELATIONS:
            return 1, None
        return AUTO_SESSIONS, f"auto: {AUTO_SESSIONS} sessions for {relations:,} catalog relations"

    def open_extra(self, wanted: int) -> str | None:
        """Up to ``wanted`` more sessions set up like the first; the first failure ends the
        tries and its one-line reason is returned."""
        for _ in range(wanted):
            try:
                conn = connect(self.dsn, self.options)
            except PgauditError as exc:
                return first_line(exc)
            try:
                prepare_session(conn, self.options)
            except psycopg.Error as exc:
                conn.close()
                return first_line(exc)
            self.extra.append(conn)
        return None

    def close_extra(self) -> None:
        """The checks are done: give the server its connections back now."""
        for c in self.extra:
            c.close()

    def close(self) -> None:
        self.close_extra()
        self.first.close()


class Worker(Protocol[Result_co]):
    """What runs checks on one session (``pgaudit.engine.Engine``)."""

    @property
    def conn(self) -> Conn: ...

    def run_check(self, spec: CheckSpec) -> Result_co: ...


def spread(
    workers: Sequence[Worker[Result]],
    specs: list[CheckSpec],
    progress: Callable[[CheckSpec, Result], None] | None,
) -> list[Result]:
    """Run the checks on several sessions at once, one thread each, pulling from one queue in
    the given order; results come back in that order. The first failure (a lost connection)
    stops the others from starting a check, and is raised.
    """
    todo: queue.SimpleQueue[tuple[int, CheckSpec]] = queue.SimpleQueue()
    for item in enumerate(specs):
        todo.put(item)
    done: list[Result | None] = [None] * len(specs)
    stop = threading.Event()
    report = threading.Lock()  # progress callbacks one at a time

    def work(worker: Worker[Result]) -> None:
        while not stop.is_set():
            try:
                i, spec = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done[i] = result = worker.run_check(spec)
                if progress:
                    with report:
                        progress(spec, result)
            except BaseException:
                stop.set()
                raise

    with ThreadPoolExecutor(len(workers), thread_name_prefix="pgaudit-checks") as pool:
        futures = [pool.submit(work, w) for w in workers]
        try:
            failures = [exc for f in futures if (exc := f.exception()) is not None]
        except BaseException:  # Ctrl-C: no new checks, and the running ones cancelled
            stop.set()
            for w in workers:
                with contextlib.suppress(psycopg.Error):
                    w.conn.cancel_safe(timeout=2)
            raise
    if failures:
        raise failures[0]
    return [r for r in done if r is not None]
