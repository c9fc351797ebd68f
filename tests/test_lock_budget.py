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
    assert "5 sequence(s) NOT READ: over the budget of 2 reads" in ok.detail
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
    assert "sequences_not_read" not in ok.evidence
