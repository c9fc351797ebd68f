"""The history store: every run of every target, so a nightly audit can say what changed.

A SQLAlchemy URL names it: ``sqlite:///history.db`` for one machine, ``postgresql+psycopg://…``
for a team. Its schema is created and upgraded by the Alembic migrations shipped in
``pgaudit/store_migrations``. A run is recorded in one transaction: a crash leaves nothing
half-written, and overlapping runs serialise on the database's own locks. Each run keeps its
JSON document (compressed), so ``document`` gives it back for ``pgaudit history show``, and
the schema's change log it saw (``AuditRun.changes``) as events: never new or resolved findings.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError

from pgaudit.consolidate import expand
from pgaudit.dsn import redact_text
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Diff, SchemaChange, summarise
from pgaudit.snapshot import Snapshot
from pgaudit.store_contents import (
    DAILY_FOR,
    Part,
    document,
    frame,
    rekey,
    schema_now,
    settings_changed,
    sizes_as_of,
    target_runs,
    version_ids,
    write_contents,
)
from pgaudit.store_schema import (
    finding_versions,
    lifecycles,
    run_frames,
    runs,
    schema_changes,
    schema_spans,
    signoffs,
    size_points,
    targets,
)

DOCUMENT_ENCODING = "json+zlib"

_UPGRADE_LOCK = threading.Lock()


def normalise_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise PgauditError(f"invalid store URL: {redact_text(url)}") from None
        self.display = parsed.render_as_string(hide_password=True)
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 60}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (SQLAlchemyError, ImportError) as exc:
            raise PgauditError(f"cannot open the history store {self.display}: {exc}") from None
        if parsed.get_backend_name() == "sqlite":
            _serialise_sqlite_writers(self.engine)
        # target id -> (run id, frame) of the last run this Store recorded for it
        self._frames: dict[int, tuple[int, dict[str, Any]]] = {}
        self.upgrade()

    def upgrade(self) -> None:
        """Create or upgrade the store's tables with the shipped Alembic migrations."""
        cfg = AlembicConfig()
        cfg.set_main_option(
            "script_location", str(resources.files("pgaudit").joinpath("store_migrations"))
        )
        try:
            # alembic's migration context is module-global: one upgrade at a time per process
            with _UPGRADE_LOCK, self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Two nightly jobs starting at once must not both create the tables.
                    conn.exec_driver_sql("select pg_advisory_xact_lock(7205736011)")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise PgauditError(
                f"cannot prepare the history store {self.display}: "
                f"{redact_text(str(exc).splitlines()[0])}"
            ) from None

    # -- reading -----------------------------------------------------------------------------

    def _target_id(
        self, conn: Connection, target: dict[str, Any], name: str, create: bool
    ) -> int | None:
        ident = _identity(target, name)
        found = conn.execute(select(targets.c.id).filter_by(**ident)).scalar()
        if found is not None or not create:
            return found
        try:
            with conn.begin_nested():
                key = conn.execute(insert(targets).values(**ident)).inserted_primary_key
                assert key is not None
                return int(key[0])
        except IntegrityError:  # another run created it a moment ago
            return int(conn.execute(select(targets.c.id).filter_by(**ident)).scalar_one())

    def previous(self, target: dict[str, Any], name: str) -> dict[str, Any]:
        """The history the checks read: the last run's table sizes and schema objects."""
        with self.engine.connect() as conn:
            tid = self._target_id(conn, target, name, create=False)
            if tid is None:
                return {}
            last = _last_run(conn, tid)
            if last is None:
                return {}
            at = _iso(last.generated_at)
            tables = {
                rel: {"bytes": size, "rows": rows, "at": at}
                for rel, (size, rows) in sizes_as_of(conn, tid).items()
                if size is not None
            }
            schema = schema_now(conn, tid)
        return {"run_id": last.id, "at": at, "tables": tables, "schema": schema}

    # -- writing -----------------------------------------------------------------------------

    def record(self, run: AuditRun, name: str) -> Diff:
        """Store the run atomically and return its ``Diff`` against the target's previous run.

        Record a run with its waivers applied: the counts stored are the run's summary. What it
        adds follows what changed: a runs row, the edits to the previous run's frame, and rows
        only for findings, sizes and schema objects that changed."""
        snapshot = run.snapshot or Snapshot()
        now = dt.datetime.now(dt.UTC)
        generated = dt.datetime.fromisoformat(run.generated_at)
        try:
            with self.engine.begin() as conn:
                tid = self._target_id(conn, run.target, name, create=True)
                assert tid is not None
                # one run of a target at a time: the lifecycles it updates are the previous
                # run's (SQLite already serialises writers at BEGIN)
                conn.execute(select(targets.c.id).where(targets.c.id == tid).with_for_update())
                prev = _last_run(conn, tid)
                before = {
                    r.fingerprint: {
                        "check": r.check_id,
                        "object": r.object,
                        "columns": r.columns,
                        "index": r.index_name,
                        "severity": r.severity,
                        "title": r.title,
                        "fingerprint": r.fingerprint,
                    }
                    for r in conn.execute(select(lifecycles).where(
                        lifecycles.c.target_id == tid, lifecycles.c.resolved_run.is_(None)))
                }
                previous = (
                    {"id": prev.id, "generated_at": _iso(prev.generated_at)} if prev else None
                )
                diff = Diff.compare(run.findings, before, previous)
                summary = summarise(run.findings, diff)
                settings = run.facts.get("settings", {})
                prev_frame = self._frame_of(conn, tid, prev.id) if prev is not None else None
                prev_settings = (
                    (prev_frame.get("facts") or {}).get("settings", {})
                    if prev_frame is not None else None
                )
                inserted = conn.execute(
                    insert(runs).values(
                        target_id=tid,
                        generated_at=generated,
                        recorded_at=now,
                        pgaudit_version=run.pgaudit_version,
                        server_version=str(run.target.get("server_version", "")),
                        duration_ms=run.duration_ms,
                        critical=summary.critical,
                        warning=summary.warning,
                        info=summary.info,
                        ok=summary.ok,
                        new=summary.new,
                        resolved=summary.resolved,
                        schema_fingerprint=snapshot.fingerprint,
                        settings=settings_changed(prev_settings, settings),
                    )
                ).inserted_primary_key
                assert inserted is not None
                diff.run_id = int(inserted[0])
                # the document as the audit returns it, diff included, as plain JSON values;
                # its history block is rebuilt when it is read back (``document``)
                doc = orjson.loads(orjson.dumps(
                    dataclasses.replace(run, diff=diff, history=None).to_dict(), default=str))
                written = write_contents(
                    conn, tid, diff.run_id, generated, prev.id if prev else None, doc,
                    # merged findings as their checks gave them: next run's comparison finds
                    # every fingerprint
                    [_part(f) for f in expand(run.findings) if f.severity != "ok"],
                    {rel: (int(v.get("bytes") or 0), v.get("rows"))
                     for rel, v in snapshot.tables.items()} if snapshot.tables else None,
                    # the same schema as the previous run's: its spans stand
                    dict(snapshot.schema) if snapshot.schema and not (
                        prev is not None and prev.schema_fingerprint == snapshot.fingerprint
                    ) else None,
                    prev_frame,
                )
                if run.changes:
                    # the change log: events of this run, not findings (never new or resolved)
                    conn.execute(
                        insert(schema_changes),
                        [{"run_id": diff.run_id, **c.to_dict()} for c in run.changes],
                    )
        except SQLAlchemyError as exc:
            raise PgauditError(
                f"cannot record the run in {self.display}: {redact_text(str(exc).splitlines()[0])}"
            ) from None
        if written is not None:  # committed: the next run of the target starts from it
            self._frames[tid] = (diff.run_id, written)
        return diff

    def _frame_of(self, conn: Connection, tid: int, run_id: int) -> dict[str, Any] | None:
        """A run's frame, from the one this Store last wrote for the target when it is that
        run's (a fleet recording night after night need not rebuild it from the edits)."""
        cached = self._frames.get(tid)
        if cached is not None and cached[0] == run_id:
            return cached[1]
        return frame(conn, run_id)

    def history(self, target: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return _runs(conn, targets.c.name == target if target else None)

    def growth(self, target: dict[str, Any], name: str, top: int = 5) -> dict[str, list[Any]]:
        """Bytes over time for the target's largest tables (for the report's charts)."""
        with self.engine.connect() as conn:
            tid = self._target_id(conn, target, name, create=False)
            if tid is None:
                return {}
            last = conn.execute(select(func.max(runs.c.id)).where(runs.c.target_id == tid)).scalar()
            return _growth(conn, tid, last, top)

    def document(self, run_id: int) -> dict[str, Any]:
        """A stored run's JSON document, its ``history`` as the store stood after that run
        (the runs up to it, its largest tables' growth) and its sign-off if it has one: what
        ``pgaudit render`` reads."""
        with self.engine.connect() as conn:
            run = conn.execute(
                select(runs, targets.c.name)
                .join(targets, targets.c.id == runs.c.target_id)
                .where(runs.c.id == run_id)
            ).first()
            if run is None:
                raise PgauditError(
                    f"no run {run_id} in {self.display} (pgaudit history lists them)"
                )
            doc = document(conn, run_id)
            if doc is None:
                raise PgauditError(
                    f"run {run_id} was recorded by pgaudit {run.pgaudit_version}, which kept only "
                    "counts and findings: it cannot be re-rendered"
                )
            upto = (runs.c.generated_at < run.generated_at) | (
                (runs.c.generated_at == run.generated_at) & (runs.c.id <= run_id)
            )
            doc["history"] = {
                "store": self.display,
                "target_name": run.name,
                "runs": _runs(conn, (runs.c.target_id == run.target_id) & upto)[-30:],
                "growth": _growth(conn, run.target_id, run_id),
            }
            signed = _signoff(conn, run_id)
            if signed is not None:
                doc["signoff"] = signed
        return doc

    def changes(self, run_id: int) -> list[SchemaChange]:
        """The schema's change log recorded with a run: what it saw added, dropped or altered."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(schema_changes)
                .where(schema_changes.c.run_id == run_id)
                .order_by(schema_changes.c.object, schema_changes.c.identity)
            )
            return [SchemaChange.from_dict(r._asdict()) for r in rows]

    def diff(self, run_id: int) -> dict[str, list[dict[str, Any]]]:
        """What a run changed against its target's previous run, read from the lifecycles:
        the findings it saw first (``new``, waived ones too) and those it no longer saw
        (``resolved``)."""
        with self.engine.connect() as conn:
            tid = conn.execute(select(runs.c.target_id).where(runs.c.id == run_id)).scalar()
            if tid is None:
                raise PgauditError(f"no run {run_id} in {self.display}")
            first = _target_first_run(conn, tid)

            def briefs(where: Any) -> list[dict[str, Any]]:
                return [_brief(r) for r in conn.execute(
                    select(lifecycles).where(lifecycles.c.target_id == tid, where)
                    .order_by(lifecycles.c.check_id, lifecycles.c.object, lifecycles.c.id))]

            return {
                "new": [] if first == run_id else briefs(lifecycles.c.first_seen_run == run_id),
                "resolved": briefs(lifecycles.c.resolved_run == run_id),
            }

    # -- the dashboard's reads ---------------------------------------------------------------

    def targets(self) -> list[dict[str, Any]]:
        """Every target with its last run's counts, what is new since the run before, and the
        critical and warning counts of its last 30 runs (oldest first) for a sparkline."""
        with self.engine.connect() as conn:
            out: list[dict[str, Any]] = []
            for t in conn.execute(select(targets.c.id, targets.c.name).order_by(targets.c.name)):
                series = list(reversed(conn.execute(
                    select(runs.c.id, runs.c.generated_at, runs.c.critical, runs.c.warning,
                           runs.c.new)
                    .where(runs.c.target_id == t.id)
                    .order_by(runs.c.generated_at.desc(), runs.c.id.desc())
                    .limit(30)
                ).all()))
                if not series:
                    continue
                last = series[-1]
                out.append({
                    "name": t.name,
                    "last_run_id": last.id,
                    "last_run_at": _iso(last.generated_at),
                    "critical": last.critical,
                    "warning": last.warning,
                    "new": last.new,
                    "series": [
                        {"run_id": r.id, "at": _iso(r.generated_at), "critical": r.critical,
                         "warning": r.warning}
                        for r in series
                    ],
                })
        return out

    def open_findings(self, target: str | None = None) -> list[dict[str, Any]]:
        """The findings (not ``ok``, not waived) of each target's last run, with the run since
        which they have been there without a break; oldest first."""
        with self.engine.connect() as conn:
            query = select(targets.c.id, targets.c.name)
            if target is not None:
                query = query.where(targets.c.name == target)
            out: list[dict[str, Any]] = []
            for t in conn.execute(query):
                out.extend(_open_findings(conn, t.id, t.name))
        out.sort(key=lambda f: (f["first_seen_at"], f["first_seen_run"], f["target"],
                                f["check"], f["object"]))
        return out

    def signoff(self, run_id: int) -> dict[str, Any] | None:
        """The sign-off recorded for a run (``by``, ``role``, ``comment``, ``at``, ``sha256``),
        or None."""
        with self.engine.connect() as conn:
            return _signoff(conn, run_id)

    def signoff_by_digest(self, sha256: str) -> tuple[int, dict[str, Any]] | None:
        """The run signed with this digest and its sign-off, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(signoffs.c.run_id).where(signoffs.c.sha256 == sha256)
                .order_by(signoffs.c.run_id).limit(1)
            ).first()
            if row is None:
                return None
            signed = _signoff(conn, row.run_id)
            assert signed is not None
            return row.run_id, signed

    def sign(self, run_id: int, by: str, role: str | None = None,
             comment: str | None = None) -> dict[str, Any]:
        """Record a reviewer's sign-off of a run: who, when, and the SHA-256 of its JSON
        document (``pgaudit.signoff.digest``). A run is signed once: from then on it is
        immutable, and pruning keeps it."""
        from pgaudit.signoff import digest

        if not by.strip():
            raise PgauditError("--by needs the reviewer's name")
        sha = digest(self.document(run_id))
        try:
            with self.engine.begin() as conn:
                if _signoff(conn, run_id) is not None:
                    raise PgauditError(f"run {run_id} is already signed: a signed run is immutable")
                conn.execute(insert(signoffs).values(
                    run_id=run_id, signed_by=by.strip(), role=role or None,
                    comment=comment or None, signed_at=dt.datetime.now(dt.UTC), sha256=sha))
                signed = _signoff(conn, run_id)
        except IntegrityError:  # another sign-off landed a moment ago
            raise PgauditError(
                f"run {run_id} is already signed: a signed run is immutable") from None
        except SQLAlchemyError as exc:
            raise PgauditError(
                f"cannot record the sign-off in {self.display}: "
                f"{redact_text(str(exc).splitlines()[0])}"
            ) from None
        assert signed is not None
        return signed

    def prune(self, keep: dt.timedelta, include_signed: bool = False) -> int:
        """Delete the runs older than ``keep``, signed ones only with ``include_signed``, and
        what only they needed. A run kept after a deleted one gets its frame whole, so the
        edits it was stored as do not lose their base."""
        cutoff = dt.datetime.now(dt.UTC) - keep
        with self.engine.begin() as conn:
            query = select(runs.c.id, runs.c.target_id).where(runs.c.generated_at < cutoff)
            if not include_signed:
                query = query.where(~runs.c.id.in_(select(signoffs.c.run_id)))
            old: dict[int, set[int]] = {}
            for r in conn.execute(query):
                old.setdefault(r.target_id, set()).add(r.id)
            for tid, gone in old.items():
                _prune_target(conn, tid, gone)
        return sum(len(g) for g in old.values())


