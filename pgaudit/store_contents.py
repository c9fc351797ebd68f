"""What a run leaves in the history store beyond its runs row, written so that the cost follows
the change: its document as a frame (edits to the previous run's) over versioned findings, the
lifecycles of its findings, its table sizes as change points and its schema objects as spans.

``write_contents`` is the one writer: ``Store.record`` calls it for a new run, and migration
0005 replays the runs of older stores through it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from pgaudit.store_delta import delta, patch
from pgaudit.store_schema import (
    finding_versions,
    lifecycles,
    run_frames,
    runs,
    schema_spans,
    size_points,
)

# A key frame at least every KEY_EVERY runs of a target, so re-reading a run applies at most
# that many edits.
KEY_EVERY = 64
DAILY_FOR = dt.timedelta(days=90)
_CHUNK = 2000  # ids per IN list: well under SQLite's bound parameters


@dataclass(frozen=True)
class Part:
    """A finding as the diff and the lifecycles see it: one check's finding on one object
    (merged findings count apart), not ``ok``."""

    fingerprint: str
    check: str
    section: str
    object: str
    columns: list[str]
    index: str | None
    severity: str
    title: str
    detail: str
    waived: bool


def pack(value: Any) -> bytes:
    return zlib.compress(orjson.dumps(value), 6)


def unpack(body: bytes) -> Any:
    return orjson.loads(zlib.decompress(body))


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


# -- frames ------------------------------------------------------------------------------------


def frame(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """A run's frame, rebuilt from its key frame and the edits since; None if it has none
    (runs recorded before documents were kept)."""
    chain: list[Any] = []
    current: int | None = run_id
    while current is not None:
        row = conn.execute(
            select(run_frames.c.base_run, run_frames.c.body).where(run_frames.c.run_id == current)
        ).first()
        if row is None:
            return None
        chain.append(unpack(row.body))
        current = row.base_run
    value = chain.pop()
    while chain:
        value = patch(value, chain.pop())
    return value  # type: ignore[no-any-return]


def _write_frame(
    conn: Connection, run_id: int, value: dict[str, Any], prev: int | None,
    before: dict[str, Any] | None,
) -> None:
    """Store the frame as the edits from the previous run's, or whole when there is none, when
    the chain is KEY_EVERY long, or when the edits would be larger."""
    whole = pack(value)
    if prev is not None and before is not None:
        depth = conn.execute(
            select(run_frames.c.depth).where(run_frames.c.run_id == prev)
        ).scalar()
        edits = pack(delta(before, value))
        if depth is not None and depth + 1 < KEY_EVERY and len(edits) < len(whole):
            conn.execute(insert(run_frames).values(
                run_id=run_id, base_run=prev, depth=depth + 1, body=edits))
            return
    conn.execute(insert(run_frames).values(run_id=run_id, base_run=None, depth=0, body=whole))


def rekey(conn: Connection, run_id: int) -> None:
    """Store a run's frame whole (before the run it is an edit of is pruned)."""
    value = frame(conn, run_id)
    if value is not None:
        conn.execute(update(run_frames).where(run_frames.c.run_id == run_id).values(
            base_run=None, depth=0, body=pack(value)))


def version_ids(value: Mapping[str, Any] | None) -> list[int]:
    return [int(i) for i in (value or {}).get("findings") or []]


