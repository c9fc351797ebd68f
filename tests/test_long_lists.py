"""Catalogs with thousands of similar objects (a schema per tenant) keep each finding readable:
a remediation names the first objects and counts the rest instead of running to many thousands
of lines; the report caps long groups inline and lists them whole in an appendix."""

from __future__ import annotations

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from pgaudit.render import render
from tests.casefile import execute_script

TENANTS = 40  # 80 tables that look critical by name (users, orders)


def _tenants(db: str) -> None:
    execute_script(
        db,
        "".join(
            f"create schema if not exists ten_{t:03d};"
            f" create table if not exists ten_{t:03d}.users (id bigint primary key, email text);"
            f" create table if not exists ten_{t:03d}.orders (id bigint primary key,"
            f" user_id bigint references ten_{t:03d}.users, amount numeric);"
            for t in range(TENANTS)
        ),
    )


def test_a_change_log_remediation_names_25_tables_and_counts_the_rest(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    _tenants(db)
    run = audit(db, [specs["audit_log_missing"]], AuditOptions(schemas=["ten_*"]))
    (finding,) = [f for f in run.findings if f.severity != "ok"]
    sql = finding.remediation or ""
    assert sql.count("create trigger audit_logs_capture") == 25
    assert sql.rstrip().endswith(
        f"-- … and {2 * TENANTS - 25} more tables whose names look critical"
        f" ({2 * TENANTS} in all): the same trigger on each"
    )
    assert "on ten_000.orders" in sql  # the first, in name order


def test_a_long_group_is_capped_in_the_report_with_its_total(
    db: str, specs: dict[str, CheckSpec]
) -> None:
    _tenants(db)
    run = audit(db, [specs["audit_columns_missing"]], AuditOptions(schemas=["ten_*"]))
    doc = run.to_dict()
    assert len([f for f in doc["findings"] if f["severity"] == "info"]) == 2 * TENANTS
    md = render(doc, "md", specs)
    body, _, appendix = md.partition("## Appendix: object lists")
    appendix = appendix.partition("## Appendix: Inventory")[0]
    shown = sum(f"ten\\_{t:03d}.orders" in body for t in range(TENANTS))
    assert 0 < shown < TENANTS  # capped in the finding: not every table is listed
    assert "more: see Appendix: object lists" in body
    # the appendix has the whole list
    assert all(f"ten\\_{t:03d}.orders" in appendix for t in range(TENANTS))
