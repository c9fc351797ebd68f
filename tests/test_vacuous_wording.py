"""Issue 12: sentences that are true of what was judged, never vacuous, and evidence for people.

- integer_primary_key never says "the 0 smallint/integer key(s) have used …", and with no
  single-column primary key in scope it is not applicable (no 🟢 line);
- varchar_length_mismatch never says "0 of 0 candidate column(s)": nothing to judge is not
  applicable;
- identifier_requires_quoting shows no "Only 63-byte names: no" fact, and a table whose only
  quoted names are index names (TypeORM's PK_<hash>) is low priority.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgaudit import evidence
from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import AuditRun
from tests.casefile import execute_script, reset_schema

SCHEMA = "vw"


def _run(db: str, spec: CheckSpec, setup: str) -> AuditRun:
    reset_schema(db, SCHEMA)
    execute_script(db, setup)
    return audit(db, [spec], AuditOptions(schemas=[SCHEMA]))


@pytest.fixture()
def fresh(db: str) -> Iterator[str]:
    yield db
    execute_script(db, f"drop schema if exists {SCHEMA} cascade")


def test_integer_primary_key_with_only_bigint_keys_says_so(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    run = _run(
        fresh,
        specs["integer_primary_key"],
        "create table vw.a (id bigint primary key); create table vw.b (id uuid primary key);",
    )
    assert run.checks[0].status == "ran"
    [ok] = run.findings
    assert ok.severity == "ok"
    assert ok.title.startswith(
        "2 of 2 single-column primary keys are bigint or uuid; none is smallint"
    )
    assert "the 0" not in ok.title


def test_integer_primary_key_with_small_keys_names_them(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    run = _run(
        fresh,
        specs["integer_primary_key"],
        "create table vw.a (id bigint primary key); create table vw.b (id serial primary key);",
    )
    [ok] = run.findings
    assert "1 of 2 single-column primary keys" in ok.title
    assert ("the 1 smallint/integer key has used less than 1% of its range and sits on tables"
            " under 100,000 rows") in ok.title


def test_integer_primary_key_without_keys_is_not_applicable(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    run = _run(fresh, specs["integer_primary_key"], "create table vw.a (id int, b text);")
    assert run.checks[0].status == "not_applicable"
    assert run.findings == []


def test_varchar_length_mismatch_with_nothing_to_judge_is_not_applicable(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    run = _run(
        fresh,
        specs["varchar_length_mismatch"],
        "create table vw.a (id bigint primary key, name varchar(40), note text);",
    )
    assert run.checks[0].status == "not_applicable", run.checks[0]
    assert run.findings == []


def test_varchar_length_mismatch_candidates_still_judged(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    # a varchar(255) candidate on an analyzed table of 2,000 rows whose values fit: the 🟢
    # summary counts it (1 of 1), so "not applicable" above is not the check going silent
    run = _run(
        fresh,
        specs["varchar_length_mismatch"],
        """
        create table vw.a (id bigint primary key, title varchar(255));
        insert into vw.a select g, repeat('x', 200) from generate_series(1, 2000) g;
        analyze vw.a;""",
    )
    assert run.checks[0].status == "ran", run.checks[0]
    [ok] = run.findings
    assert ok.severity == "ok" and "1 of 1 candidate column checked" in ok.title


def test_identifier_quoting_index_names_only_are_low_and_no_false_fact(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    # TypeORM's PK_<hash> and Flowable's ACT_*_pkey: names only maintenance DDL types
    spec = specs["identifier_requires_quoting"]
    run = _run(
        fresh,
        spec,
        """
        create table vw.orders (id bigint constraint "PK_0a1b2c3d4e5f60718293a4b5c6d" primary key);
        create table vw.act_ru_task (id_ text constraint "ACT_RU_TASK_pkey" primary key);
        create table vw."Invoices" (
          id bigint constraint "PK_9a8b7c6d5e4f30211203a4b5c6d" primary key);
        create table vw.payments (id bigint primary key, "OrderId" bigint);""",
    )
    found = {f.object: f for f in run.findings}
    assert set(found) == {"vw.orders", "vw.act_ru_task", 'vw."Invoices"', "vw.payments"}
    assert (found["vw.orders"].severity, found["vw.orders"].priority) == ("warning", "low")
    assert found["vw.act_ru_task"].priority == "low"
    # a table or column name every query types still needs a person soon
    assert found['vw."Invoices"'].priority == "high"
    assert found["vw.payments"].priority == "high"
    for f in run.findings:
        shown = dict(evidence.items(f.evidence, params=spec.params, labels=spec.labels))
        assert not any("63" in label for label in shown), shown
        assert "no" not in shown.values(), shown


def test_table_without_any_unique_index_says_so(
    fresh: str, specs: dict[str, CheckSpec]
) -> None:
    # never "(0 of its 0 unique index(es) could serve as one)"
    run = _run(
        fresh,
        specs["table_without_primary_key"],
        """
        create table vw.bare (a int);
        create table vw.one (a int not null unique);
        create table vw.two (a int not null unique, b int unique);""",
    )
    found = {f.object: f.detail for f in run.findings}
    assert found["vw.bare"] == "vw.bare has no primary key and no unique index"
    assert found["vw.one"] == (
        "vw.one has no primary key (1 of its 1 unique index could serve as one)")
    assert found["vw.two"] == (
        "vw.two has no primary key (1 of its 2 unique indexes could serve as one)")


def test_timeout_off_reads_as_a_sentence(fresh: str, specs: dict[str, CheckSpec]) -> None:
    # the test server leaves lock_timeout at its default, 0, for every login role
    spec = specs["lock_timeout_not_set"]
    run = audit(fresh, [spec], AuditOptions(schemas=["public"]))
    [db_finding] = [f for f in run.findings if f.object_type == "database"]
    n = db_finding.evidence["login_roles"]
    roles = "the only login role" if n == 1 else f"all {n} login roles"
    assert db_finding.detail.endswith(f"lock_timeout is off for {roles}: the server default is off")
    shown = dict(evidence.items(db_finding.evidence, params=spec.params, labels=spec.labels))
    assert shown["Value"] == "off (0)"


def test_green_lines_name_facts_not_parameters(fresh: str, specs: dict[str, CheckSpec]) -> None:
    # a statistics window of 10 years is never there: the lines say how long it is and what
    # they need, never the parameter's name
    decade = 10 * 365 * 86400.0
    options = AuditOptions(schemas=["public"], overrides={
        "memory_settings_default": CheckOverride(params={"min_checkpoint_window_s": decade}),
        "replication_overview": CheckOverride(params={"min_stats_age_s": decade}),
    })
    run = audit(fresh, [specs["memory_settings_default"], specs["replication_overview"],
                        specs["xid_wraparound_risk"]], options)
    lines = {f.check: f.title for f in run.findings if f.severity == "ok"}
    memory = lines["memory_settings_default"]
    assert "min_checkpoint_window_s" not in memory
    assert " kB (" not in memory  # the database's size in its largest unit, as people say it
    assert "less than the 3650.0 days needed to judge rates" in memory
    replication = lines["replication_overview"]
    assert "0 replicas streaming" in replication or "1 replica streaming" in replication
    assert "read replica: not judged (the statistics cover " in replication
    assert "less than the 3650.0 days needed" in replication
    xid = lines["xid_wraparound_risk"]
    assert "pg_" not in xid  # never a system catalog's name
    assert xid.endswith("% of the 2-billion limit")


def test_integer_primary_key_never_analyzed_says_so_not_unknown(
    fresh: str, specs: dict[str, CheckSpec], server_major: int
) -> None:
    run = _run(
        fresh,
        specs["integer_primary_key"],
        "create table vw.a (id serial primary key); select setval('vw.a_id_seq', 214748364);"
        " create table vw.b (id serial primary key); insert into vw.b select from"
        " generate_series(1, 1000); select setval('vw.b_id_seq', 214748364); analyze vw.b;",
    )
    details = {f.object: f.detail for f in run.findings if f.severity != "ok"}
    never = "its rows not yet estimated (never analyzed)" if server_major >= 14 else "about 0 rows"
    assert details["vw.a"].endswith(never)
    assert details["vw.b"].endswith("about 1,000 rows")  # teeth: the estimate when there is one
    assert not any("unknown" in d for d in details.values())


def test_unindexed_foreign_key_never_analyzed_says_so_not_unknown(
    fresh: str, specs: dict[str, CheckSpec], server_major: int
) -> None:
    run = _run(
        fresh,
        specs["unindexed_foreign_key"],
        "create table vw.p (id int primary key);"
        " create table vw.c (id int primary key, p_id int references vw.p);"
        " create table vw.d (id int primary key, p_id int references vw.p);"
        " insert into vw.p values (1);"
        " insert into vw.d select g, 1 from generate_series(1, 1200) g;"
        " analyze vw.d;",
    )
    details = {f.object: f.detail for f in run.findings if f.severity != "ok"}
    # before PostgreSQL 14 a never-analyzed table's reltuples is 0, not -1: nothing tells it apart
    never = "rows not yet estimated: never analyzed" if server_major >= 14 else "~0 rows"
    assert details["vw.c"].endswith(f"(c_p_id_fkey; {never})")
    assert details["vw.d"].endswith("(d_p_id_fkey; ~1,200 rows)")  # teeth: the estimate
    assert not any("unknown" in d for d in details.values())


def test_password_encryption_never_says_none_of_zero_roles(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    role = "pgaudit_vw_scram_login"
    # PostgreSQL 13's default is md5: the audit's sessions must see scram-sha-256 to give 🟢
    execute_script(db, "do $$ begin execute format('alter database %I set password_encryption"
                       " = %L', current_database(), 'scram-sha-256'); end $$;")
    execute_script(db, f"drop role if exists {role}; set password_encryption = 'scram-sha-256';"
                       f" create role {role} login password 'x-not-a-secret';")
    try:
        def ok_title(pattern: str) -> str:
            options = AuditOptions(schemas=["public"], overrides={
                "password_encryption_md5": CheckOverride(params={"role_pattern": pattern})})
            [ok] = audit(db, [specs["password_encryption_md5"]], options).findings
            assert ok.severity == "ok"
            return ok.title

        none = ok_title("^no_role_is_named_like_this$")
        assert none.endswith("and no login role has a password stored")
        assert "none of the 0" not in none
        one = ok_title(f"^{role}$")  # teeth: with a role to judge, the count is said
        assert one.endswith("and the 1 login role with a password has no MD5 hash")
    finally:
        execute_script(db, f"drop role if exists {role}")
        execute_script(db, "do $$ begin execute format('alter database %I reset"
                           " password_encryption', current_database()); end $$;")
