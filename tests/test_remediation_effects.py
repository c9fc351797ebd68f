"""Remediations that move data-bearing state do what they say, not just silence the check."""

from __future__ import annotations

import psycopg

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from tests.casefile import execute_script


def _fix(db: str, spec: CheckSpec, schema: str, table: str) -> None:
    run = audit(db, [spec], AuditOptions(schemas=[schema]))
    (finding,) = [f for f in run.findings if f.object.endswith(table)]
    assert finding.remediation
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(finding.remediation)  # the script holds its own begin/commit


def test_serial_to_identity_continues_after_the_serial(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    execute_script(
        db,
        "create schema ser;"
        ' create table ser."Tickets" (id serial primary key, note text);'
        " insert into ser.\"Tickets\" (note) select 'n' from generate_series(1, 10);"
        ' delete from ser."Tickets" where id > 7;'  # the serial has handed out 10, max(id) is 7
        " create table ser.fresh (id bigserial primary key, note text);",  # never called
    )
    spec = specs["serial_instead_of_identity"]
    _fix(db, spec, "ser", '"Tickets"')
    _fix(db, spec, "ser", "fresh")
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(
            "insert into ser.\"Tickets\" (note) values ('new') returning id"
        ).fetchone()
        assert row == (11,)  # ids 8-10 were handed out once: not reused
        assert conn.execute(
            "insert into ser.fresh (note) values ('a') returning id"
        ).fetchone() == (1,)
        kinds = conn.execute(
            "select attidentity from pg_attribute where attrelid in"
            " ('ser.\"Tickets\"'::regclass, 'ser.fresh'::regclass) and attname = 'id'"
        ).fetchall()
        assert kinds == [("d",), ("d",)]
        seqs = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'ser' and c.relkind = 'S'"
        ).fetchone()
        assert seqs == (2,)  # the two identity sequences; the serials' are gone
    run = audit(db, [spec], AuditOptions(schemas=["ser"]))
    assert [f.severity for f in run.findings] == ["ok"]
