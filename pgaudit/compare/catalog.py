"""One side of a comparison: a set-based snapshot of a database's schema and configuration.

``read`` opens the audit's own read-only session (``pgaudit.sessions.Sessions``: read-only,
lock_timeout, statement_timeout), resolves the schemas in scope as the audit does and reads,
in one read-only transaction, four statements whatever the catalog's size: the objects, the
settings, the per-database and per-role settings, and the table sizes (scale, never drift).

Relations under a granted or pending AccessExclusiveLock (the engine's own query) are left out
before any catalog function touches them (``pg_get_viewdef`` and friends would queue behind the
DDL) and are named in ``skipped``; the comparison leaves their objects out on both sides.

Objects are keyed by raw names (kind, schema, parent, name), never by text the server quoted,
so a hostile name is compared as itself. Attributes whose name starts with ``_`` are hints the
comparison reads (a setting's default) but does not compare.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pgaudit.connection import SessionOptions
from pgaudit.engine import _LOCKED_SQL, resolve_schemas
from pgaudit.errors import PgauditError
from pgaudit.sessions import Sessions, StatementCounter
from pgaudit.snapshot import TABLE_SIZES_SQL

# A snapshot written into a run document (``catalog``) says which layout it has.
CATALOG_VERSION = 1

Key = tuple[str, str, str, str]  # kind, schema, parent (table or object), name

OBJECTS_SQL = """
with ext as (
  select d.classid, d.objid from pg_catalog.pg_depend d where d.deptype = 'e'
), nsp as (
  select n.oid, n.nspname, n.nspowner, n.nspacl
  from pg_catalog.pg_namespace n where n.nspname = any(%(schemas)s::name[])
), rel as materialized (
  select c.oid, c.relname, c.relkind, c.relpersistence, c.relispartition, c.relrowsecurity,
         c.relforcerowsecurity, c.relowner, c.relacl, c.relpartbound, n.nspname
  from pg_catalog.pg_class c join nsp n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'f', 'v', 'm', 'S')
    and c.oid <> all(%(locked)s::oid[])
    and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_class'::regclass
                                        and ext.objid = c.oid)
), own as (  -- relations whose columns, indexes, constraints and triggers are their own
  select * from rel where not relispartition
), idxcols as (  -- each index's columns as CREATE INDEX writes them, all indexes at once
  select c.indexrelid,
         string_agg(c.text, ', ' order by c.n) filter (where c.n <= c.indnkeyatts) as keys,
         string_agg(c.text, ', ' order by c.n) filter (where c.n > c.indnkeyatts) as included
  from (
    select x.indexrelid, x.indnkeyatts, g.n,
           case when x.indkey[g.n - 1] = 0
                then '(' || pg_catalog.pg_get_indexdef(x.indexrelid, g.n, false) || ')'
                else quote_ident(a.attname) end
           || case when g.n > x.indnkeyatts then ''
                   else case when x.indkey[g.n - 1] <> 0
                              and x.indcollation[g.n - 1] not in (0, a.attcollation)
                             then ' COLLATE ' || case when cn.nspname = 'pg_catalog' then ''
                                                      else quote_ident(cn.nspname) || '.' end
                                  || quote_ident(co.collname)
                             else '' end
                        || case when oc.opcdefault then ''
                                else coalesce(' ' || quote_ident(oc.opcname), '') end
                        || case when x.indoption[g.n - 1] & 1 = 1 then ' DESC' else '' end
                        || case when x.indoption[g.n - 1] & 3 = 2 then ' NULLS FIRST'
                                when x.indoption[g.n - 1] & 3 = 1 then ' NULLS LAST'
                                else '' end end as text
    from own r
    join pg_catalog.pg_index x on x.indrelid = r.oid
    cross join generate_series(1, x.indnatts) g(n)
    left join pg_catalog.pg_attribute a
      on a.attrelid = x.indrelid and a.attnum = x.indkey[g.n - 1] and x.indkey[g.n - 1] <> 0
    left join pg_catalog.pg_opclass oc on oc.oid = x.indclass[g.n - 1]
    left join pg_catalog.pg_collation co on co.oid = x.indcollation[g.n - 1]
    left join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
  ) c
  group by c.indexrelid
)
select 'schema' as kind, n.nspname as schema, '' as parent, n.nspname as name,
       '{}'::jsonb as attrs
