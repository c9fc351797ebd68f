"""Never in the way: locks, timeouts, least privilege, read-only sessions, lost connections."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgaudit.checkfile import CheckSpec, discover
from pgaudit.connection import SessionOptions
from pgaudit.dsn import redact_text, resolve
from pgaudit.engine import AuditOptions, audit
from pgaudit.errors import PgauditError
from pgaudit.model import CheckResult
from tests.casefile import UID, execute_script

SLEEPY = """/* pgaudit
id = "{id}"
title = "Sleeping check"
section = "3.3"
format = 2
severity = "info"
detects = "Nothing; sleeps."
why = "Tests timeouts."
example = "select pg_sleep(1)"
fix = "do not sleep"
ignore_when = "Always."
references = ["https://www.postgresql.org/docs/current/functions-datetime.html"]
ok = "Slept"
impact = "None."
*/
select 'x' as object from (select pg_catalog.pg_sleep({seconds}) as z) s where s.z::text = 'never'
"""


def _custom_check(tmp_path: Path, check_id: str, seconds: float) -> CheckSpec:
    path = tmp_path / f"{check_id}.sql"
    path.write_text(SLEEPY.format(id=check_id, seconds=seconds))
    return discover([tmp_path])[check_id]


def _as_user(dsn: str, user: str) -> str:
    params = conninfo_to_dict(dsn)
    params["user"] = user
    params.pop("password", None)
    return make_conninfo(**params)


@pytest.fixture(scope="module")
def big_table(db: str) -> str:
    execute_script(
        db,
        """
        create table public.big (id bigint generated always as identity primary key,
                                 created_at timestamptz not null default now(), note text);
        insert into public.big (note) select md5(g::text) from generate_series(1, 20000) g;
        create table public.small (id bigint primary key, big_id bigint references public.big);
        -- every catalog shape a check might render with pg_get_* functions, on the locked table
        alter table public.big add column serial_col serial, add column deleted_at timestamptz,
          add column balance numeric check (balance >= 0), add column user_id bigint,
          add column token text, add column email text unique, add column amount numeric,
          add column idempotency_key text, add column expires_at timestamp;
        create index big_note_idx on public.big (note) where deleted_at is null;
        create index big_lower_idx on public.big (lower(note));
        create index big_note_dup_idx on public.big (note);
        create index big_note_dup2_idx on public.big (note);
        create unique index big_idem_idx on public.big (idempotency_key);
        alter table public.big add constraint big_self_fk foreign key (user_id)
          references public.big (id) on delete cascade not valid;
        create table public.big_log (id bigint primary key, big_id bigint not null
          references public.big (id) on delete cascade, balance_before numeric, amount numeric);
        analyze;
    """,
    )
    return "public.big"


def assert_left_out(checks: list[CheckResult], table: str) -> None:
    """The lock-sensitive checks that ran each left the locked table out, and some did run:
    a run where all of them were skipped would show nothing."""
    ran = [c for c in checks if c.status == "ran"]
    assert ran, "no lock-sensitive check ran: " + "; ".join(
        f"{c.id} {c.status} ({c.reason})" for c in checks
    )
    missing = [c.id for c in ran if table not in c.skipped_objects]
    assert not missing, f"checks that ran without leaving {table} out: {missing}"


def test_teeth_left_out_needs_a_check_that_ran() -> None:
    left_out = CheckResult("a", "ran", skipped_objects=["public.big"])
    assert_left_out([left_out, CheckResult("b", "skipped", "no verdict")], "public.big")
    with pytest.raises(AssertionError, match="no lock-sensitive check ran"):
        assert_left_out([CheckResult("a", "skipped", "no verdict")], "public.big")
    with pytest.raises(AssertionError, match="no lock-sensitive check ran"):
        assert_left_out([], "public.big")
    with pytest.raises(AssertionError, match=r"without leaving public.big out: \['b'\]"):
        assert_left_out([left_out, CheckResult("b", "ran")], "public.big")


def test_access_exclusive_lock_does_not_block_the_audit(
    db: str, big_table: str, specs: dict[str, CheckSpec]
) -> None:
    holder = psycopg.connect(db)
    try:
        holder.execute("lock table public.big in access exclusive mode")
        started = time.monotonic()
        run = audit(db, list(specs.values()), AuditOptions())
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert elapsed < 30, f"the audit took {elapsed:.1f}s behind a DDL lock"
    lock_errors = {
        c.id: c.reason for c in run.checks if c.status == "error" and "lock" in (c.reason or "")
    }
    assert not sorted(lock_errors), sorted(lock_errors)
    assert_left_out([c for c in run.checks if specs[c.id].locks], "public.big")


def test_pending_access_exclusive_lock_is_skipped_too(
    db: str, big_table: str, specs: dict[str, CheckSpec]
) -> None:
    reader = psycopg.connect(db)
    reader.execute("select count(*) from public.big")  # holds AccessShareLock, transaction open
    waiter_done = threading.Event()

    def ddl() -> None:
        with psycopg.connect(db) as conn:
            try:
                conn.execute("set lock_timeout = '20s'")
                conn.execute("alter table public.big add column pending_col int")
            except psycopg.Error:
                pass
            finally:
                conn.rollback()
                waiter_done.set()

    t = threading.Thread(target=ddl)
    t.start()
    try:
        time.sleep(0.5)  # the ALTER is now queued behind the reader
        lock_sensitive = [s for s in specs.values() if s.locks]
        started = time.monotonic()
        run = audit(db, lock_sensitive, AuditOptions())
        assert time.monotonic() - started < 15
        assert_left_out(run.checks, "public.big")
    finally:
        reader.rollback()
        reader.close()
        t.join(timeout=30)


def test_timed_out_check_is_an_error_and_the_run_goes_on(
    db: str, tmp_path: Path, specs: dict[str, CheckSpec]
) -> None:
    sleepy = _custom_check(tmp_path, "sleepy_check", 3)
    opts = AuditOptions(session=SessionOptions(statement_timeout_ms=300))
    run = audit(db, [sleepy, specs["table_without_primary_key"]], opts)
    by_id = {c.id: c for c in run.checks}
    assert by_id["sleepy_check"].status == "error"
    assert "timed out" in (by_id["sleepy_check"].reason or "")
    assert by_id["table_without_primary_key"].status == "ran"


def test_pg_monitor_only_role_completes_and_says_what_it_skipped(
    db: str, admin: str, specs: dict[str, CheckSpec]
) -> None:
    role = f"pgaudit_monitor_{UID}"
    execute_script(
        admin, f"drop role if exists {role}; create role {role} login in role pg_monitor"
    )
    try:
        run = audit(_as_user(db, role), list(specs.values()), AuditOptions())
    finally:
        execute_script(admin, f"drop owned by {role} cascade; drop role {role}")
    assert run.facts["privileges"]["pg_monitor"] is True
    assert run.facts["privileges"]["pg_read_all_data"] is False
    statuses = {c.id: c for c in run.checks}
    assert not [c.id for c in run.checks if c.status == "error"]
    for spec in specs.values():
        if "data" in spec.needs or "column_stats" in spec.needs:
            assert statuses[spec.id].status == "skipped", spec.id
            assert "pg_read_all_data" in (statuses[spec.id].reason or ""), spec.id


def test_read_only_role_default_works(db: str, admin: str, specs: dict[str, CheckSpec]) -> None:
    role = f"pgaudit_ro_{UID}"
    execute_script(
        admin,
        f"drop role if exists {role}; create role {role} login in role pg_monitor;"
        f" alter role {role} set default_transaction_read_only = on",
    )
    try:
        run = audit(_as_user(db, role), list(specs.values()), AuditOptions())
    finally:
        execute_script(admin, f"drop role {role}")
    assert not [c.id for c in run.checks if c.status == "error"]


def test_terminated_session_is_a_clear_error(db: str, admin: str, tmp_path: Path) -> None:
    sleepy = _custom_check(tmp_path, "long_check", 20)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            audit(db, [sleepy], AuditOptions())
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 10
    killed = 0
    while time.monotonic() < deadline and not killed:
        time.sleep(0.2)
        with psycopg.connect(admin, autocommit=True) as conn:
            row = conn.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where application_name = 'pgaudit' and query like %s",
                ["%pg_sleep%"],
            ).fetchone()
            killed = row[0] if row else 0
    t.join(timeout=30)
    assert killed, "the audit session was never seen running"
    assert errors and isinstance(errors[0], PgauditError), errors
    assert "connection" in str(errors[0])


def test_passwords_never_shown() -> None:
    secret = "s3cr3t-Pa55"
    dsn = f"postgresql://auditor:{secret}@127.0.0.1:1/db"
    with pytest.raises(PgauditError) as exc:
        audit(dsn, [], AuditOptions(session=SessionOptions(connect_timeout_s=2)))
    assert secret not in str(exc.value)
    assert secret not in redact_text(f"host=x password={secret} user=y")
    assert secret not in redact_text(f"postgresql+psycopg://u:{secret}@h/db")
    assert resolve("postgresql+psycopg://u@h/db") == "postgresql://u@h/db"


@pytest.mark.parametrize(
    "bad",
    ["host=nonexistent.invalid connect_timeout=2", "postgresql://[::1", "not a dsn at all = ="],
)
def test_garbage_dsn_is_a_clear_error(bad: str) -> None:
    with pytest.raises(PgauditError):
        audit(resolve(bad), [], AuditOptions(session=SessionOptions(connect_timeout_s=2)))


def test_the_session_is_read_only_bounded_and_serial(db: str) -> None:
    from pgaudit.connection import connect, prepare_session

    conn = connect(db, SessionOptions(lock_timeout_ms=1500, statement_timeout_ms=25000))
    try:
        prepare_session(conn, SessionOptions(lock_timeout_ms=1500, statement_timeout_ms=25000))
        names = [
            "application_name", "lock_timeout", "statement_timeout", "search_path",
            "default_transaction_read_only", "jit", "max_parallel_workers_per_gather",
        ]  # fmt: skip
        row = conn.execute(
            "select " + ", ".join(f"current_setting('{n}') as {n}" for n in names)
        ).fetchone()
    finally:
        conn.close()
    assert row == {
        "application_name": "pgaudit",
        "lock_timeout": "1500ms",
        "statement_timeout": "25s",
        "search_path": "pg_catalog",
        "default_transaction_read_only": "on",
        "jit": "off",
        "max_parallel_workers_per_gather": "0",  # one server CPU per audit session
    }