def _prune_target(conn: Connection, tid: int, gone: set[int]) -> None:
    ordered = target_runs(conn, tid)
    kept = [r for r in ordered if r not in gone]
    # the first run kept after each stretch of deleted ones: its frame whole, the size points
    # it reads moved onto it
    after_gap = [r for i, r in enumerate(ordered)
                 if r not in gone and i > 0 and ordered[i - 1] in gone]
    needed: set[int] = set()
    for rid in after_gap:
        rekey(conn, rid)
        needed.update(version_ids(frame(conn, rid)))
        at = conn.execute(select(runs.c.generated_at).where(runs.c.id == rid)).scalar()
        current = _size_point_ids(conn, tid, rid)
        ids = [pid for pid, run in current if run in gone]
        for chunk in _chunks(ids):
            conn.execute(update(size_points).where(size_points.c.id.in_(chunk)).values(
                run_id=rid, at=at))
    doomed = sorted(gone)
    for chunk in _chunks(doomed):
        unneeded = [
            vid for vid in conn.execute(select(finding_versions.c.id).where(
                finding_versions.c.target_id == tid, finding_versions.c.run_id.in_(chunk)
            )).scalars() if vid not in needed
        ]
        for ids in _chunks(unneeded):
            conn.execute(delete(finding_versions).where(finding_versions.c.id.in_(ids)))
        conn.execute(delete(size_points).where(
            size_points.c.target_id == tid, size_points.c.run_id.in_(chunk)))
        for table in (schema_changes, signoffs, run_frames):
            conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
        conn.execute(delete(runs).where(runs.c.id.in_(chunk)))

    def spans_a_kept_run(first: int, end: int | None) -> bool:
        i = bisect.bisect_left(kept, first)  # the first kept run at or after ``first``
        return i < len(kept) and (end is None or kept[i] < end)

    # lifecycles and schema spans no kept run falls within
    for table, first, end in ((lifecycles, "first_seen_run", "resolved_run"),
                              (schema_spans, "first_run", "gone_run")):
        dead = [
            r.id for r in conn.execute(select(table.c.id, table.c[first], table.c[end])
                                       .where(table.c.target_id == tid))
            if not spans_a_kept_run(r[1], r[2])
        ]
        for chunk in _chunks(dead):
            conn.execute(delete(table).where(table.c.id.in_(chunk)))


