"""History store: cost follows change. Findings become lifecycles over versioned findings, a
run's document a frame of edits to the previous run's, table sizes change points thinned with
age, schema objects spans; a run row keeps only the settings that changed.

Every run of the per-run tables is replayed, target by target in the order they were
recorded, through the same writer as a new run (pgaudit.store_contents.write_contents), and
the per-run tables are dropped: nothing of the history is lost, and each run still re-renders
as it did (runs recorded before documents were kept still cannot).

Revision ID: 0005
Revises: 0004
"""

import zlib
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from pgaudit.store_contents import (
    Part,
    settings_changed,
    target_runs,
    write_contents,
)
from pgaudit.store_schema import (
    finding_versions,
    findings,
    lifecycles,
    run_documents,
    run_frames,
    runs,
    schema_objects,
    schema_spans,
    size_points,
    table_sizes,
    targets,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW = (lifecycles, finding_versions, run_frames, size_points, schema_spans)
OLD = (findings, table_sizes, schema_objects, run_documents)


def upgrade() -> None:
    conn = op.get_bind()
    for table in NEW:
        table.create(conn)
    for tid in conn.execute(sa.select(targets.c.id).order_by(targets.c.id)).scalars().all():
        settings: dict[str, Any] | None = None
        prev: int | None = None
        for run_id in target_runs(conn, tid):
            settings = _replay(conn, tid, run_id, prev, settings)
            prev = run_id
    for table in OLD:
        op.drop_table(table.name)


def _replay(
    conn: sa.Connection, tid: int, run_id: int, prev: int | None,
    settings: dict[str, Any] | None,
) -> dict[str, Any]:
    run = conn.execute(sa.select(runs.c.generated_at, runs.c.settings)
                       .where(runs.c.id == run_id)).one()
    stored = conn.execute(sa.select(run_documents.c.document)
                          .where(run_documents.c.run_id == run_id)).scalar()
    doc = orjson.loads(zlib.decompress(stored)) if stored is not None else None
    waived = {
        str(p.get("fingerprint"))
        for f in (doc or {}).get("findings") or []
        if f.get("waived")
        for p in [f, *(f.get("also") or [])]
    }
    parts = [
        Part(fingerprint=r.fingerprint, check=r.check_id, section=r.section, object=r.object,
             columns=list(_json(r.columns) or []), index=r.index_name, severity=r.severity,
             title=r.title, detail=r.detail, waived=r.fingerprint in waived)
        for r in conn.execute(sa.select(findings).where(findings.c.run_id == run_id,
                                                        findings.c.severity != "ok"))
    ]
    sizes = {r.relation: (r.bytes, r.row_estimate) for r in conn.execute(
        sa.select(table_sizes).where(table_sizes.c.run_id == run_id))}
    schema = {r.identity: (r.kind, r.definition_md5) for r in conn.execute(
        sa.select(schema_objects).where(schema_objects.c.run_id == run_id))}
    write_contents(conn, tid, run_id, run.generated_at, prev, doc, parts, sizes or None,
                   schema or None)
    full = dict(_json(run.settings) or {})
    conn.execute(sa.update(runs).where(runs.c.id == run_id).values(
        settings=settings_changed(settings, full)))
    return full


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def downgrade() -> None:
    raise NotImplementedError("the per-run tables of 0004 cannot be rebuilt from lifecycles")
