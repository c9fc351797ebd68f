"""A report a DBA can sign (issue 12), on real databases: 🟢 lines are true, a check with
nothing to judge is not applicable, no column gets two disagreeing fixes, and preflight and the
audit agree on which checks a role can run.

Cross-checks over the review's own application (tests/schemas/review_app.sql), the planted
defects (tests/schemas/planted.sql), the demo's sample application, and the corpus databases
(``corpus_<name>`` on the test server, loaded by ../shared/corpus/load.sh; skipped with a
reason when absent). The teeth of each cross-check are in tests/test_consolidate.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgaudit import api
from pgaudit.capabilities import denied
from pgaudit.checkfile import CheckSpec, discover
from pgaudit.config import Assumptions, CheckOverride, Config
from pgaudit.consolidate import CONTEXT_COLUMNS
from pgaudit.engine import AuditOptions, audit
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun
from tests.casefile import UID, execute_script
from tests.crosschecks import (
    contradicting_ok,
    disagreeing_fixes,
    not_applicable_with_ok,
    ok_titles_claiming_too_much,
)
from tests.pgserver import create_database, drop_database, with_db
from tests.test_safety import _as_user

ROOT = Path(__file__).resolve().parent.parent
APPS = {
    "review_app": ROOT / "tests" / "schemas" / "review_app.sql",
    "planted": ROOT / "tests" / "schemas" / "planted.sql",
    "sample": ROOT / "pgaudit" / "sample" / "app.sql",
}
CORPUS = sorted(p.name for p in (ROOT.parent / "shared" / "corpus").glob("*") if p.is_dir())
ASSUME = Assumptions(high_traffic=True, multi_tenant=True, cloud_hosted=True, cost_optimized=True)


def _roles(admin: str) -> set[str]:
    with psycopg.connect(admin) as conn:
        return {r[0] for r in conn.execute("select rolname from pg_catalog.pg_roles")}


def _drop_roles_created(admin: str, before: set[str], script: str, database: str) -> None:
    """Roles the script created (cluster-wide): named in it, or after the database (a fixture
    names its roles after the database so that two loads do not collide); other sessions'
    new roles are left alone."""
    for role in sorted(_roles(admin) - before):
        if (re.search(rf"create\s+(role|user)\s+{re.escape(role)}\b", script, re.I)
                or database[:30] in role):
            execute_script(admin, f'drop role if exists "{role}"')


@pytest.fixture(scope="module", params=sorted(APPS))
def app_run(request: pytest.FixtureRequest, admin: str,
            specs: dict[str, CheckSpec]) -> Iterator[AuditRun]:
    before = _roles(admin)
    name = create_database(admin, f"truth_{request.param}"[:20])
    dsn = with_db(admin, name)
    script = APPS[request.param].read_text(encoding="utf-8")
    try:
        execute_script(dsn, script)
        execute_script(dsn, "analyze")
        yield audit(dsn, list(specs.values()), AuditOptions(assumptions=ASSUME))
    finally:
        drop_database(admin, name)
        _drop_roles_created(admin, before, script, name)


@pytest.fixture(scope="module", params=CORPUS)
def corpus_run(request: pytest.FixtureRequest, admin: str,
               specs: dict[str, CheckSpec]) -> AuditRun:
    db = f"corpus_{request.param}"
    with psycopg.connect(admin) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", [db]).fetchone() is None:
            pytest.skip(f"{db} is not on the test server (../shared/corpus/load.sh loads it)")
    params = conninfo_to_dict(admin)
    params["dbname"] = db
    return audit(make_conninfo(**params), list(specs.values()), AuditOptions())


def _cross_check(run: AuditRun, specs: dict[str, CheckSpec]) -> None:
    assert not [c.id for c in run.checks if c.status == "error"]
    assert not contradicting_ok(run), "a check-wide 🟢 beside a finding of its check"
    assert not disagreeing_fixes(run), "two remediations alter one column differently"
    assert not not_applicable_with_ok(run), "a not-applicable check emitted a finding"
    ok_titles = {i: s.ok for i, s in specs.items()}
    assert not ok_titles_claiming_too_much(run, ok_titles), "a partial positive took the ok title"
    # never two criticals on one column (missing_foreign_key and foreign_key_type_mismatch)
    # (a check whose columns only name a table-level fix's key is about the table)
    placed = [(f.object, tuple(sorted(f.columns))) for f in run.findings
              if f.severity == "critical" and f.columns and f.check not in CONTEXT_COLUMNS]
    assert len(placed) == len(set(placed))
    # not applicable is counted apart, neither well-designed nor skipped
    na = sum(1 for c in run.checks if c.status == "not_applicable")
    assert run.scope["checks_not_applicable"] == run.summary.not_applicable == na
    assert run.scope["checks_run"] == sum(1 for c in run.checks if c.status == "ran")


def test_applications_read_true(app_run: AuditRun, specs: dict[str, CheckSpec]) -> None:
    _cross_check(app_run, specs)


def test_corpus_reads_true(corpus_run: AuditRun, specs: dict[str, CheckSpec]) -> None:
    _cross_check(corpus_run, specs)


def test_the_sample_merges_what_the_issue_saw_twice(app_run: AuditRun,
                                                    request: pytest.FixtureRequest) -> None:
    """The demo report of issue 12: otps.expires_at with two fixes, "AuditEvents" under
    quoting and again under naming."""
    if request.node.callspec.params["app_run"] != "sample":
        pytest.skip("the sample application only")
    by_object: dict[str, list[str]] = {}
    for f in app_run.findings:
        if f.severity != "ok":
            by_object.setdefault(f.object, []).append(f.check)
    assert "expires_at" not in by_object  # column_type_inconsistent merged into otps
    otps = next(f for f in app_run.findings if f.check == "timestamp_without_time_zone"
                and f.object == "public.otps")
    assert "column_type_inconsistent" in otps.checks
    assert "at time zone 'UTC'" in (otps.remediation or "")
    events = [c for c in by_object.get('public."AuditEvents"', [])
              if c in ("identifier_requires_quoting", "naming_inconsistency")]
    assert len(events) == 1


# --- the engine: not applicable, check-wide and partial 🟢 -----------------------------------

HEADER = """/* pgaudit
id = "{id}"
title = "Tables named zz_*"
section = "1.1"
format = 2
uses = ["scope_tables"]
detects = "Tables whose name starts with zz_."
why = "Tests."
example = "create table zz_a ();"
fix = "rename it"
ignore_when = "Always."
ok = "No table is named zz_"
ok_message = "{{object}} is named well"
impact = "None."
message = "{{object}} is named zz_"
{extra}
[severity]
default = "warning"
ok = ["named_well"]
*/
select t.oid::regclass::text as object, t.relname::text like 'zz\\_ok%%' as named_well
from scope_tables t where t.relname like 'zz\\_%%'
order by 1
"""


def _check(tmp_path: Path, check_id: str, extra: str = "") -> CheckSpec:
    (tmp_path / f"{check_id}.sql").write_text(HEADER.format(id=check_id, extra=extra))
    return discover([tmp_path])[check_id]


APPLIES = '''applies = "exists (select 1 from scope_tables t where t.relname like 'zz%%')"
not_applicable = "no zz table in scope"'''


@pytest.fixture()
def schema(db: str) -> Iterator[str]:
    name = f"truth_{UID}"
    execute_script(db, f"drop schema if exists {name} cascade; create schema {name}")
    try:
        yield name
    finally:
        execute_script(db, f"drop schema if exists {name} cascade")


def test_nothing_to_judge_is_not_applicable(db: str, schema: str, tmp_path: Path) -> None:
    spec = _check(tmp_path, "zz_named", APPLIES)
    run = audit(db, [spec], AuditOptions(schemas=[schema]))
    result = run.checks[0]
    assert (result.status, result.reason) == ("not_applicable", "no zz table in scope")
    assert run.findings == []  # no 🟢
    assert result.statements == 2  # the query, then the applies expression: fixed per check
    assert run.scope["checks_not_applicable"] == 1 and run.scope["checks_run"] == 0
    assert run.summary.not_applicable == 1 and run.summary.ok == 0
    assert run.to_dict()["summary"]["not_applicable"] == 1
    # something to judge, nothing wrong: the check-wide 🟢, marked so
    execute_script(db, f"create table {schema}.zzz (id int)")
    run = audit(db, [spec], AuditOptions(schemas=[schema]))
    assert run.checks[0].status == "ran"
    [ok] = run.findings
    assert ok.check_wide and ok.title == spec.ok and ok.to_dict()["check_wide"] is True
    # teeth: without applies the same empty schema would have been a 🟢
    execute_script(db, f"drop table {schema}.zzz")
    plain = _check(tmp_path, "zz_plain")
    run = audit(db, [plain], AuditOptions(schemas=[schema]))
    assert run.checks[0].status == "ran" and run.findings[0].check_wide


def test_applies_is_not_evaluated_when_rows_came_back(db: str, schema: str,
                                                      tmp_path: Path) -> None:
    # an expression that would fail if it ran
    spec = _check(tmp_path, "zz_rows", 'applies = "1 / 0 = 1"\nnot_applicable = "never"')
    execute_script(db, f"create table {schema}.zz_bad (id int)")
    run = audit(db, [spec], AuditOptions(schemas=[schema]))
    assert run.checks[0].status == "ran" and run.checks[0].statements == 1
    assert [f.severity for f in run.findings] == ["warning"]


def test_a_partial_positive_carries_its_own_sentence(db: str, schema: str,
                                                     tmp_path: Path) -> None:
    spec = _check(tmp_path, "zz_partial", APPLIES)
    execute_script(db, f"create table {schema}.zz_ok1 (id int); create table {schema}.zz_x ()")
    run = audit(db, [spec], AuditOptions(schemas=[schema]))
    ok = next(f for f in run.findings if f.severity == "ok")
    assert ok.title == f"{schema}.zz_ok1 is named well" and not ok.check_wide
    assert not contradicting_ok(run)
    assert not ok_titles_claiming_too_much(run, {spec.id: spec.ok})


# --- preflight and the audit agree --------------------------------------------------------------


@pytest.fixture(scope="module")
def app_db(admin: str) -> Iterator[str]:
    before = _roles(admin)
    name = create_database(admin, "truth_roles")
    dsn = with_db(admin, name)
    script = APPS["review_app"].read_text(encoding="utf-8")
    try:
        execute_script(dsn, script)
        execute_script(dsn, "analyze")
        yield dsn
    finally:
        drop_database(admin, name)
        _drop_roles_created(admin, before, script, name)


_AGE = re.compile(r"the statistics cover .+? of the ")


def _same_but_age(a: str | None, b: str | None) -> bool:
    return _AGE.sub("the statistics cover AGE of the ", a or "") == _AGE.sub(
        "the statistics cover AGE of the ", b or "")


def test_same_but_age_ignores_only_the_age() -> None:
    said = "no verdict: the statistics cover 39 min of the 7.0 days needed to judge rates"
    assert _same_but_age(said, said.replace("39 min", "0 s"))
    assert not _same_but_age(said, said.replace("7.0 days", "24.0 h"))  # teeth
    assert not _same_but_age(said, "permission denied")


@pytest.mark.parametrize("grant", ["pg_monitor", None])
def test_preflight_says_what_the_audit_does(app_db: str, admin: str,
                                            specs: dict[str, CheckSpec],
                                            grant: str | None) -> None:
    """One function decides whether a check can run for a role: preflight's verdict is the
    audit's status for every check (a pg_monitor role, and a role with no grant at all). The
    one exception is a verdict only the check's own rows can give (``no_verdict``: no
    deadlocks over a short window): preflight does not run the queries."""
    role = f"truth_{grant or 'plain'}_{UID}"
    execute_script(admin, f"drop role if exists {role}; create role {role} login"
                          + (f" in role {grant}" if grant else ""))
    try:
        dsn = _as_user(app_db, role)
        setup = api.Setup(specs, Config(), None, list(specs.values()))
        pre = {s.id: r for s, r in api.preflight(setup, dsn).verdicts}
        run = audit(dsn, list(specs.values()), api.options_from_config(setup.config))
    finally:
        execute_script(admin, f"drop owned by {role} cascade; drop role {role}")
    assert not [c.id for c in run.checks if c.status == "error"]
    status = {c.id: c for c in run.checks}
    disagree = []
    for check_id, reason in pre.items():
        got = status[check_id]
        if reason is not None:
            # the window's age is read twice, moments apart (PG13's collector may create the
            # new database's entry in between, resetting it): the same sentence but that figure
            ok = got.status == "skipped" and _same_but_age(got.reason, reason)
        else:
            ok = got.status in ("ran", "not_applicable") or (
                got.status == "skipped" and (got.reason or "").startswith("no verdict:")
                and "pg_read_all" not in (got.reason or ""))
        if not ok:
            disagree.append((check_id, reason, got.status, got.reason))
    assert not disagree
    if grant is None:  # the issue's case: shared_preload_libraries hidden from the role
        reason = status["slow_query_logging_disabled"].reason or ""
        assert status["slow_query_logging_disabled"].status == "skipped"
        assert "pg_read_all_settings" in reason and pre["slow_query_logging_disabled"] == reason


PEEK = """/* pgaudit
id = "{id}"
title = "Peeking check"
section = "7.3"
format = 2
severity = "info"
detects = "Nothing."
why = "Tests."
example = "select 1"
fix = "none"
ignore_when = "Always."
ok = "Nothing seen"
impact = "None."
message = "{{object}}"
*/
{sql}
"""


@pytest.mark.parametrize(("check_id", "sql", "named"), [
    ("peek_setting", "select current_setting('shared_preload_libraries') as object",
     "pg_read_all_settings"),
    ("peek_table", "select 'x' as object from {schema}.secret limit 0", "grant SELECT on"),
])
def test_permission_denied_is_skipped_with_the_privilege_named(
    db: str, admin: str, schema: str, tmp_path: Path, check_id: str, sql: str, named: str
) -> None:
    execute_script(db, f"create table {schema}.secret (id int); "
                       f"revoke all on {schema}.secret from public")
    (tmp_path / f"{check_id}.sql").write_text(PEEK.format(id=check_id,
                                                          sql=sql.format(schema=schema)))
    spec = discover([tmp_path])[check_id]
    role = f"truth_peek_{UID}"
    execute_script(admin, f"drop role if exists {role}; create role {role} login")
    execute_script(db, f"grant usage on schema {schema} to {role}")
    try:
        run = audit(_as_user(db, role), [spec], AuditOptions(schemas=[schema]))
    finally:
        execute_script(db, f"revoke usage on schema {schema} from {role}")
        execute_script(admin, f"drop owned by {role} cascade; drop role {role}")
    result = run.checks[0]
    assert result.status == "skipped", result
    assert named in (result.reason or "")


def test_denied_names_the_privilege() -> None:
    assert "pg_read_all_settings" in denied(
        'must be superuser or have privileges of pg_read_all_settings to examine '
        '"shared_preload_libraries"')
    assert "USAGE on schema s" in denied("permission denied for schema s")
    assert "grant SELECT on t" in denied("permission denied for table t")
    assert "lacks a privilege" in denied("permission denied to do something odd")


# Settings current_setting() refuses to roles without pg_read_all_settings (PostgreSQL 15).
HIDDEN_SETTINGS = (
    "config_file", "data_directory", "dynamic_library_path", "external_pid_file", "hba_file",
    "ident_file", "jit_provider", "krb_server_keyfile", "log_directory", "log_filename",
    "primary_conninfo", "session_preload_libraries", "shared_preload_libraries", "ssl_ciphers",
    "ssl_dh_params_file", "ssl_ecdh_curve", "ssl_max_protocol_version",
    "ssl_min_protocol_version", "ssl_passphrase_command", "unix_socket_directories",
)
_READS = re.compile(r"current_setting\(\s*'(?P<name>[a-z_.]+)'")


def hidden_reads(spec: CheckSpec) -> set[str]:
    return {m.group("name") for m in _READS.finditer(spec.sql)} & set(HIDDEN_SETTINGS)


def test_checks_reading_hidden_settings_declare_the_settings_need(
    specs: dict[str, CheckSpec], tmp_path: Path
) -> None:
    undeclared = {i: hidden_reads(s) for i, s in specs.items()
                  if hidden_reads(s) and "settings" not in s.needs}
    assert not undeclared
    assert hidden_reads(specs["slow_query_logging_disabled"])
    # teeth: a check reading one without the need is caught
    (tmp_path / "peek_setting.sql").write_text(PEEK.format(
        id="peek_setting", sql="select current_setting('data_directory') as object"))
    peek = discover([tmp_path])["peek_setting"]
    assert hidden_reads(peek) == {"data_directory"} and "settings" not in peek.needs


def test_preflight_reads_the_configs_statistics_window(app_db: str,
                                                        specs: dict[str, CheckSpec]) -> None:
    """A config that shortens a check's window lets it run: preflight knows it too."""
    chosen = [specs["unused_index"], specs["seq_scan_heavy_table"]]
    config = Config(checks={"unused_index": CheckOverride(params={"min_stats_age_s": 0})})
    setup = api.Setup(specs, config, None, chosen)
    pre = {s.id: r for s, r in api.preflight(setup, app_db).verdicts}
    run = audit(app_db, chosen, api.options_from_config(config))
    status = {c.id: c for c in run.checks}
    assert pre["unused_index"] is None and status["unused_index"].status == "ran"
    # teeth: the other keeps its window, and both say so in the same words
    assert pre["seq_scan_heavy_table"] == status["seq_scan_heavy_table"].reason
    assert (pre["seq_scan_heavy_table"] or "").startswith("no verdict:")


def test_an_ok_rule_needs_its_own_sentence(tmp_path: Path) -> None:
    """A partial positive never borrows the check-wide ok line: a check whose [severity] rule
    can rate a row ok must say that row's sentence (ok_message)."""
    text = HEADER.format(id="zz_no_sentence", extra="").replace(
        'ok_message = "{object} is named well"\n', "")
    (tmp_path / "zz_no_sentence.sql").write_text(text)
    with pytest.raises(PgauditError, match="ok_message"):
        discover([tmp_path])
    (tmp_path / "zz_no_sentence.sql").write_text(HEADER.format(id="zz_no_sentence", extra=""))
    assert discover([tmp_path])["zz_no_sentence"].ok_message