from nsp n
union all
select case r.relkind when 'v' then 'view' when 'm' then 'materialized_view'
                      when 'S' then 'sequence' else 'table' end,
       r.nspname, '', r.relname,
       case
         when r.relkind in ('v', 'm') then jsonb_build_object(
           'definition', pg_catalog.pg_get_viewdef(r.oid),
           'owner', pg_catalog.pg_get_userbyid(r.relowner))
         when r.relkind = 'S' then (
           select jsonb_build_object('type', pg_catalog.format_type(s.seqtypid, null),
                                     'start', s.seqstart::text, 'increment', s.seqincrement::text,
                                     'min', s.seqmin::text, 'max', s.seqmax::text,
                                     'cache', s.seqcache::text, 'cycle', s.seqcycle)
           from pg_catalog.pg_sequence s where s.seqrelid = r.oid)
         else jsonb_build_object(
           'kind', case r.relkind when 'p' then 'partitioned table'
                                  when 'f' then 'foreign table' else 'table' end,
           'persistence', case r.relpersistence when 'u' then 'unlogged'
                                                when 't' then 'temporary' else 'permanent' end,
           'partition_key', case when r.relkind = 'p'
                                 then pg_catalog.pg_get_partkeydef(r.oid) end,
           'partition_of', (select i.inhparent::regclass::text from pg_catalog.pg_inherits i
                            where r.relispartition and i.inhrelid = r.oid),
           'partition_bound', case when r.relispartition
                                   then pg_catalog.pg_get_expr(r.relpartbound, r.oid) end,
           'rls_enabled', r.relrowsecurity, 'rls_forced', r.relforcerowsecurity)
       end
from rel r
union all
select 'column', r.nspname, r.relname, a.attname,
       jsonb_build_object(
         'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
         'not_null', a.attnotnull,
         'default', case when a.attgenerated = ''
                         then pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) end,
         'identity', case a.attidentity when 'a' then 'always' when 'd' then 'by default' end,
         'generated', case when a.attgenerated <> ''
                           then pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) end)
from own r
join pg_catalog.pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
where r.relkind in ('r', 'p', 'f')
union all
select 'index', r.nspname, r.relname, ic.relname,
       -- CREATE INDEX written from pg_index's columns: pg_get_indexdef reads the syscache one
       -- index at a time (3 s cold for 27,000 indexes, against 0.4 s for this set-based form)
       jsonb_build_object(
         'definition',
         'CREATE ' || case when x.indisunique then 'UNIQUE ' else '' end || 'INDEX '
         || quote_ident(ic.relname) || ' ON ' || case when r.relkind = 'p' then 'ONLY ' else '' end
         || quote_ident(r.nspname) || '.' || quote_ident(r.relname)
         || ' USING ' || quote_ident(am.amname) || ' (' || cols.keys || ')'
         || coalesce(' INCLUDE (' || cols.included || ')', '')
         || case when (to_jsonb(x) ->> 'indnullsnotdistinct')::boolean
                 then ' NULLS NOT DISTINCT' else '' end
         || coalesce(' WITH (' || array_to_string(ic.reloptions, ', ') || ')', '')
         || coalesce(' WHERE ' || pg_catalog.pg_get_expr(x.indpred, x.indrelid), ''),
         'valid', x.indisvalid, 'unique', x.indisunique)
from own r
join pg_catalog.pg_index x on x.indrelid = r.oid
join pg_catalog.pg_class ic on ic.oid = x.indexrelid
join pg_catalog.pg_am am on am.oid = ic.relam
join idxcols cols on cols.indexrelid = x.indexrelid
union all
select 'constraint', r.nspname, r.relname, k.conname,
       jsonb_build_object('type', k.contype::text,
                          'definition', pg_catalog.pg_get_constraintdef(k.oid),
                          'validated', k.convalidated)
from own r
join pg_catalog.pg_constraint k on k.conrelid = r.oid and k.conparentid = 0
union all
select 'constraint', n.nspname, t.typname, k.conname,
       jsonb_build_object('type', k.contype::text,
                          'definition', pg_catalog.pg_get_constraintdef(k.oid),
                          'validated', k.convalidated)
from pg_catalog.pg_constraint k
join pg_catalog.pg_type t on t.oid = k.contypid
join nsp n on n.oid = t.typnamespace
where k.contypid <> 0
union all
select 'trigger', r.nspname, r.relname, t.tgname,
       jsonb_build_object('definition', pg_catalog.pg_get_triggerdef(t.oid),
                          'enabled', t.tgenabled::text)
