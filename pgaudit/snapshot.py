"""What a stored run keeps besides findings: table sizes and the schema's object definitions.

``Snapshot`` is defined here, not in the store: an audit collects one without importing the
store (SQLAlchemy, Alembic). Both are single set-based queries. Sizes are the planner's
estimates (``relpages``), not size functions: they take no locks, and growth over days does not
need byte precision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgaudit.checkfile import with_library
from pgaudit.resources import checks_dir

if TYPE_CHECKING:
    import psycopg


@dataclass
class Snapshot:
    """What a run measured besides findings: sizes per table and the schema's objects."""

    # relation -> {"bytes": int, "rows": int | None}
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    # identity -> (kind, definition md5)
    schema: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for identity in sorted(self.schema):
            digest.update(f"{identity}\x1f{self.schema[identity][1]}\n".encode())
        return digest.hexdigest()

TABLE_SIZES_SQL = """
with rel as (
  select c.oid, c.relkind, c.relpages, c.reltuples, c.reltoastrelid,
         coalesce((select i.inhparent from pg_catalog.pg_inherits i
                   where c.relispartition and i.inhrelid = c.oid), c.oid) as parent
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'm') and n.nspname = any(%(schemas)s::name[])
), sized as (
  select r.parent,
         (r.relpages::bigint
          + coalesce((select t.relpages from pg_catalog.pg_class t
                      where t.oid = r.reltoastrelid), 0)
          + coalesce((select sum(ic.relpages) from pg_catalog.pg_index x
                      join pg_catalog.pg_class ic on ic.oid = x.indexrelid
                      where x.indrelid = r.oid), 0))
           * current_setting('block_size')::bigint as bytes,
         case when r.reltuples < 0 then null else r.reltuples::bigint end as rows
  from rel r
)
select parent::regclass::text as relation, sum(bytes)::bigint as bytes,
       sum(rows)::bigint as rows
from sized group by parent order by 1
"""


def collect(conn: psycopg.Connection[dict[str, Any]], schemas: list[str]) -> Snapshot:
    params = {"schemas": schemas}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(TABLE_SIZES_SQL, params)
        tables = {r["relation"]: {"bytes": r["bytes"], "rows": r["rows"]} for r in cur.fetchall()}
        schema: dict[str, tuple[str, str]] = {}
        snapshot_sql = checks_dir() / "_schema_snapshot.sql"
        if snapshot_sql.exists():
            query = with_library(
                ["scope_schemas"], snapshot_sql.read_text(encoding="utf-8"), snapshot_sql
            )
            cur.execute(query, {**params, "locked": []})  # type: ignore[arg-type]
            for r in cur.fetchall():
                schema[r["identity"]] = (r["kind"], r["definition_md5"])
    return Snapshot(tables=tables, schema=schema)
