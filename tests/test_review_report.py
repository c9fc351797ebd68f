"""The held-out review database, with production-like volume, reads like the seed review.

tests/schemas/review_app.sql is the seed review's own application with its defects planted;
here it also gets the rows that make the growth and cleanup findings real (review 3.3.2,
3.3.3, 7.1.1-7.1.3), and the whole report is checked section for section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.config import Assumptions
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import SECTIONS
from pgaudit.render import render
from tests.casefile import execute_script
from tests.pgserver import create_database, drop_database, with_db

SCHEMA = Path(__file__).parent / "schemas" / "review_app.sql"
SEED_NUMBERED_FINDINGS = 47  # 1.1.1 … 7.3.3 in ../shared/seed/production-database-review.md

VOLUME = """
insert into users (email, password_hash, first_name, last_name, credits, refresh_token,
                   password_reset_token)
select format('user%s@example.com', g), '$2b$12$' || md5(g::text) || md5((g * 7)::text),
       'First', 'Last', g % 50, 'rt_' || md5(g::text), null
from generate_series(1, 2000) g;
insert into generated_images (user_id, category_id, prompt, created_at)
select u.ids[1 + g % 2000], gen_random_uuid(), 'a product photo',
       now() - make_interval(secs => g * 60)
from generate_series(1, 110000) g, (select array_agg(id) as ids from users) u;
insert into credit_transactions (user_id, operation_type, amount, balance_before, balance_after,
                                 created_at)
select u.ids[1 + g % 2000], 'deduction', 1, 10, 9, now() - make_interval(secs => g * 60)
from generate_series(1, 110000) g, (select array_agg(id) as ids from users) u;
insert into otps (email, otp_hash, purpose, expires_at, created_at)
select format('user%s@example.com', g % 2000), md5(g::text), 'login',
       now() - (g % 90) * interval '1 day', now() - (g % 90) * interval '1 day'
from generate_series(1, 20000) g;
"""


@pytest.fixture(scope="module")
def review(admin: str, specs: dict[str, CheckSpec]) -> Iterator[tuple[dict, str]]:
    name = create_database(admin, "review")
    dsn = with_db(admin, name)
    try:
        execute_script(dsn, SCHEMA.read_text(encoding="utf-8"))
        execute_script(dsn, VOLUME)
        execute_script(dsn, "analyze")
        with psycopg.connect(dsn, autocommit=True) as conn:
            if conn.info.server_version >= 150000:
                conn.execute("select pg_stat_force_next_flush()")
        run = audit(dsn, list(specs.values()), AuditOptions(assumptions=Assumptions(
            high_traffic=True, multi_tenant=True, cloud_hosted=True, cost_optimized=True)))
        doc = run.to_dict()
        yield doc, render(doc, "md", specs)
    finally:
        drop_database(admin, name)


def test_structure_follows_the_seed(review: tuple[dict, str]) -> None:
    _, md = review
    for heading in ("## Executive Summary", "### Overall Assessment", "## Priority Action Items",
                    "### 🔴 IMMEDIATE (Before Production)", "### 🟡 HIGH PRIORITY (Before Scale)",
                    "### 🟢 LOW PRIORITY (Optimization)", "## Summary"):
        assert heading in md, heading
    assert re.search(r"\*\*🔴 Critical Issues:\*\* \d+", md)
    assert re.search(r"\*\*🟡 Optimization Opportunities:\*\* \d+", md)
    for key, section in SECTIONS.items():
        assert f"### {key} {section.title}" in md, key
    for chapter in {s.chapter for s in SECTIONS.values()}:
        assert f"## {chapter}" in md, chapter
    for block in ("#### 🟢 Well-Designed", "#### 🔴 Critical Issues",
                  "#### 🟡 Optimization Opportunities"):
        assert block in md
    assert "**Impact:**" in md and "**Priority:**" in md and "```sql" in md


def test_at_least_as_many_numbered_findings_as_the_seed(review: tuple[dict, str]) -> None:
    _, md = review
    numbered = re.findall(r"^\*\*(\d+\.\d+\.\d+) ", md, flags=re.M)
    assert len(numbered) >= SEED_NUMBERED_FINDINGS, len(numbered)
    assert len(numbered) == len(set(numbered))


@pytest.mark.parametrize(("check", "obj"), [
    ("missing_foreign_key", "public.generated_images"),             # 1.1.1, 2.1.1
    ("missing_foreign_key", "public.user_businesses"),              # 2.1.2
    ("lock_timeout_not_set", None),                                 # 4.2.1
    ("missing_idempotency_key", "public.credit_transactions"),      # 4.3.1
    ("migration_history_missing", None),                            # 5.1.1
    ("plaintext_secret_column", "public.users"),                    # 6.1.1, 6.1.2
    ("pii_column_plaintext", "public.contact_forms"),               # 6.1.3
    ("ip_address_stored", "public.contact_forms"),                  # 6.1.4
    ("rls_not_enabled", "public.generated_images"),                 # 6.2.1
    ("audit_log_missing", None),                                    # 6.3.2
    ("large_table_not_partitioned", "public.generated_images"),     # 3.3.2, 7.1.1
    ("large_table_not_partitioned", "public.credit_transactions"),  # 3.3.3, 7.1.2
    ("expired_rows_accumulating", "public.otps"),                   # 7.1.3
    ("slow_query_logging_disabled", None),                          # 7.3.2
    ("unchecked_balance_column", "public.users"),                   # users.credits
])
def test_the_seed_reviews_items_are_found(review: tuple[dict, str], check: str,
                                          obj: str | None) -> None:
    doc, _ = review
    hits = [f for f in doc["findings"] if f["check"] == check and f["severity"] != "ok"]
    assert hits, f"{check} found nothing"
    if obj:
        assert obj in {f["object"] for f in hits}, [f["object"] for f in hits]


def test_well_designed_practices_are_praised(review: tuple[dict, str]) -> None:
    doc, md = review
    ok = {f["check"] for f in doc["findings"] if f["severity"] == "ok"}
    # UUID keys, enums for stable sets, hashed passwords
    assert {"integer_primary_key", "enum_usage"} <= ok
    # nothing auto-numbered and no JSON column: nothing to praise there (issue 12), not
    # applicable rather than a vacuous 🟢
    status = {c["id"]: c["status"] for c in doc["checks"]}
    for check in ("serial_instead_of_identity", "json_instead_of_jsonb"):
        assert status[check] == "not_applicable" and check not in ok
    assert "✅" in md