from own r
join pg_catalog.pg_trigger t on t.tgrelid = r.oid and not t.tgisinternal and t.tgparentid = 0
union all
select 'policy', r.nspname, r.relname, p.polname,
       jsonb_build_object(
         'command', case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT'
                                  when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end,
         'permissive', p.polpermissive,
         'roles', (select string_agg(case when o = 0 then 'PUBLIC'
                                          else pg_catalog.pg_get_userbyid(o)::text end,
                                     ', ' order by 1)
                   from unnest(p.polroles) o),
         'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
         'with_check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
from own r
join pg_catalog.pg_policy p on p.polrelid = r.oid
union all
select 'function', n.nspname, '',
       p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
       jsonb_build_object(
         'definition', case when p.prokind = 'a'
                            then 'aggregate returning '
                                 || pg_catalog.format_type(p.prorettype, null)
                            else pg_catalog.pg_get_functiondef(p.oid) end,
         'owner', pg_catalog.pg_get_userbyid(p.proowner),
         'security_definer', p.prosecdef,
         '_name', p.proname::text,
         '_args', pg_catalog.pg_get_function_identity_arguments(p.oid),
         'search_path', (select substr(c, 13) from unnest(p.proconfig) c
                         where c like 'search\\_path=%%'))
from pg_catalog.pg_proc p
join nsp n on n.oid = p.pronamespace
where p.oid <> all(%(locked_procs)s::oid[])
  and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_proc'::regclass
                                      and ext.objid = p.oid)
union all
select case t.typtype when 'e' then 'enum' else 'domain' end, n.nspname, '', t.typname,
       case t.typtype
         when 'e' then jsonb_build_object('labels', (
           select jsonb_agg(e.enumlabel::text order by e.enumsortorder)
           from pg_catalog.pg_enum e where e.enumtypid = t.oid))
         else jsonb_build_object('type', pg_catalog.format_type(t.typbasetype, t.typtypmod),
                                 'not_null', t.typnotnull, 'default', t.typdefault)
       end
from pg_catalog.pg_type t
join nsp n on n.oid = t.typnamespace
where t.typtype in ('e', 'd')
  and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_type'::regclass
                                      and ext.objid = t.oid)
union all  -- grants: explicit ACLs, or the default one; the owner's own rights left out
select 'grant', g.schema, g.object,
       case when g.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(g.grantee)::text end,
       jsonb_build_object('privileges', string_agg(g.privilege, ', ' order by g.privilege))
from (
  select n.nspname as schema, 'schema ' || n.nspname as object, a.grantee,
         a.privilege_type || case when a.is_grantable then ' with grant option' else '' end
           as privilege
  from nsp n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
  where a.grantee <> n.nspowner
  union all
  select r.nspname, case r.relkind when 'S' then 'sequence ' else 'table ' end || r.relname,
         a.grantee,
         a.privilege_type || case when a.is_grantable then ' with grant option' else '' end
  from own r,
       aclexplode(coalesce(r.relacl, acldefault(case r.relkind when 'S' then 's'::"char"
                                                 else 'r'::"char" end, r.relowner))) a
  where a.grantee <> r.relowner
  union all
  select n.nspname,
         'function ' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid)
         || ')',
         a.grantee,
         a.privilege_type || case when a.is_grantable then ' with grant option' else '' end
  from pg_catalog.pg_proc p join nsp n on n.oid = p.pronamespace,
       aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
  where a.grantee <> p.proowner and p.oid <> all(%(locked_procs)s::oid[])
    and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_proc'::regclass
                                        and ext.objid = p.oid)
) g
group by g.schema, g.object, g.grantee
union all
select 'extension', '', '', e.extname,
       jsonb_build_object('version', e.extversion,
                          '_default_version', (select a.default_version
                                               from pg_catalog.pg_available_extensions a
                                               where a.name = e.extname))
from pg_catalog.pg_extension e
"""

# Server settings that change behaviour: memory, autovacuum and vacuum, WAL and replication,
# logging, locks, statement behaviour (search_path, timeouts). reset_val: the value the server,
# database and role give, not this session's own SETs (pgaudit.connection.prepare_session).
SETTINGS_SQL = """
select s.name, s.reset_val as value, s.unit, s.boot_val
from pg_catalog.pg_settings s
where (s.category ~ ('^(Resource Usage / Memory|Autovacuum|Vacuuming|Write-Ahead Log'
                     '|Replication|Reporting and Logging|Lock Management)')
       or s.category = 'Client Connection Defaults / Statement Behavior'
       or s.name ~ '_timeout$')
  -- this transaction's own state, not a setting of the server (transaction_timeout is one)
  and s.name not in ('transaction_isolation', 'transaction_read_only', 'transaction_deferrable')
