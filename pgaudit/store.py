"""The history store: every run of every target, so a nightly audit can say what changed.

A SQLAlchemy URL names it: ``sqlite:///history.db`` for one machine, ``postgresql+psycopg://…``
for a team. Its schema is created and upgraded by the Alembic migrations shipped in
``pgaudit/store_migrations``. A run is recorded in one transaction: a crash leaves nothing
half-written, and overlapping runs serialise on the database's own locks. Each run keeps its
JSON document (compressed), so ``document`` gives it back for ``pgaudit history show``, and
the schema's change log it saw (``AuditRun.changes``) as events: never new or resolved findings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError

from pgaudit.consolidate import expand
from pgaudit.dsn import redact_text
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, Diff, SchemaChange, summarise
from pgaudit.snapshot import Snapshot
from pgaudit.store_schema import (
    findings,
    run_documents,
    runs,
    schema_changes,
    schema_objects,
    signoffs,
    table_sizes,
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
            tables = {
                r.relation: {
                    "bytes": r.bytes,
                    "rows": r.row_estimate,
                    "at": _iso(last.generated_at),
                }
                for r in conn.execute(select(table_sizes).where(table_sizes.c.run_id == last.id))
            }
            schema = {
                r.identity: r.definition_md5
                for r in conn.execute(
                    select(schema_objects).where(schema_objects.c.run_id == last.id)
                )
            }
        return {
            "run_id": last.id,
            "at": _iso(last.generated_at),
            "tables": tables,
            "schema": schema,
        }

    # -- writing -----------------------------------------------------------------------------

    def record(self, run: AuditRun, name: str) -> Diff:
        """Store the run atomically and return its ``Diff`` against the target's previous run.

        Record a run with its waivers applied: the counts stored are the run's summary."""
        snapshot = run.snapshot or Snapshot()
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as conn:
                tid = self._target_id(conn, run.target, name, create=True)
                prev = _last_run(conn, tid)
                before: dict[str, dict[str, Any]] = {}
                if prev is not None:
                    for r in conn.execute(select(findings).where(findings.c.run_id == prev.id)):
                        if r.severity != "ok":
                            before[r.fingerprint] = {
                                "check": r.check_id,
                                "object": r.object,
                                "columns": r.columns,
                                "index": r.index_name,
                                "severity": r.severity,
                                "title": r.title,
                                "fingerprint": r.fingerprint,
                            }
                previous = (
                    {"id": prev.id, "generated_at": _iso(prev.generated_at)} if prev else None
                )
                diff = Diff.compare(run.findings, before, previous)
                summary = summarise(run.findings, diff)
                inserted = conn.execute(
                    insert(runs).values(
                        target_id=tid,
                        generated_at=dt.datetime.fromisoformat(run.generated_at),
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
                        settings=run.facts.get("settings", {}),
                    )
                ).inserted_primary_key
                assert inserted is not None
                diff.run_id = int(inserted[0])
                # the document as the audit returns it, diff included; its history block is
                # rebuilt when it is read back (``document``)
                doc = dataclasses.replace(run, diff=diff, history=None).to_dict()
                conn.execute(
                    insert(run_documents).values(
                        run_id=diff.run_id,
                        encoding=DOCUMENT_ENCODING,
                        document=zlib.compress(orjson.dumps(doc, default=str), 6),
                    )
                )
                if run.findings:
                    conn.execute(
                        insert(findings),
                        [
                            {
                                "run_id": diff.run_id,
                                "check_id": f.check,
                                "section": f.section,
                                "severity": f.severity,
                                "object": f.object,
                                "columns": f.columns,
                                "index_name": f.index,
                                "fingerprint": f.fingerprint,
                                "title": f.title,
                                "detail": f.detail,
                                "evidence": f.evidence,
                            }
                            # merged findings as their checks gave them: next run's
                            # comparison finds every fingerprint
                            for f in expand(run.findings)
                        ],
                    )
                if snapshot.tables:
                    conn.execute(
                        insert(table_sizes),
                        [
                            {
                                "run_id": diff.run_id,
                                "relation": rel,
                                "bytes": int(v.get("bytes") or 0),
                                "row_estimate": v.get("rows"),
                            }
                            for rel, v in snapshot.tables.items()
                        ],
                    )
                if run.changes:
                    # the change log: events of this run, not findings (never new or resolved)
                    conn.execute(
                        insert(schema_changes),
                        [{"run_id": diff.run_id, **c.to_dict()} for c in run.changes],
                    )
                if snapshot.schema:
                    conn.execute(
                        insert(schema_objects),
                        [
                            {
                                "run_id": diff.run_id,
                                "identity": ident,
                                "kind": kind,
                                "definition_md5": md5,
                            }
                            for ident, (kind, md5) in snapshot.schema.items()
                        ],
                    )
        except SQLAlchemyError as exc:
            raise PgauditError(
                f"cannot record the run in {self.display}: {redact_text(str(exc).splitlines()[0])}"
            ) from None
        return diff

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
        (the runs up to it, its largest tables' growth): what ``pgaudit render`` reads."""
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
            stored = conn.execute(
                select(run_documents).where(run_documents.c.run_id == run_id)
            ).first()
            if stored is None:
                raise PgauditError(
                    f"run {run_id} was recorded by pgaudit {run.pgaudit_version}, which kept only "
                    "counts and findings: it cannot be re-rendered"
                )
            if stored.encoding != DOCUMENT_ENCODING:
                raise PgauditError(
                    f"run {run_id} is stored as {stored.encoding!r}, which this pgaudit cannot read"
                )
            doc: dict[str, Any] = orjson.loads(zlib.decompress(stored.document))
            upto = (runs.c.generated_at < run.generated_at) | (
                (runs.c.generated_at == run.generated_at) & (runs.c.id <= run_id)
            )
            doc["history"] = {
                "store": self.display,
                "target_name": run.name,
                "runs": _runs(conn, (runs.c.target_id == run.target_id) & upto)[-30:],
                "growth": _growth(conn, run.target_id, run_id),
            }
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
            row = conn.execute(select(signoffs).where(signoffs.c.run_id == run_id)).first()
        if row is None:
            return None
        return {"by": row.signed_by, "role": row.role, "comment": row.comment,
                "at": _iso(row.signed_at), "sha256": row.sha256}

    def prune(self, keep: dt.timedelta) -> int:
        cutoff = dt.datetime.now(dt.UTC) - keep
        with self.engine.begin() as conn:
            old = [
                r.id for r in conn.execute(select(runs.c.id).where(runs.c.generated_at < cutoff))
            ]
            for table in (findings, table_sizes, schema_objects, schema_changes, run_documents,
                          signoffs):
                conn.execute(delete(table).where(table.c.run_id.in_(old)))
            conn.execute(delete(runs).where(runs.c.id.in_(old)))
        return len(old)


def _runs(conn: Connection, where: Any = None) -> list[dict[str, Any]]:
    """Runs with their target and counts, oldest first; ``where`` filters them."""
    query = (
        select(runs, targets.c.name, targets.c.host, targets.c.port, targets.c.database)
        .join(targets, targets.c.id == runs.c.target_id)
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
        }
        for r in conn.execute(query)
    ]


