"""History store: the schema's change log, as events of each run (not findings).

Runs recorded before stored schema_drift's rows as findings: they move here, so the next run
does not report them as resolved.

Revision ID: 0003
Revises: 0002
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from pgaudit.store_schema import schema_changes

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    schema_changes.create(conn)
    findings = sa.table(
        "pgaudit_findings",
        sa.column("run_id", sa.Integer),
        sa.column("check_id", sa.String),
        sa.column("object", sa.Text),
        sa.column("evidence", sa.JSON),
    )
    old = conn.execute(
        sa.select(findings.c.run_id, findings.c.object, findings.c.evidence).where(
            findings.c.check_id == "schema_drift"
        )
    ).all()
    if old:
        rows = [_event(r.run_id, r.object, r.evidence) for r in old]
        conn.execute(sa.insert(schema_changes), rows)
        conn.execute(sa.delete(findings).where(findings.c.check_id == "schema_drift"))


def _event(run_id: int, obj: str, evidence: Any) -> dict[str, Any]:
    facts = json.loads(evidence) if isinstance(evidence, str) else dict(evidence or {})
    identity = str(facts.get("identity") or "")
    return {
        "run_id": run_id,
        "identity": identity,
        "object": obj,
        "object_type": identity.split(" ", 1)[0] if identity else "",
        "change": str(facts.get("change") or "")[:10],
        "previous_md5": facts.get("previous_md5"),
        "current_md5": facts.get("current_md5"),
    }


def downgrade() -> None:
    op.drop_table("pgaudit_schema_changes")