def _size_point_ids(conn: Connection, tid: int, run_id: int) -> list[tuple[int, int]]:
    """The size points (id, run) that hold each relation's value as of a run."""
    latest = (
        select(size_points.c.relation, func.max(size_points.c.run_id).label("run_id"))
        .where(size_points.c.target_id == tid, size_points.c.run_id <= run_id)
        .group_by(size_points.c.relation)
        .subquery()
    )
    return [(r.id, r.run_id) for r in conn.execute(
        select(size_points.c.id, size_points.c.run_id).join(
            latest, (latest.c.relation == size_points.c.relation)
            & (latest.c.run_id == size_points.c.run_id))
        .where(size_points.c.target_id == tid))]


def _chunks(ids: list[int], size: int = 2000) -> Any:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _signoff(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(signoffs).where(signoffs.c.run_id == run_id)).first()
    if row is None:
        return None
    return {"by": row.signed_by, "role": row.role, "comment": row.comment,
            "at": _iso(row.signed_at), "sha256": row.sha256}


def _part(f: Any) -> Part:
    return Part(
        fingerprint=f.fingerprint, check=f.check, section=f.section, object=f.object,
        columns=list(f.columns), index=f.index, severity=f.severity, title=f.title,
        detail=f.detail, waived=not f.counted,
    )