"""

# Views and functions whose definition names a locked relation: deparsing them (pg_get_viewdef,
# a SQL-standard function body) takes AccessShareLock on what they read, and would queue.
DEPENDENTS_SQL = """
select distinct c.oid, n.nspname, c.relname::text as name, c.oid::regclass::text as shown,
       case c.relkind when 'm' then 'materialized view' else 'view' end as what
from pg_catalog.pg_depend d
join pg_catalog.pg_rewrite r on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.oid
join pg_catalog.pg_class c on c.oid = r.ev_class
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = any(%(oids)s::oid[])
  and c.oid <> all(%(oids)s::oid[])
union
select p.oid, n.nspname,
       p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
       p.oid::regprocedure::text, 'function'
from pg_catalog.pg_depend d
join pg_catalog.pg_proc p on d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = any(%(oids)s::oid[])
order by 1
"""

ROLE_SETTINGS_SQL = """
select coalesce(r.rolname::text, '') as role, s.setdatabase = 0 as every_database, s.setconfig
from pg_catalog.pg_db_role_setting s
left join pg_catalog.pg_roles r on r.oid = s.setrole
where s.setdatabase in (0, (select d.oid from pg_catalog.pg_database d
                            where d.datname = current_database()))
"""

# Machine-specific paths and names: different on every host by design, never drift.
MACHINE_SETTINGS = frozenset({
    "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file",
    "log_directory", "log_filename", "cluster_name", "archive_command", "archive_library",
    "archive_cleanup_command", "restore_command", "recovery_end_command", "primary_conninfo",
    "primary_slot_name", "synchronous_standby_names", "event_source", "syslog_ident",
    "syslog_facility", "stats_temp_directory", "log_timezone", "application_name",
    "unix_socket_directories", "unix_socket_group", "listen_addresses", "port",
    "promote_trigger_file", "krb_server_keyfile", "ssl_cert_file", "ssl_key_file",
    "ssl_ca_file", "ssl_crl_file", "ssl_crl_dir", "ssl_dh_params_file",
})  # fmt: skip

_MEMORY = {"B": 1, "kB": 1024, "8kB": 8192, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_TIME = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def setting_text(value: str | None, unit: str | None) -> str:
    """A setting as a DBA writes it: 128MB, 30s, 8192 (8kB pages shown in bytes)."""
    if value is None:
        return ""
    if not unit:
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    if number < 0:
        return value  # -1: "off" for most settings; the unit would mislead
    if unit in _MEMORY:
        size, names = number * _MEMORY[unit], ["TB", "GB", "MB", "kB"]
        for name in names:
            step = _MEMORY[name]
            if size >= step and size % step == 0:
                return f"{int(size // step)}{name}"
        return f"{int(size)}B"
    if unit in _TIME:
        ms = number * _TIME[unit]
        for name in ("d", "h", "min", "s"):
            step = _TIME[name]
            if ms >= step and ms % step == 0:
                return f"{int(ms // step)}{name}"
        return f"{int(ms)}ms" if ms == int(ms) else f"{ms}ms"
    return f"{value}{unit}"


@dataclass
class Catalog:
    """One side: objects by key, sizes, what was left out, the server it came from."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)  # relation -> rows, bytes
    skipped: list[str] = field(default_factory=list)  # locked relations, as regclass text
    skipped_keys: list[tuple[str, str]] = field(default_factory=list)  # (schema, relation)
    schemas: list[str] = field(default_factory=list)
    server_version: str = ""
    server_version_num: int = 0
    database: str = ""
    taken_at: str = ""

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": CATALOG_VERSION,
            "taken_at": self.taken_at,
            "database": self.database,
            "server_version": self.server_version,
            "server_version_num": self.server_version_num,
            "schemas": self.schemas,
            "skipped": self.skipped,
            "skipped_keys": [list(k) for k in self.skipped_keys],
            "objects": [[*key, attrs] for key, attrs in self.objects.items()],
            "sizes": self.sizes,
        }

    @classmethod
    def from_dict(cls, doc: Any) -> Catalog:
        """A snapshot read back from a run document; PgauditError when it is not one."""
        try:
            if doc.get("version") != CATALOG_VERSION:
                raise PgauditError(f"catalog snapshot version {doc.get('version')!r} is not "
                                   f"{CATALOG_VERSION}")
            objects: dict[Key, dict[str, Any]] = {}
            for kind, schema, parent, name, attrs in doc["objects"]:
                objects[(str(kind), str(schema), str(parent), str(name))] = dict(attrs)
            return cls(
                objects=objects,
                sizes=dict(doc.get("sizes") or {}),
                skipped=[str(s) for s in doc.get("skipped") or []],
                skipped_keys=[(str(a), str(b)) for a, b in doc.get("skipped_keys") or []],
                schemas=[str(s) for s in doc.get("schemas") or []],
                server_version=str(doc["server_version"]),
                server_version_num=int(doc["server_version_num"]),
                database=str(doc.get("database") or ""),
                taken_at=str(doc.get("taken_at") or ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PgauditError(f"not a catalog snapshot: {exc}") from None


_VERSION_MINOR = re.compile(r"^(\d+)(?:\.(\d+))?")


def collect(sessions: Sessions, schemas: list[str], counter: StatementCounter) -> Catalog:
    """The snapshot on an open audit session (the audit's own, or compare's)."""
    conn, facts = sessions.first, sessions.facts
    with conn.transaction(), conn.cursor() as cur:
        counter.execute(cur, _LOCKED_SQL)
        locked = cur.fetchone() or {"oids": [], "names": []}
        oids = [int(o) for o in locked["oids"]]
        counter.execute(
            cur,
            "select n.nspname, c.relname from pg_catalog.pg_class c"
            " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            " where c.oid = any(%(oids)s::oid[]) order by 1, 2",
            {"oids": oids},
        )
        skipped_keys = [(r["nspname"], r["relname"]) for r in cur.fetchall()]
        skipped = list(locked["names"])
        procs: list[int] = []
        if oids:
            counter.execute(cur, DEPENDENTS_SQL, {"oids": oids})
            for r in cur.fetchall():
                (procs if r["what"] == "function" else oids).append(int(r["oid"]))
                skipped_keys.append((r["nspname"], r["name"]))
                skipped.append(f"{r['shown']} ({r['what']} reading a locked relation)")
        counter.execute(cur, OBJECTS_SQL,
                        {"schemas": schemas, "locked": oids, "locked_procs": procs})
        objects: dict[Key, dict[str, Any]] = {}
        for r in cur.fetchall():
            objects[(r["kind"], r["schema"], r["parent"], r["name"])] = r["attrs"] or {}
        counter.execute(cur, SETTINGS_SQL)
        for r in cur.fetchall():
            if r["name"] in MACHINE_SETTINGS:
                continue
            objects[("setting", "", "", r["name"])] = {
                "value": setting_text(r["value"], r["unit"]),
                "_default": r["value"] == r["boot_val"],
            }
        counter.execute(cur, ROLE_SETTINGS_SQL)
        for r in cur.fetchall():
            values = dict(item.split("=", 1) for item in r["setconfig"] or [] if "=" in item)
            where = "every database" if r["every_database"] else "this database"
            objects[("role_setting", "", where, r["role"] or "every role")] = values
        # sizes of the tables not locked: relpages estimates, no size function (no lock)
        counter.execute(cur, TABLE_SIZES_SQL, {"schemas": schemas})
        names = set(locked["names"])
        sizes = {r["relation"]: {"rows": r["rows"], "bytes": r["bytes"]}
                 for r in cur.fetchall() if r["relation"] not in names}
    version = facts.server_version
    release = _VERSION_MINOR.match(version)
    objects[("server", "", "", "version")] = {
        "major": str(facts.major),
        "version": release.group(0) if release else version,
    }
    return Catalog(
        objects=objects,
        sizes=sizes,
        skipped=skipped,
        skipped_keys=skipped_keys,
        schemas=list(schemas),
        server_version=version,
        server_version_num=facts.server_version_num,
        database=facts.database,
        taken_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )


def read(dsn: str, *, schemas: list[str], exclude_schemas: list[str],
         options: SessionOptions | None = None) -> Catalog:
    """Connect read-only, resolve the schemas in scope as the audit does, take the snapshot."""
    counter = StatementCounter()
    with Sessions(dsn, options or SessionOptions()) as sessions, sessions.errors():
        scope = resolve_schemas(sessions.first, schemas, exclude_schemas, counter)
        return collect(sessions, scope, counter)