def document(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """The run's document as recorded (its frame with the findings put back), or None."""
    value = frame(conn, run_id)
    if value is None:
        return None
    ids = version_ids(value)
    bodies: dict[int, bytes] = {}
    for chunk in _chunks(sorted(set(ids))):
        for r in conn.execute(
            select(finding_versions.c.id, finding_versions.c.body)
            .where(finding_versions.c.id.in_(chunk))
        ):
            bodies[r.id] = r.body
    value["findings"] = [unpack(bodies[i]) for i in ids]
    return value


# -- writing ---------------------------------------------------------------------------------------


_READ: Any = object()  # write_contents: read the previous run's frame from the store


def write_contents(
    conn: Connection,
    tid: int,
    run_id: int,
    at: dt.datetime,
    prev: int | None,
    doc: dict[str, Any] | None,
    parts: Iterable[Part],
    sizes: Mapping[str, tuple[int | None, int | None]] | None,
    schema: Mapping[str, tuple[str, str]] | None,
    prev_frame: dict[str, Any] | None = _READ,
) -> dict[str, Any] | None:
    """Everything of run ``run_id`` of target ``tid`` but its runs row. ``prev`` is the target's
    previous run (``prev_frame`` its frame, when the caller has it); ``doc`` the run's JSON
    document (plain JSON values), None for an old run that kept none; ``sizes`` relation ->
    (bytes, rows) and ``schema`` identity -> (kind, md5), None when the run took no snapshot
    (or, for the schema, when it is the previous run's). Returns the run's frame."""
    value = None
    if doc is not None:
        if prev_frame is _READ:
            prev_frame = frame(conn, prev) if prev is not None else None
        value = _write_document(conn, tid, run_id, prev, doc, prev_frame)
    _write_lifecycles(conn, tid, run_id, at, prev, parts)
    if sizes is not None:
        _write_sizes(conn, tid, run_id, at, sizes)
    if schema is not None:
        _write_schema(conn, tid, run_id, schema)
    return value


def _write_document(
    conn: Connection, tid: int, run_id: int, prev: int | None, doc: dict[str, Any],
    before: dict[str, Any] | None,
) -> dict[str, Any]:
    reuse: dict[str, int] = {}
    ids = version_ids(before)
    for chunk in _chunks(sorted(set(ids))):
        for r in conn.execute(
            select(finding_versions.c.id, finding_versions.c.sha1)
            .where(finding_versions.c.id.in_(chunk))
        ):
            reuse[r.sha1] = r.id
    bodies = [orjson.dumps(f) for f in doc.get("findings") or []]
    shas = [hashlib.sha1(b, usedforsecurity=False).hexdigest() for b in bodies]
    fresh = {sha: body for sha, body in zip(shas, bodies, strict=True) if sha not in reuse}
    if fresh:
        rows = conn.execute(
            insert(finding_versions).returning(
                finding_versions.c.id, finding_versions.c.sha1, sort_by_parameter_order=True
            ),
            [
                {"target_id": tid, "run_id": run_id, "sha1": sha,
                 "body": zlib.compress(body, 6)}
                for sha, body in fresh.items()
            ],
        )
        for r in rows:
            reuse[r.sha1] = r.id
    value = {k: ([reuse[s] for s in shas] if k == "findings" else v) for k, v in doc.items()}
    _write_frame(conn, run_id, value, prev, before)
    return value


def _write_lifecycles(
    conn: Connection, tid: int, run_id: int, at: dt.datetime, prev: int | None,
    parts: Iterable[Part],
) -> None:
    now = {p.fingerprint: p for p in parts}
    open_rows = conn.execute(
        select(lifecycles).where(lifecycles.c.target_id == tid, lifecycles.c.resolved_run.is_(None))
    ).all()
    seen = set()
    gone: list[int] = []
    for row in open_rows:
        part = now.get(row.fingerprint)
        if part is None:
            gone.append(row.id)
            continue
        seen.add(row.fingerprint)
        latest = (part.severity, part.title, part.detail, part.waived)
        if (row.severity, row.title, row.detail, bool(row.waived)) != latest:
            conn.execute(update(lifecycles).where(lifecycles.c.id == row.id).values(
                severity=part.severity, title=part.title, detail=part.detail,
                waived=part.waived))
    for chunk in _chunks(gone):
        conn.execute(update(lifecycles).where(lifecycles.c.id.in_(chunk)).values(
            resolved_run=run_id, last_seen_run=prev))
    new = [p for fp, p in now.items() if fp not in seen]
    if new:
        conn.execute(insert(lifecycles), [
            {"target_id": tid, "fingerprint": p.fingerprint, "check_id": p.check,
             "section": p.section, "object": p.object, "columns": p.columns,
             "index_name": p.index, "severity": p.severity, "title": p.title,
             "detail": p.detail, "waived": p.waived, "first_seen_run": run_id,
             "first_seen_at": at}
            for p in new
        ])


def sizes_as_of(
    conn: Connection, tid: int, run_id: int | None = None
) -> dict[str, tuple[int | None, int | None]]:
    """Each relation's (bytes, rows) as of a run (the latest run by default); a dropped
    relation's bytes are None."""
    latest = (
        select(size_points.c.relation, func.max(size_points.c.run_id).label("run_id"))
        .where(size_points.c.target_id == tid)
        .group_by(size_points.c.relation)
    )
    if run_id is not None:
        latest = latest.where(size_points.c.run_id <= run_id)
    sub = latest.subquery()
    rows = conn.execute(
        select(size_points.c.relation, size_points.c.bytes, size_points.c.row_estimate).join(
            sub,
            and_(sub.c.relation == size_points.c.relation, sub.c.run_id == size_points.c.run_id),
        ).where(size_points.c.target_id == tid)
    )
    return {r.relation: (r.bytes, r.row_estimate) for r in rows}


def _write_sizes(
    conn: Connection, tid: int, run_id: int, at: dt.datetime,
    sizes: Mapping[str, tuple[int | None, int | None]],
) -> None:
    before = {k: v for k, v in sizes_as_of(conn, tid).items() if v[0] is not None}
    points = [
        {"relation": rel, "bytes": v[0], "row_estimate": v[1]}
        for rel, v in sizes.items() if before.get(rel) != v
    ] + [{"relation": rel, "bytes": None, "row_estimate": None} for rel in before
         if rel not in sizes]
    if points:
        conn.execute(insert(size_points), [
            {"target_id": tid, "run_id": run_id, "at": at, **p} for p in points])
    thin(conn, tid, at - DAILY_FOR - dt.timedelta(days=14), at - DAILY_FOR)


def thin(conn: Connection, tid: int, since: dt.datetime | None, until: dt.datetime) -> int:
    """Keep, of the size points older than ``until`` (and since ``since``), the last of each
    relation and ISO week: the series is daily for 90 days, then weekly."""
    query = select(size_points.c.id, size_points.c.relation, size_points.c.at,
                   size_points.c.run_id).where(size_points.c.target_id == tid,
                                               size_points.c.at < until)
    if since is not None:
        query = query.where(size_points.c.at >= since)
    last: dict[tuple[str, int, int], tuple[int, int]] = {}
    drop: list[int] = []
    for r in conn.execute(query.order_by(size_points.c.run_id, size_points.c.id)):
        year, week, _ = r.at.isocalendar()
        key = (r.relation, year, week)
        if key in last:
            drop.append(last[key][0])
        last[key] = (r.id, r.run_id)
    for chunk in _chunks(drop):
        conn.execute(delete(size_points).where(size_points.c.id.in_(chunk)))
    return len(drop)


def _write_schema(
    conn: Connection, tid: int, run_id: int, schema: Mapping[str, tuple[str, str]]
) -> None:
    open_rows = conn.execute(
        select(schema_spans.c.id, schema_spans.c.identity, schema_spans.c.kind,
               schema_spans.c.definition_md5)
        .where(schema_spans.c.target_id == tid, schema_spans.c.gone_run.is_(None))
    ).all()
    kept = set()
    gone = []
    for r in open_rows:
        if schema.get(r.identity) == (r.kind, r.definition_md5):
            kept.add(r.identity)
        else:
            gone.append(r.id)
    for chunk in _chunks(gone):
        conn.execute(update(schema_spans).where(schema_spans.c.id.in_(chunk)).values(
            gone_run=run_id))
    new = [
        {"target_id": tid, "identity": ident, "kind": kind, "definition_md5": md5,
         "first_run": run_id}
        for ident, (kind, md5) in schema.items() if ident not in kept
    ]
    if new:
        conn.execute(insert(schema_spans), new)


def schema_now(conn: Connection, tid: int) -> dict[str, str]:
    return {
        r.identity: r.definition_md5
        for r in conn.execute(
            select(schema_spans.c.identity, schema_spans.c.definition_md5)
            .where(schema_spans.c.target_id == tid, schema_spans.c.gone_run.is_(None))
        )
    }


def settings_changed(before: Mapping[str, Any] | None, now: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that changed (removed ones null); all of them when there is no before."""
    if before is None:
        return dict(now)
    changed = {k: v for k, v in now.items() if before.get(k, object()) != v}
    changed.update({k: None for k in before if k not in now})
    return changed


def target_runs(conn: Connection, tid: int) -> list[int]:
    """The target's run ids in the order they were recorded."""
    return [r.id for r in conn.execute(
        select(runs.c.id).where(runs.c.target_id == tid).order_by(runs.c.id))]