def _brief(r: Any) -> dict[str, Any]:
    return {"check": r.check_id, "object": r.object, "columns": r.columns,
            "index": r.index_name, "severity": r.severity, "title": r.title,
            "fingerprint": r.fingerprint}


def _target_first_run(conn: Connection, tid: int) -> int | None:
    return conn.execute(select(func.min(runs.c.id)).where(runs.c.target_id == tid)).scalar()


def _runs(conn: Connection, where: Any = None) -> list[dict[str, Any]]:
    """Runs with their target and counts, oldest first; ``where`` filters them."""
    query = (
        select(runs, targets.c.name, targets.c.host, targets.c.port, targets.c.database,
               signoffs.c.run_id.label("signed"))
        .join(targets, targets.c.id == runs.c.target_id)
        .outerjoin(signoffs, signoffs.c.run_id == runs.c.id)
        .order_by(runs.c.generated_at, runs.c.id)
    )
    if where is not None:
        query = query.where(where)
    return [
        {
            "run_id": r.id,
            "target": r.name,
            "database": r.database,
            "host": f"{r.host}:{r.port}",
            "generated_at": _iso(r.generated_at),
            "critical": r.critical,
            "warning": r.warning,
            "info": r.info,
            "ok": r.ok,
            "new": r.new,
            "resolved": r.resolved,
            "duration_ms": r.duration_ms,
            "server_version": r.server_version,
            "schema_fingerprint": r.schema_fingerprint,
            "signed": r.signed is not None,
        }
        for r in conn.execute(query)
    ]


