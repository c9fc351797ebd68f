"""One object and column, one line (issue 12): findings of several checks about the same column
merge into one entry with one consistent fix; waivers, the history store and old JSON documents
still see every part. No database: hand-made findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tomllib

from pgaudit import waivers
from pgaudit.config import Waiver
from pgaudit.consolidate import alterations, consolidate, expand, normalise, statements
from pgaudit.model import AuditRun, CheckResult, Diff, Finding
from pgaudit.render import as_run
from tests.crosschecks import contradicting_ok, disagreeing_fixes, not_applicable_with_ok

FAR = dt.date(2099, 1, 1)
TODAY = dt.date(2026, 1, 1)


def f(check: str, severity: str = "warning", obj: str = "public.otps",
      columns: tuple[str, ...] = ("expires_at",), remediation: str | None = None,
      **kw: object) -> Finding:
    fields: dict[str, object] = {
        "check": check, "section": "1.1", "severity": severity,
        "priority": {"critical": "immediate", "warning": "high"}.get(severity, "low"),
        "object": obj, "object_type": "table", "title": f"{check} title",
        "detail": f"{check} on {obj}", "columns": list(columns), "remediation": remediation}
    fields.update(kw)
    return Finding(**fields)  # type: ignore[arg-type]


def run_of(findings: list[Finding], checks: list[CheckResult] | None = None) -> AuditRun:
    return AuditRun(pgaudit_version="0", generated_at="2026-01-01T00:00:00+00:00",
                    target={"database": "d"}, facts={}, scope={}, assumptions={},
                    findings=findings,
                    checks=checks or [CheckResult(c, "ran") for c in {x.check for x in findings}])


UTC = ("alter table public.otps alter column expires_at type timestamptz"
       " using expires_at at time zone 'UTC';  -- rewrites the table")
CAST = ("alter table public.otps alter column expires_at type timestamp with time zone"
        " using expires_at::timestamp with time zone;  -- rewrites the table")
INDEX = "create index concurrently otps_expires_at_idx on public.otps (expires_at);"


def test_two_criticals_on_one_column_become_one_entry() -> None:
    missing = f("missing_foreign_key", "critical", "public.orders", ("user_id",),
                "alter table public.orders add constraint orders_user_id_fkey foreign key"
                " (user_id) references public.users (id) not valid;")
    mismatch = f("foreign_key_type_mismatch", "critical", "public.orders", ("user_id",))
    other = f("missing_foreign_key", "critical", "public.orders", ("shop_id",))
    out = consolidate([mismatch, missing, other])
    assert len(out) == 2
    entry = next(x for x in out if x.columns == ["user_id"])
    # equally severe: the one with a fix is the primary, the other named as also
    assert entry.check == "missing_foreign_key"
    assert [a["check"] for a in entry.also] == ["foreign_key_type_mismatch"]
    assert entry.also[0]["fingerprint"] == mismatch.fingerprint
    assert entry.fingerprints == [missing.fingerprint, mismatch.fingerprint]
    # never two criticals on one column
    criticals = [(x.object, tuple(x.columns)) for x in out if x.severity == "critical"]
    assert len(criticals) == len(set(criticals))
    assert run_of(out).summary.critical == 2 and run_of(out).summary.merged == 1


def test_conflicting_type_changes_keep_one_fix() -> None:
    """The demo's otps.expires_at: AT TIME ZONE 'UTC' in one finding, a plain cast in
    another (reported per column name, so on another object): one entry, one fix."""
    tz = f("timestamp_without_time_zone", "warning", remediation=UTC)
    by_name = f("column_type_inconsistent", "info", obj="expires_at", remediation=CAST,
                object_type="column")
    before = run_of([tz, by_name])
    assert disagreeing_fixes(before)  # teeth: the hand-made run has the conflict
    out = consolidate([tz, by_name])
    assert len(out) == 1 and out[0].check == "timestamp_without_time_zone"
    assert out[0].remediation == UTC
    assert out[0].also[0]["fix"] == "dropped"
    assert "public.otps.expires_at" in out[0].also[0]["fix_note"]
    assert not disagreeing_fixes(run_of(out))


def test_the_more_severe_primary_keeps_its_fix_even_when_less_specific() -> None:
    tz = f("timestamp_without_time_zone", "info", remediation=UTC)
    cast = f("column_type_inconsistent", "warning", remediation=CAST)
    out = consolidate([tz, cast])
    assert [x.check for x in out] == ["column_type_inconsistent"]
    assert out[0].remediation == CAST and out[0].also[0]["fix"] == "dropped"


def test_equal_severity_prefers_the_more_specific_fix() -> None:
    out = consolidate([f("column_type_inconsistent", remediation=CAST),
                       f("timestamp_without_time_zone", remediation=UTC)])
    assert out[0].check == "timestamp_without_time_zone" and out[0].remediation == UTC


def test_a_fix_that_does_something_else_is_appended() -> None:
    cascade = f("cascade_deletes_audit_trail", "critical", remediation=UTC)
    index = f("unindexed_foreign_key", "warning", remediation=INDEX)
    same = f("nullable_foreign_key", "info", remediation=UTC.replace("-- rewrites", "-- again"))
    out = consolidate([index, cascade, same])
    assert len(out) == 1
    assert out[0].remediation == f"{UTC}\n{INDEX}"
    assert {a["check"]: a["fix"] for a in out[0].also} == {
        "unindexed_foreign_key": "appended", "nullable_foreign_key": "same"}
    assert out[0].priority == "immediate"


def test_the_same_table_under_quoting_and_naming_is_one_line() -> None:
    quoting = f("identifier_requires_quoting", "warning", 'public."AuditEvents"', ())
    naming = f("naming_inconsistency", "info", 'public."AuditEvents"', ("eventType",))
    elsewhere = f("naming_inconsistency", "info", "public.other", ())
    out = consolidate([naming, quoting, elsewhere])
    assert [(x.check, x.object) for x in out] == [
        ("identifier_requires_quoting", 'public."AuditEvents"'),
        ("naming_inconsistency", "public.other")]
    assert out[0].also[0]["check"] == "naming_inconsistency"


def test_what_does_not_merge() -> None:
    # a table-level finding whose column is only the RLS policy key
    rls = f("rls_not_enabled", "critical", "public.orders", ("user_id",))
    fk = f("missing_foreign_key", "critical", "public.orders", ("user_id",))
    # two findings of one check on one column are two things (two constraints)
    dup1 = f("duplicate_foreign_key", obj="public.a", columns=("x",), detail="one")
    dup2 = f("duplicate_foreign_key", obj="public.a", columns=("x",), detail="two")
    # table-level findings of different checks on one table
    pk = f("table_without_primary_key", "critical", "public.b", ())
    bloat = f("table_bloat", "warning", "public.b", ())
    # ok findings and waived ones
    ok = f("missing_foreign_key", "ok", "public.c", ("x",))
    waived = f("foreign_key_type_mismatch", "warning", "public.c", ("x",),
               waived={"reason": "r"})
    live = f("column_type_inconsistent", "warning", "public.c", ("x",))
    items = [rls, fk, dup1, dup2, pk, bloat, ok, waived, live]
    assert len(consolidate(items)) == len(items)


def test_consolidating_twice_changes_nothing() -> None:
    items = [f("timestamp_without_time_zone", remediation=UTC),
             f("column_type_inconsistent", "info", obj="expires_at", remediation=CAST),
             f("unindexed_foreign_key", "info", remediation=INDEX)]
    once = [x.to_dict() for x in consolidate(items)]
    twice = [x.to_dict() for x in consolidate(Finding.from_dict(d) for d in once)]
    assert once == twice


def test_a_partly_conflicting_fix_on_other_tables_loses_only_that_clause() -> None:
    tz = f("timestamp_without_time_zone", remediation=UTC)
    many = f("column_type_inconsistent", "info", obj="expires_at", object_type="column",
             remediation=CAST + "\nalter table public.tokens alter column expires_at type"
             " timestamp with time zone using expires_at::timestamp with time zone;")
    out = consolidate([tz, many])
    assert len(out) == 2
    rest = next(x for x in out if x.check == "column_type_inconsistent")
    assert "public.tokens" in (rest.remediation or "")
    assert "public.otps alter column" not in (rest.remediation or "")
    assert not disagreeing_fixes(run_of(out))


def test_a_waiver_on_a_merged_away_finding_still_waives_it() -> None:
    """The waiver names the check whose finding was merged into another's entry: it is
    applied (not stale), that finding is accepted on its own line, and the primary still
    counts. The order of waivers and consolidation does not change the outcome."""
    def parts() -> list[Finding]:
        return [f("missing_foreign_key", "critical", "public.orders", ("user_id",)),
                f("foreign_key_type_mismatch", "critical", "public.orders", ("user_id",))]

    merged_away = parts()[1]
    waiver = Waiver(check="foreign_key_type_mismatch", object="public.orders",
                    fingerprint=merged_away.fingerprint, reason="int4 by design",
                    approved_by="dba", expires=FAR)
    consolidated_first = run_of(consolidate(parts()))
    assert len(consolidated_first.findings) == 1  # merged, the waiver's fingerprint in also
    assert merged_away.fingerprint in consolidated_first.findings[0].fingerprints
    waivers.apply(consolidated_first, [waiver], today=TODAY)
    waived_first = run_of(parts())
    waivers.apply(waived_first, [waiver], today=TODAY)
    waived_first.findings = consolidate(waived_first.findings)
    for run in (consolidated_first, waived_first):
        assert run.waivers is not None and len(run.waivers["applied"]) == 1
        assert not run.waivers["stale"]
        by_check = {x.check: x for x in run.findings}
        assert set(by_check) == {"missing_foreign_key", "foreign_key_type_mismatch"}
        assert by_check["foreign_key_type_mismatch"].waived is not None
        assert by_check["missing_foreign_key"].waived is None
        assert not by_check["missing_foreign_key"].also
        s = run.summary
        assert (s.critical, s.waived) == (1, 1)


def test_a_waiver_on_the_primary_leaves_the_merged_finding_counted() -> None:
    items = consolidate([f("missing_foreign_key", "critical", "public.orders", ("user_id",)),
                         f("foreign_key_type_mismatch", "warning", "public.orders",
                           ("user_id",))])
    run = run_of(items)
    waivers.apply(run, [Waiver(check="missing_foreign_key", object="public.orders",
                               reason="r", approved_by="a", expires=FAR)], today=TODAY)
    s = run.summary
    assert (s.critical, s.warning, s.waived) == (0, 1, 1)


def test_the_history_sees_every_part() -> None:
    a = f("missing_foreign_key", "critical", "public.orders", ("user_id",))
    b = f("foreign_key_type_mismatch", "critical", "public.orders", ("user_id",))
    before = {x.fingerprint: x.brief() for x in (a, b)}
    diff = Diff.compare(consolidate([a, b]), before, {"id": 1})
    assert diff.resolved == [] and diff.new == [] and diff.persisting == 2
    # teeth: without the merged parts, b would read as resolved
    assert Diff.compare([a], before, {"id": 1}).resolved


def test_baseline_accepts_the_merged_findings_too() -> None:
    items = consolidate([f("missing_foreign_key", "critical", "public.orders", ("user_id",)),
                         f("foreign_key_type_mismatch", "critical", "public.orders",
                           ("user_id",))])
    text, count = waivers.baseline_text(items, reason="r", approved_by="a", expires=FAR)
    assert count == 2
    assert {w["check"] for w in tomllib.loads(text)["waivers"]} == {
        "missing_foreign_key", "foreign_key_type_mismatch"}


def test_an_old_json_document_renders_with_true_ok_lines_and_merged_findings() -> None:
    """Documents written before check_wide and also: the engine's 🟢 is told apart by its
    shape, a partial positive gets its own sentence as title, same-column findings merge."""
    wide = f("enum_usage", "ok", "d", (), object_type="database",
             title="Enum types are used for small, stable value sets",
             detail="Enum types are used for small, stable value sets")
    partial = f("soft_delete_without_partial_index", "ok", "d", (), object_type="database",
                title="Soft-delete tables have partial indexes on their live rows",
                detail="Soft deletes used consistently: 3 table(s), all with partial indexes")
    doc = run_of([wide, partial, f("timestamp_without_time_zone", remediation=UTC),
                  f("column_type_inconsistent", "info", remediation=CAST)]).to_dict()
    for finding in doc["findings"]:
        del finding["check_wide"], finding["also"]
    run = as_run(json.loads(json.dumps(doc)))
    by_check = {x.check: x for x in run.findings}
    assert by_check["enum_usage"].check_wide
    assert not by_check["soft_delete_without_partial_index"].check_wide
    assert by_check["soft_delete_without_partial_index"].title.startswith("Soft deletes used")
    assert "column_type_inconsistent" not in by_check
    assert by_check["timestamp_without_time_zone"].also[0]["check"] == "column_type_inconsistent"
    # a consolidated document reads back as written
    again = as_run(json.loads(json.dumps(run.to_dict())))
    assert [x.to_dict() for x in again.findings] == [x.to_dict() for x in run.findings]


def test_expand_restores_each_part_as_its_check_gave_it() -> None:
    a = f("timestamp_without_time_zone", remediation=UTC)
    b = f("column_type_inconsistent", "info", obj="expires_at", remediation=CAST)
    parts = {x.check: x for x in expand(consolidate([dataclasses.replace(a),
                                                     dataclasses.replace(b)]))}
    assert parts["column_type_inconsistent"].remediation == CAST
    assert parts["column_type_inconsistent"].object == "expires_at"
    assert parts["column_type_inconsistent"].fingerprint == b.fingerprint


def test_statements_and_alterations_read_sql_as_sql() -> None:
    sql = ("begin; -- first\nselect 'a;b', $q$ x; y $q$;\n/* c; */ alter table \"S\".\"T;\""
           " alter \"Col\" set not null, alter constraint c deferrable,"
           " alter column y type int using (y::int);\n-- alter table x alter column z type text;")
    got = statements(sql)
    assert got[0] == "begin; -- first" and len(got) == 4
    assert [(a.table, a.column, a.kind) for a in alterations(sql)] == [
        (("S", "T;"), "Col", "not null"), (("S", "T;"), "y", "type")]


def test_statements_edge_cases_of_the_scanner() -> None:
    """Doubled quotes, a ``$1`` that opens no dollar quote, an unterminated quote or comment
    (it runs to the end), a semicolon inside a dollar quote with a tag."""
    assert statements("select 'it''s;'; select $1; select 2") == [
        "select 'it''s;';", "select $1;", "select 2"]
    assert statements("select $a$ ; $b$ ; $a$; x") == ["select $a$ ; $b$ ; $a$;", "x"]
    assert statements("select 'open; x; y") == ["select 'open; x; y"]
    assert statements("a; /* open; b") == ["a;", "/* open; b"]
    assert statements("a; -- why\nb;  \nc") == ["a; -- why", "b;", "c"]
    assert normalise("alter  table /* x; */ t -- y\n alter c type 'a -- b'") == (
        "alter table t alter c type 'a -- b'")
    assert [a.column for a in alterations(
        "alter table t alter column \"a,b\" type int using ('x,(y'), alter c set default 1;"
    )] == ["a,b", "c"]


def test_the_ascii_prefilter_agrees_with_the_case_insensitive_one() -> None:
    """``_maybe_alters`` searches an ASCII remediation lowercased (fast); it must say what the
    ``re.I`` pattern says, word boundary and excluded words included."""
    import random

    from pgaudit.consolidate import _MAYBE, _maybe_alters

    cases = ["ALTER TABLE t add c int", "Alter Column x", "alter\tsequence s", "realter c",
             "x_alter c", "9alter c", "alter table t alter c type int", "ALTER INDEX i",
             "alter tables", "alter\n  view", "alter", "alter ", "(alter c", "ALTER MATERIALIZED",
             "alter \u212aelvin", "alter ſequence", "İalter c", "éalter c"]
    rng = random.Random(11)
    words = ["alter", "ALTER", "Alter", " ", "\n", "table", "TABLE", "sequence", "index", "view",
             "materialized", "x", "_", "9", "(", ";", "s", "é"]
    cases += ["".join(rng.choice(words) for _ in range(rng.randint(1, 8))) for _ in range(20000)]
    for sql in cases:
        assert _maybe_alters(sql) == (_MAYBE.search(sql) is not None), sql


def test_the_target_prefilter_names_every_relation_a_fix_alters() -> None:
    """``_targets`` (one scan, no parsing) decides which fixes are parsed for conflicts: it
    must name every relation ``alterations`` finds, whatever the case, quoting, comments and
    clauses; naming more is allowed."""
    import random

    from pgaudit.consolidate import _targets

    cases = [
        'ALTER TABLE "S"."T;" alter "Col" set not null',
        "alter /* why */ table -- x\n only public.t alter c type int",
        "Alter Table If Exists Only s.\"Mixed\"\"q\" ALTER COLUMN c DROP DEFAULT",
        "alter sequence if exists s.seq as integer",
        "ALTER SEQUENCE \"Sé\".\"Q\" maxvalue 10",
        "alter table é.t alter c type text",
        "select 1;alter table t alter c set default 1",
        "alter\ttable\n\nt alter c drop not null",
        "alter table only alter column x type int",
    ]
    rng = random.Random(5)

    def pick(*options: str) -> str:
        return rng.choice(options)

    def gap() -> str:  # what may separate two words of a statement
        return pick(" ", "  ", "\n", "\t", " /* c; */ ", " -- c\n", "/*x*/")

    def name() -> str:
        return pick("t", "T", '"T"', '"a b"', '"q""t"', "é", '"É"', "only", "alter", "_x$1")

    def statement() -> str:
        qualified = name() + pick("", "." + name(), '."s"."t"')
        if rng.random() < 0.3:
            return (pick("alter", "ALTER") + gap() + pick("sequence", "Sequence") + gap()
                    + pick("", "if" + gap() + "exists" + gap()) + qualified + gap()
                    + pick("as integer", "maxvalue 10", "owned by none"))
        clause = (pick("alter", "Alter") + gap() + pick("", "column" + gap()) + name() + gap()
                  + pick("type int", "set default 1", "drop not null", "add generated always"))
        return (pick("alter", "ALTER", "Alter") + gap() + pick("table", "TABLE") + gap()
                + pick("", "if" + gap() + "exists" + gap()) + pick("", "only" + gap())
                + qualified + gap() + clause + pick("", ", " + clause))

    for _ in range(5000):
        parts = [statement() if rng.random() < 0.7 else "select 'alter table x'"
                 for _ in range(rng.randint(1, 3))]
        cases.append(pick(";", ";\n", "; -- done\n").join(parts) + pick("", ";"))
    parsed = 0
    for sql in cases:
        found = {a.table for a in alterations(sql)}
        parsed += bool(found)
        assert found <= _targets(sql), sql
    assert parsed > 500  # the draw reaches the parser: the comparison is not over nothing


def test_a_conflict_written_with_comments_and_quotes_is_still_resolved() -> None:
    """Teeth for the prefilter: two fixes on different objects alter one column differently,
    one of them spelling the table with a comment and quotes. Both must be parsed."""
    a = f("column_type_inconsistent", "warning", "created_at", ("created_at",),
          remediation="alter table public.t alter column created_at type timestamptz;")
    b = f("integer_primary_key", "critical", "public.t", ("created_at",),
          remediation='ALTER /* x */ TABLE "public"."t" ALTER created_at TYPE text;')
    kept = consolidate([a, b])
    assert len(kept) == 1 and kept[0].check == "integer_primary_key"
    assert kept[0].remediation == b.remediation


def test_crosscheck_teeth_on_hand_made_runs() -> None:
    """(a) a check-wide 🟢 beside a finding of its check; (c) a 🟢 of a not-applicable check."""
    wide = f("unindexed_foreign_key", "ok", "d", (), object_type="database", check_wide=True)
    hit = f("unindexed_foreign_key", "warning", "public.t", ("x",))
    assert contradicting_ok(run_of([wide, hit])) == ["unindexed_foreign_key"]
    # a merged-away finding counts too
    merged = consolidate([f("missing_foreign_key", "critical", "public.t", ("x",)), hit])
    assert contradicting_ok(run_of([wide, *merged])) == ["unindexed_foreign_key"]
    assert contradicting_ok(run_of([wide])) == []
    partial = f("unindexed_foreign_key", "ok", "public.u", ())
    assert contradicting_ok(run_of([partial, hit])) == []
    na = run_of([wide], [CheckResult("unindexed_foreign_key", "not_applicable", "no fk")])
    assert not_applicable_with_ok(na) == ["unindexed_foreign_key"]
    assert not_applicable_with_ok(run_of([wide])) == []
