"""The report's appendix "Inventory": what the audited schemas hold.

One set-based catalog query per run, on the audit's first (read-only) session after the checks:
schemas with their tables, rows and sizes; the largest tables (``TOP`` by size) with estimated
rows, sizes and index counts; the totals; the tables never analyzed. Tables are ranked by
``relpages × block_size`` (heap, TOAST and indexes; partitions rolled up into their root), which
takes no lock; size functions run only on the ``TOP`` tables, and never on a relation with a
granted or pending AccessExclusiveLock (it would queue behind the DDL): those keep their
estimate and are named in ``skipped``.

The result is plain JSON (``AuditRun.inventory``); a run written without it renders without the
appendix.
"""

from __future__ import annotations

from typing import Any

import psycopg

TOP = 50  # tables measured with size functions and listed
NEVER_ANALYZED_CAP = 100  # names listed; the count covers them all

# {locked}: the engine's own query for the relations a size function would queue behind
INVENTORY_SQL = """
with recursive locked as (
  select unnest(lk.oids) as oid from ({locked}) lk
), rel as (
  select c.oid, n.nspname, c.relkind, c.relispartition, c.reltoastrelid,
         c.relpages::bigint as pages,
         case when c.relkind = 'r' and not (
                   c.reltuples < 0  -- never vacuumed nor analyzed (PostgreSQL 14+)
                   or (current_setting('server_version_num')::int < 140000
                       and c.reltuples = 0 and c.relpages = 0
                       and pg_catalog.pg_stat_get_last_analyze_time(c.oid) is null
                       and pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) is null))
              then c.reltuples::bigint end as rows
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s::name[])
), root as (  -- every table with the root of its partition tree (itself when not a partition)
  select r.oid, r.oid as root from rel r where not r.relispartition
  union all
  select i.inhrelid, root.root
  from root
  join pg_catalog.pg_inherits i on i.inhparent = root.oid
  join rel r on r.oid = i.inhrelid and r.relispartition
), idx as (
  select x.indrelid as oid, count(*)::int as indexes, sum(ic.relpages)::bigint as pages
  from pg_catalog.pg_index x
  join pg_catalog.pg_class ic on ic.oid = x.indexrelid
  where x.indrelid in (select oid from rel)
  group by x.indrelid
), measured as (
  select r.oid, r.nspname, r.relkind, r.rows, r.pages,
         coalesce(t.relpages, 0)::bigint as toast_pages,
         coalesce(idx.indexes, 0) as indexes, coalesce(idx.pages, 0) as index_pages
  from rel r
  left join pg_catalog.pg_class t on t.oid = r.reltoastrelid
  left join idx on idx.oid = r.oid
), tables as (  -- one row per top-level table, its partitions summed in
  select root.root as oid, min(m.nspname) filter (where m.oid = root.root) as nspname,
         min(m.relkind) filter (where m.oid = root.root) as relkind,
         count(*) filter (where m.oid <> root.root)::int as partitions,
         sum(m.rows)::bigint as rows,
         sum(m.pages)::bigint as heap_pages, sum(m.toast_pages)::bigint as toast_pages,
         sum(m.index_pages)::bigint as index_pages,
         sum(m.indexes) filter (where m.oid = root.root)::int as indexes
  from root join measured m on m.oid = root.oid
  group by root.root
), ranked as materialized (
  select t.*, (t.heap_pages + t.toast_pages + t.index_pages)
                * current_setting('block_size')::bigint as est_bytes
  from tables t
), top as materialized (
  select r.*, r.relkind = 'r' and r.oid <> all(%(locked)s::oid[])
              and r.oid not in (select oid from locked) as sizable
  from ranked r
  order by r.est_bytes desc, r.oid::regclass::text
  limit %(top)s
), top_sized as (
  select t.*,
         case when t.sizable then pg_catalog.pg_total_relation_size(t.oid) end as total_exact,
         case when t.sizable then pg_catalog.pg_table_size(t.oid) end as table_exact,
         case when t.sizable then pg_catalog.pg_indexes_size(t.oid) end as index_exact
  from top t
), never as (
  select c.oid::regclass::text as name
  from measured m join pg_catalog.pg_class c on c.oid = m.oid
  where m.relkind = 'r' and m.rows is null
)
select
  (select coalesce(jsonb_agg(jsonb_build_object(
            'schema', s.nspname, 'tables', s.tables, 'rows', s.rows, 'bytes', s.bytes)
          order by s.bytes desc, s.nspname), '[]'::jsonb)
   from (select nspname, count(*)::int as tables, sum(rows)::bigint as rows,
                sum(est_bytes)::bigint as bytes
         from ranked group by nspname) s) as schemas,
  (select jsonb_build_object(
            'schemas', count(distinct nspname), 'tables', count(*),
            'partitions', coalesce(sum(partitions), 0),
            'indexes', (select coalesce(sum(indexes), 0) from measured),
            'rows', sum(rows), 'bytes', coalesce(sum(est_bytes), 0))
   from ranked) as totals,
  (select coalesce(jsonb_agg(jsonb_build_object(
            'table', t.oid::regclass::text, 'kind', t.relkind, 'partitions', t.partitions,
            'rows', t.rows,
            'total_bytes', coalesce(t.total_exact, t.est_bytes),
            'table_bytes', coalesce(t.table_exact,
                                    (t.heap_pages + t.toast_pages)
                                      * current_setting('block_size')::bigint),
            'index_bytes', coalesce(t.index_exact,
                                    t.index_pages * current_setting('block_size')::bigint),
            'indexes', t.indexes, 'exact', t.total_exact is not null)
          order by coalesce(t.total_exact, t.est_bytes) desc, t.oid::regclass::text),
          '[]'::jsonb)
   from top_sized t) as tables,
  (select coalesce(jsonb_agg(t.oid::regclass::text order by t.oid::regclass::text), '[]'::jsonb)
   from top t where t.relkind = 'r' and not t.sizable) as skipped,
  (select count(*) from never)::int as never_analyzed_count,
  (select coalesce(jsonb_agg(n.name order by n.name), '[]'::jsonb)
   from (select name from never order by name limit %(never_cap)s) n) as never_analyzed
"""


def collect(conn: psycopg.Connection[Any], schemas: list[str], locked: list[int] | None = None,
            counter: Any = None) -> dict[str, Any] | None:
    """The inventory of ``schemas`` in one statement; None when the query fails (the audit
    goes on: the inventory is an appendix, not a verdict). A lost connection is raised."""
    from pgaudit.engine import _LOCKED_SQL  # one definition of "locked" (imported late: the
    # engine imports this module)

    sql = INVENTORY_SQL.replace("{locked}", _LOCKED_SQL.strip())
    params = {"schemas": schemas, "locked": list(locked or []), "top": TOP,
              "never_cap": NEVER_ANALYZED_CAP}
    try:
        with conn.transaction(), conn.cursor() as cur:
            if counter is not None:
                counter.add()
            cur.execute(sql, params)  # type: ignore[arg-type]
            row = cur.fetchone()
    except psycopg.Error:
        if conn.broken or conn.closed:
            raise
        return None
    if row is None:
        return None
    doc = dict(row) if not isinstance(row, dict) else row
    return {
        "schemas": doc["schemas"],
        "totals": doc["totals"],
        "top": TOP,
        "tables": doc["tables"],
        "never_analyzed": doc["never_analyzed"],
        "never_analyzed_count": doc["never_analyzed_count"],
        "skipped": doc["skipped"],
    }