def _open_findings(conn: Connection, tid: int, name: str) -> list[dict[str, Any]]:
    """A target's open findings (not waived), each with the run that first saw it."""
    return [
        {
            "target": name, "fingerprint": r.fingerprint, "check": r.check_id,
            "severity": r.severity, "object": r.object, "detail": r.detail,
            "first_seen_at": _iso(r.first_seen_at), "first_seen_run": r.first_seen_run,
        }
        for r in conn.execute(select(lifecycles).where(
            lifecycles.c.target_id == tid, lifecycles.c.resolved_run.is_(None),
            lifecycles.c.waived.is_(False)))
    ]


def _growth(conn: Connection, tid: int, last: int | None, top: int = 5) -> dict[str, list[Any]]:
    """Bytes over time, up to run ``last``, of the tables largest in that run: a point per run
    for the last 90 days before the target's latest run, a point per week before (the size
    points are thinned so)."""
    if last is None:
        return {}
    sizes = sizes_as_of(conn, tid, last)
    largest = sorted(
        (rel for rel, (size, _) in sizes.items() if size is not None),
        key=lambda rel: (-(sizes[rel][0] or 0), rel),
    )[:top]
    if not largest:
        return {}
    until = conn.execute(select(runs.c.generated_at).where(runs.c.id == last)).scalar()
    newest = conn.execute(
        select(func.max(runs.c.generated_at)).where(runs.c.target_id == tid)).scalar_one()
    daily_from = newest - DAILY_FOR
    order = runs.c.generated_at, runs.c.id
    at_runs = conn.execute(
        select(runs.c.id, runs.c.generated_at)
        .where(runs.c.target_id == tid, runs.c.generated_at <= until).order_by(*order)).all()
    # before the daily window only the last run of each ISO week
    week_last: dict[tuple[int, int], int] = {}
    for r in at_runs:
        if r.generated_at < daily_from:
            week_last[tuple(r.generated_at.isocalendar())[:2]] = r.id  # type: ignore[index]
    shown = [r for r in at_runs if r.generated_at >= daily_from or r.id in week_last.values()]
    points = conn.execute(
        select(size_points.c.relation, size_points.c.run_id, size_points.c.bytes)
        .where(size_points.c.target_id == tid, size_points.c.relation.in_(largest),
               size_points.c.run_id <= last)
        .order_by(size_points.c.run_id)
    ).all()
    series: dict[str, list[Any]] = {rel: [] for rel in largest}
    value: dict[str, int | None] = {}
    i = 0
    for r in sorted(shown, key=lambda r: r.id):
        while i < len(points) and points[i].run_id <= r.id:
            value[points[i].relation] = points[i].bytes
            i += 1
        for rel in largest:
            if value.get(rel) is not None:
                series[rel].append((r.generated_at, r.id, value[rel]))
    return {rel: [[_iso(at), size] for at, _, size in sorted(pts, key=lambda p: (p[0], p[1]))]
            for rel, pts in series.items()}


def _last_run(conn: Connection, target_id: int | None) -> Any:
    """The target's last recorded run (id, generated_at), or None: the lifecycles and frames
    follow the order runs are recorded in."""
    return conn.execute(
        select(runs.c.id, runs.c.generated_at, runs.c.schema_fingerprint)
        .where(runs.c.target_id == target_id)
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()


def _serialise_sqlite_writers(engine: Engine) -> None:
    """SQLite: take the write lock at BEGIN, so overlapping runs queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("pragma journal_mode=wal")
        cur.execute("pragma foreign_keys=on")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("begin immediate")


def _identity(target: dict[str, Any], name: str) -> dict[str, str]:
    return {
        "name": name,
        "host": str(target.get("host") or ""),
        "port": str(target.get("port") or ""),
        "database": str(target.get("database") or ""),
        "system_identifier": str(target.get("system_identifier") or ""),
    }


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:  # SQLite drops the zone; everything stored is UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


__all__ = ["OperationalError", "Store", "normalise_url"]
