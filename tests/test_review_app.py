"""The seed review's own application, its defects planted: the foundation checks find what the
review found, and nothing else.

``tests/schemas/review_app.sql`` is the application of ``production-database-review.md`` as
TypeORM would create it. These tests pin the exact findings of the five foundation checks on it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgaudit.checkfile import CheckSpec
from pgaudit.config import CheckOverride
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import CheckResult, Finding

SCHEMA_SQL = Path(__file__).parent / "schemas" / "review_app.sql"


@pytest.fixture(scope="module")
def app(db: str) -> str:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        dbname = conninfo_to_dict(db)["dbname"]
        conn.execute(f'alter database "{dbname}" reset lock_timeout')  # type: ignore[arg-type]
    return db


def run(dsn: str, spec: CheckSpec, params: dict | None = None) -> tuple[CheckResult, list[Finding]]:
    opts = AuditOptions(
        schemas=["public"],
        overrides={spec.id: CheckOverride(params=params)} if params else {},
    )
    result = audit(dsn, [spec], opts)
    return result.checks[0], [f for f in result.findings if f.severity != "ok"]


def test_missing_foreign_key(app: str, specs: dict[str, CheckSpec]) -> None:
    result, findings = run(app, specs["missing_foreign_key"])
    assert result.status == "ran"
    got = {(f.object, tuple(f.columns)) for f in findings}
    # review 1.1.1, 1.1.2, 2.1.1, 2.1.2; contact_forms.read_by names an actor: a reference to
    # the user table though its name does not spell it
    assert got == {
        ("public.contact_forms", ("read_by",)),
        ("public.generated_images", ("user_id",)),
        ("public.generated_images", ("industry_id",)),
        ("public.generated_images", ("category_id",)),
        ("public.generated_images", ("product_type_id",)),
        ("public.generated_images", ("product_pose_id",)),
        ("public.generated_images", ("product_theme_id",)),
        ("public.generated_images", ("product_background_id",)),
        ("public.generated_images", ("ai_face_id",)),
        ("public.user_businesses", ("user_id",)),
    }
    referenced = {f.columns[0]: f.evidence["referenced"] for f in findings
                  if f.object == "public.generated_images"}
    assert referenced == {
        "user_id": "public.users", "industry_id": "public.industries",
        "category_id": "public.categories", "product_type_id": "public.product_types",
        "product_pose_id": "public.product_poses", "product_theme_id": "public.product_themes",
        "product_background_id": "public.product_backgrounds", "ai_face_id": "public.ai_faces",
    }
    # critical where the schema corroborates the name (another table declares the same foreign
    # key from a column of that name: user_addresses.user_id -> users, product_types.category_id
    # -> categories, the junction tables' product_* keys; for the actor read_by, the schema's
    # foreign keys into users); industry_id and ai_face_id have no such witness and no rows to
    # sample here, so the name alone makes them warnings
    severity = {f.columns[0]: f.severity for f in findings}
    assert severity.pop("industry_id") == "warning"
    assert severity.pop("ai_face_id") == "warning"
    assert set(severity.values()) == {"critical"}, severity
    for f in findings:
        assert f.remediation
        assert "not valid" in f.remediation and "validate constraint" in f.remediation


def test_unindexed_foreign_key(app: str, specs: dict[str, CheckSpec]) -> None:
    result, findings = run(app, specs["unindexed_foreign_key"])
    assert result.status == "ran"
    got = {(f.object, tuple(f.columns)) for f in findings}
    # the small admin tables whose indexes were "removed as unnecessary" (review 3.1); the
    # junction tables, user_addresses and credit_transactions (user_id, created_at) are covered
    assert got == {
        ("public.product_types", ("category_id",)),
        ("public.product_poses", ("product_type_id",)),
        ("public.ai_faces", ("category_id",)),
    }
    assert {f.severity for f in findings} == {"warning"}
    for f in findings:
        assert f.remediation and f.remediation.startswith("create index concurrently")


def test_lock_timeout_not_set(app: str, specs: dict[str, CheckSpec]) -> None:
    result, findings = run(app, specs["lock_timeout_not_set"])
    assert result.status == "ran"
    dbname = conninfo_to_dict(app)["dbname"]
    databases = [f for f in findings if f.object_type == "database"]
    assert [f.object for f in databases] == [dbname]  # review 4.2.1
    assert databases[0].severity == "critical"
    assert databases[0].remediation == f"alter database {dbname} set lock_timeout = '5s';"


def test_table_bloat(app: str, specs: dict[str, CheckSpec]) -> None:
    result, findings = run(app, specs["table_bloat"])
    assert result.status == "ran"
    assert findings == []  # the review reports no bloat; nothing is large enough to estimate


def test_table_bloat_no_verdict_without_statistics(app: str, specs: dict[str, CheckSpec]) -> None:
    # every table considered but none analyzed: no verdict rather than a vacuous pass
    result, findings = run(app, specs["table_bloat"], {"min_table_bytes": 0})
    assert result.status == "skipped"
    assert result.reason and "never analyzed" in result.reason
    assert findings == []


def test_large_table_not_partitioned(app: str, specs: dict[str, CheckSpec]) -> None:
    spec = specs["large_table_not_partitioned"]
    result, findings = run(app, spec)
    # an empty database: nothing is large yet, so nothing to judge (no vacuous 🟢)
    assert (result.status, findings) == ("not_applicable", [])
    # the two tables the review wants partitioned grow append-only (review 3.3.2, 3.3.3, 7.1)
    with psycopg.connect(app, autocommit=True) as conn:
        conn.execute(
            "insert into users (id, email, password_hash)"
            " values ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'x')"
        )
        conn.execute(
            "insert into generated_images (user_id, category_id, prompt, created_at)"
            " select '00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'p',"
            " now() - make_interval(secs => g) from generate_series(1, 110000) g"
        )
        conn.execute(
            "insert into credit_transactions (user_id, operation_type, amount, balance_before,"
            " balance_after, created_at) select '00000000-0000-0000-0000-000000000001',"
            " 'deduction', 1, g, g - 1, now() - make_interval(secs => g)"
            " from generate_series(1, 110000) g"
        )
        if conn.info.server_version >= 150000:
            conn.execute("select pg_stat_force_next_flush()")
    with psycopg.connect(app, autocommit=True) as conn:
        conn.execute("analyze")
    result, findings = run(app, spec)
    assert result.status == "ran"
    got = {(f.object, tuple(f.columns), f.severity) for f in findings}
    assert got == {
        ("public.generated_images", ("created_at",), "info"),
        ("public.credit_transactions", ("created_at",), "info"),
    }
    # past the size threshold (lowered here) the same tables are warnings
    result, findings = run(app, spec, {"min_rows": 100000})
    assert {(f.object, f.severity) for f in findings} == {
        ("public.generated_images", "warning"),
        ("public.credit_transactions", "warning"),
    }
