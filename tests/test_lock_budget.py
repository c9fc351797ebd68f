"""Reading a sequence's last value locks the sequence until the check's transaction ends: on a
catalog of thousands of serial tables an audit would hold thousands of locks at once. The
sequence checks read the sequences most at risk first and at most ``max_sequences_read`` of
them, and say how many they left unread."""

from __future__ import annotations

from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from tests.casefile import execute_script


def _plant(db: str) -> None:
    execute_script(
        db,
        "create schema if not exists lb;"
        + "".join(
            f" create table if not exists lb.small_{i} (id serial primary key);" for i in range(5)
        )
        + "".join(
            f" create table if not exists lb.big_{i}"
            " (id bigint generated always as identity primary key);"
            for i in range(2)
        )
        # the one near its limit: smallserial, the shortest range, so it is read first
        + " create table if not exists lb.tiny (id smallserial primary key);"
        " select setval('lb.tiny_id_seq', 30000);"
        # the biggest table: its key's sequence is read first by integer_primary_key
        " create table if not exists lb.busy (id serial primary key, pad text);"
        " truncate lb.busy; insert into lb.busy (pad) select 'x' from generate_series(1, 3000);"
        " analyze lb.busy;",
    )


def _run(db: str, spec: CheckSpec, budget: int):
    opts = AuditOptions(
        schemas=["lb"],
        overrides={spec.id: CheckOverride(params={"max_sequences_read": budget})},
    )
    return audit(db, [spec], opts)


def test_sequence_near_exhaustion_reads_the_shortest_ranges_within_its_budget(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    _plant(db)
    spec = specs["sequence_near_exhaustion"]
    run = _run(db, spec, 2)
    # the smallserial near its limit was read despite the budget of two
    assert [(f.object, f.severity) for f in run.findings] == [("lb.tiny", "critical")]
    run = _run(db, spec, 100)
    assert [f.object for f in run.findings] == ["lb.tiny"]
    execute_script(db, "select setval('lb.tiny_id_seq', 1)")
    (ok,) = _run(db, spec, 2).findings
    assert ok.severity == "ok"
    # 7 int sequences in reach (5 small, tiny, busy), 2 read; the 2 bigint ranges not read
    assert ok.evidence["sequences"] == 2
    assert ok.evidence["not_read_over_lock_budget"] == 5
    assert ok.evidence["not_read_far_from_limit"] == 2
    assert ok.evidence["read_budget"] == 2
    assert "5 sequences NOT READ: over the budget of 2 reads" in ok.detail
    (ok,) = _run(db, spec, 100).findings
    assert ok.evidence.get("not_read_over_lock_budget", 0) == 0 and "NOT READ" not in ok.detail


def test_integer_primary_key_reads_the_biggest_tables_first_within_its_budget(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    _plant(db)
    execute_script(db, "select setval('lb.tiny_id_seq', 1)")  # no key near its limit here
    spec = specs["integer_primary_key"]
    (ok,) = [f for f in _run(db, spec, 1).findings if f.severity == "ok"]
    assert ok.evidence["sequences_not_read"] == 6  # 5 small + tiny: busy (biggest) was read
    assert ok.evidence["read_budget"] == 1
    assert "the sequences of 6 keys were NOT READ" in ok.detail
    (ok,) = [f for f in _run(db, spec, 100).findings if f.severity == "ok"]
    assert ok.evidence["sequences_not_read"] == 0 and "NOT READ" not in ok.detail


PARTITIONS = 120
# a query's own catalog locks (pg_class, pg_index and their indexes…) are some 30-40; a walk
# that locked every partition would add PARTITIONS
LOCKS_BELOW = 90


def _locks_held(db: str, spec: CheckSpec, params: dict[str, object]) -> int:
    """Relation locks the check's query leaves held in its transaction (they last to its end)."""
    from pgaudit.connection import connect, prepare_session, read_facts
    from pgaudit.engine import Engine, check_params

    opts = AuditOptions(schemas=["lbp"])
    conn = connect(db, opts.session)
    try:
        facts = read_facts(conn)
        prepare_session(conn, opts.session)
        engine = Engine(conn, facts, opts)
        bound = {**engine.base_params(), **check_params(spec, None), **params}
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(spec.sql, bound)
            cur.fetchall()
            row = conn.execute(
                "select count(*) as n from pg_catalog.pg_locks"
                " where pid = pg_backend_pid() and locktype = 'relation'"
            ).fetchone()
        return int(row["n"]) if row else 0
    finally:
        conn.close()


def test_partition_trees_are_walked_without_locking_every_partition(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(
        db,
        "create schema if not exists lbp;"
        " create table if not exists lbp.events (id bigint, at date not null)"
        " partition by range (at);"
        + "".join(
            f" create table if not exists lbp.events_{d} partition of lbp.events"
            f" for values from ('2024-01-01'::date + {d}) to ('2024-01-01'::date + {d + 1});"
            for d in range(PARTITIONS)
        ),
    )
    execute_script(
        db,
        "create table if not exists lbp.accounts (id bigint primary key);"
        " alter table lbp.events add column if not exists account_id bigint;"
        " create index if not exists events_account on lbp.events (account_id);"
        " do $$ begin alter table lbp.events add constraint events_account_fk"
        " foreign key (account_id) references lbp.accounts;"
        " exception when duplicate_object then null; end $$;",
    )
    small = {"min_bytes": 0, "max_relations_sized": 10, "min_stats_age_s": 0}
    # an indexed foreign key on the partitioned table: every partition is checked, none locked
    assert _locks_held(db, specs["unindexed_foreign_key"], {}) < LOCKS_BELOW
    # a partition tree walk by pg_partition_tree() would hold 120 locks more than these
    assert _locks_held(db, specs["table_growth"], small) < LOCKS_BELOW
    assert _locks_held(db, specs["unused_table"], small) < LOCKS_BELOW
    run = audit(
        db,
        [specs["table_growth"]],
        AuditOptions(schemas=["lbp"], overrides={"table_growth": CheckOverride(params=small)}),
    )
    (finding,) = [f for f in run.findings if f.object == "lbp.events"]
    assert finding.evidence["partitions"] == PARTITIONS
    assert finding.evidence["size_estimated"] is True  # 120 relations > a budget of 10


def test_the_lock_budget_is_a_quarter_of_the_servers_lock_table(db: str) -> None:
    from pgaudit.connection import connect, read_facts
    from pgaudit.engine import lock_budget

    conn = connect(db, AuditOptions().session)
    try:
        facts = read_facts(conn)
        row = conn.execute(
            "select current_setting('max_locks_per_transaction')::int"
            " * current_setting('max_connections')::int / 4 as n"
        ).fetchone()
    finally:
        conn.close()
    assert row is not None and lock_budget(facts.settings) == row["n"]
    assert lock_budget({}) == 1600  # the defaults, when a setting cannot be read