def _open_findings(conn: Connection, tid: int, name: str) -> list[dict[str, Any]]:
    """The last run's findings of a target, each with the first run of its unbroken streak."""
    ids = [r.id for r in conn.execute(
        select(runs.c.id).where(runs.c.target_id == tid)
        .order_by(runs.c.generated_at, runs.c.id))]
    if not ids:
        return []
    last = conn.execute(select(findings).where(
        findings.c.run_id == ids[-1], findings.c.severity != "ok")).all()
    seen: dict[str, set[int]] = {}
    for r in conn.execute(select(findings.c.fingerprint, findings.c.run_id).where(
            findings.c.run_id.in_(ids), findings.c.fingerprint.in_([f.fingerprint for f in last]))):
        seen.setdefault(r.fingerprint, set()).add(r.run_id)
    at = {r.id: r.generated_at for r in conn.execute(
        select(runs.c.id, runs.c.generated_at).where(runs.c.target_id == tid))}
    out = []
    for f in last:
        first = ids[-1]
        for rid in reversed(ids):
            if rid not in seen.get(f.fingerprint, ()):
                break
            first = rid
        out.append({
            "target": name, "fingerprint": f.fingerprint, "check": f.check_id,
            "severity": f.severity, "object": f.object, "detail": f.detail,
            "first_seen_at": _iso(at[first]), "first_seen_run": first,
        })
    return out


def _growth(conn: Connection, tid: int, last: int | None, top: int = 5) -> dict[str, list[Any]]:
    """Bytes over time, up to run ``last``, of the tables largest in that run."""
    if last is None:
        return {}
    until = conn.execute(select(runs.c.generated_at).where(runs.c.id == last)).scalar()
    largest = [
        r.relation
        for r in conn.execute(
            select(table_sizes.c.relation)
            .where(table_sizes.c.run_id == last)
            .order_by(table_sizes.c.bytes.desc())
            .limit(top)
        )
    ]
    series: dict[str, list[Any]] = {rel: [] for rel in largest}
    rows = conn.execute(
        select(table_sizes.c.relation, table_sizes.c.bytes, runs.c.generated_at)
        .join(runs, runs.c.id == table_sizes.c.run_id)
        .where(
            runs.c.target_id == tid,
            table_sizes.c.relation.in_(largest),
            runs.c.generated_at <= until,
        )
        .order_by(runs.c.generated_at)
    )
    for r in rows:
        series[r.relation].append([_iso(r.generated_at), r.bytes])
    return series


def _last_run(conn: Connection, target_id: int | None) -> Any:
    """The target's most recent run (id, generated_at), or None."""
    return conn.execute(
        select(runs.c.id, runs.c.generated_at)
        .where(runs.c.target_id == target_id)
        .order_by(runs.c.generated_at.desc(), runs.c.id.desc())
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
