"""Two snapshots in, typed differences out: no database, no rendering.

An object present on one side only, or present on both with attributes that differ, is one
``Difference`` (named once, however many of its attributes differ). When the two servers run
different major versions, differences the version explains (a setting that exists on one major
only, each side at its own version's default, NOT NULL constraints catalogued from 18 on, an
extension at each server's default version) are marked ``version_driven``: listed apart, never
counted as drift. Scale (row estimates, sizes) is information only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pgaudit.compare.catalog import Catalog, Key
from pgaudit.errors import PgauditError

# The kinds, in the report's order; ``--ignore`` takes these names (or kind.attribute).
KINDS = (
    "server", "schema", "table", "column", "index", "constraint", "view", "materialized_view",
    "function", "trigger", "sequence", "enum", "domain", "policy", "grant", "extension",
    "setting", "role_setting", "finding",
)  # fmt: skip
KIND_TITLES = {
    "server": "Server version", "schema": "Schemas", "table": "Tables", "column": "Columns",
    "index": "Indexes", "constraint": "Constraints", "view": "Views",
    "materialized_view": "Materialized views", "function": "Functions", "trigger": "Triggers",
    "sequence": "Sequences", "enum": "Enums", "domain": "Domains",
    "policy": "Row-level security policies", "grant": "Grants", "extension": "Extensions",
    "setting": "Server settings", "role_setting": "Per-database and per-role settings",
    "finding": "Findings",
}  # fmt: skip
# Attributes compared with their whitespace collapsed: deparsed text.
_TEXT = frozenset({"definition", "using", "with_check", "default", "generated"})
# A table or relation name in these kinds' keys is (schema, name); in these, (schema, parent).
_RELATION_KINDS = frozenset({"table", "view", "materialized_view", "sequence"})
_CHILD_KINDS = frozenset({"column", "index", "constraint", "trigger", "policy"})
# Relations whose size differs less than this factor are not worth a line of scale.
SCALE_FACTOR = 2.0
SCALE_ROWS = 30

State = Literal["only_in_a", "only_in_b", "differs"]


@dataclass
class Change:
    attribute: str
    a: Any
    b: Any


@dataclass
class Statement:
    """One statement of the DDL making B like A; ``active`` False: written commented out."""

    sql: str
    active: bool
    note: str = ""


@dataclass
class Difference:
    kind: str
    key: Key
    name: str  # for people, not SQL
    state: State
    changes: list[Change] = field(default_factory=list)
    a: dict[str, Any] | None = None  # the object's attributes on each side
    b: dict[str, Any] | None = None
    version_driven: str | None = None  # why the version explains it
    ddl: list[Statement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": list(self.key),
            "name": self.name,
            "state": self.state,
            "changes": [{"attribute": c.attribute, "a": c.a, "b": c.b} for c in self.changes],
            "a": _public(self.a),
            "b": _public(self.b),
            "version_driven": self.version_driven,
            "ddl": [{"sql": s.sql, "active": s.active, "note": s.note} for s in self.ddl],
        }


@dataclass
class ScaleRow:
    relation: str
    a_rows: int | None
    b_rows: int | None
    a_bytes: int | None
    b_bytes: int | None


@dataclass
class Side:
    """Where a side came from and what it is."""

    label: str  # "A" or "B"
    source: str  # "database", "target", "run file"
    shown: str  # a DSN without password, a target name, a path
    catalog: Catalog
    findings: list[dict[str, Any]] | None = None  # from a run file: fingerprint, check, ...

    def to_dict(self) -> dict[str, Any]:
        c = self.catalog
        return {"label": self.label, "source": self.source, "shown": self.shown,
                "database": c.database, "server_version": c.server_version,
                "taken_at": c.taken_at, "schemas": c.schemas, "skipped": c.skipped,
                "findings_compared": self.findings is not None}


@dataclass
class Comparison:
    a: Side
    b: Side
    differences: list[Difference]  # drift and version-driven, in KINDS order
    ignored: list[str]
    ignored_count: int
    scale: list[ScaleRow]
    scale_totals: dict[str, dict[str, int]]
    findings_note: str | None

    @property
    def drift(self) -> list[Difference]:
        return [d for d in self.differences if d.version_driven is None]

    @property
    def version_driven(self) -> list[Difference]:
        return [d for d in self.differences if d.version_driven is not None]

    @property
    def skipped(self) -> list[str]:
        return sorted({*self.a.catalog.skipped, *self.b.catalog.skipped})

    def verdict(self) -> str:
        """The report's first line."""
        drift, version = len(self.drift), len(self.version_driven)
        kinds = sorted({d.kind for d in self.drift}, key=KINDS.index)
        if drift:
            head = (f"B differs from A: {drift} difference{'s' if drift != 1 else ''} "
                    f"({', '.join(KIND_TITLES[k].lower() for k in kinds)})")
        else:
            head = "B matches A: no differences in schema or configuration"
        extra = []
        if version:
            extra.append(f"{version} more explained by the server versions")
        if self.ignored_count:
            extra.append(f"{self.ignored_count} ignored")
        if self.skipped:
            extra.append(f"{len(self.skipped)} locked relation"
                         f"{'s' if len(self.skipped) != 1 else ''} skipped")
        return head + (f"; {', '.join(extra)}" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict(),
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "differences": [d.to_dict() for d in self.drift],
            "version_driven": [d.to_dict() for d in self.version_driven],
            "ignored": self.ignored,
            "ignored_count": self.ignored_count,
            "skipped": self.skipped,
            "findings_note": self.findings_note,
            "scale": {
                "totals": self.scale_totals,
                "relations": [s.__dict__ for s in self.scale],
            },
        }


def _public(attrs: dict[str, Any] | None) -> dict[str, Any] | None:
    if attrs is None:
        return None
    return {k: v for k, v in attrs.items() if not k.startswith("_")}


# --- names for people --------------------------------------------------------------------------

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def ident(name: str) -> str:
    """A name as people read it: bare when it is plain lower case, else double-quoted."""
    return name if _PLAIN.fullmatch(name) else '"' + name.replace('"', '""') + '"'


def display(key: Key) -> str:
    kind, schema, parent, name = key
    if kind == "schema":
        return ident(name)
    if kind in _RELATION_KINDS or kind in ("enum", "domain"):
        return f"{ident(schema)}.{ident(name)}"
    if kind == "column":
        return f"{ident(schema)}.{ident(parent)}.{ident(name)}"
    if kind in _CHILD_KINDS:
        return f"{ident(name)} on {ident(schema)}.{ident(parent)}"
    if kind == "function":
        return f"{ident(schema)}.{name}"
    if kind == "grant":
        what, _, obj = parent.partition(" ")
        target = ident(schema) if what == "schema" else (
            f"{ident(schema)}.{obj}" if what == "function" else f"{ident(schema)}.{ident(obj)}")
        return f"{what} {target} to {ident(name)}"
    if kind == "role_setting":
        return f"{name if name == 'every role' else ident(name)} in {parent}"
    if kind == "server":
        return "server version"
    return name


# --- the comparison ----------------------------------------------------------------------------


def parse_ignore(values: list[str]) -> list[str]:
    """``--ignore``: kinds (grant) or a kind's attribute (function.owner); unknown is an error."""
    out: list[str] = []
    for value in values:
        kind = value.partition(".")[0]
        if kind not in KINDS:
            raise PgauditError(f"--ignore {value!r}: not a kind; use one of {', '.join(KINDS)}"
                               " (or kind.attribute, such as function.owner)")
        if value not in out:
            out.append(value)
    return out


def _same(attribute: str, a: Any, b: Any) -> bool:
    if attribute in _TEXT and isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()) == " ".join(b.split())
    return bool(a == b)


def _changes(kind: str, a: dict[str, Any], b: dict[str, Any], ignored: set[str]
             ) -> list[Change]:
    names = [k for k in dict.fromkeys([*a, *b]) if not k.startswith("_")]
    return [Change(n, a.get(n), b.get(n)) for n in names
            if f"{kind}.{n}" not in ignored and not _same(n, a.get(n), b.get(n))]


def _locked(key: Key, skipped: set[tuple[str, str]]) -> bool:
    kind, schema, parent, name = key
    if kind in _RELATION_KINDS or kind == "function":
        return (schema, name) in skipped
    if kind in _CHILD_KINDS:
        return (schema, parent) in skipped
    if kind == "grant":
        what, _, obj = parent.partition(" ")
        return what in ("table", "sequence") and (schema, obj) in skipped
    return False


# the public schema's privileges for PUBLIC before PostgreSQL 15, and from 15 on
_PUBLIC_CREATE = {frozenset({"CREATE", "USAGE"}), frozenset({"USAGE"})}
# a qualifier in deparsed text: "schema". or table. before a name
_QUALIFIER = re.compile(r'(?:"(?:[^"]|"")+"|\b[A-Za-z_][A-Za-z0-9_$]*)\.(?=["A-Za-z_])')


def _unqualified(text: str) -> str:
    return " ".join(_QUALIFIER.sub("", text).split())


def _version_reason(d: Difference, a: Catalog, b: Catalog) -> str | None:
    """Why the servers' major versions explain this difference; None when they do not."""
    if a.major == b.major or d.kind == "server":
        return None
    low, high = sorted((a.major, b.major))
    only = {"only_in_a": a.major, "only_in_b": b.major}.get(d.state)
    # PostgreSQL 16 stopped qualifying a view's columns with their table when unambiguous:
    # deparsed text that is the same once names are unqualified is the same object
    if d.state == "differs" and d.changes and all(
            c.attribute in _TEXT and isinstance(c.a, str) and isinstance(c.b, str)
            and _unqualified(c.a) == _unqualified(c.b) for c in d.changes):
        return (f"deparsed differently by PostgreSQL {low} and {high}; the same once names "
                "are unqualified")
    if d.kind == "setting":
        if only is not None:
            return f"a setting of PostgreSQL {only} that {low if only == high else high} lacks"
        if d.a and d.b and d.a.get("_default") and d.b.get("_default"):
            return f"each side at its own version's default (PostgreSQL {a.major}, {b.major})"
    if d.kind == "constraint" and only is not None and only >= 17:
        attrs = d.a if d.state == "only_in_a" else d.b
        if attrs and attrs.get("type") == "n" and low < 18:
            return f"PostgreSQL {only} catalogues NOT NULL as a constraint; {low} does not"
    if (d.kind == "grant" and d.key[1:] == ("public", "schema public", "PUBLIC")
            and low < 15 <= high and d.state == "differs" and d.a and d.b
            and {_privileges(d.a), _privileges(d.b)} == _PUBLIC_CREATE):
        return "PostgreSQL 15 no longer grants CREATE on the public schema to PUBLIC"
    if (d.kind == "extension" and d.state == "differs" and d.a and d.b
            and d.a.get("version") == d.a.get("_default_version")
            and d.b.get("version") == d.b.get("_default_version")):
        return "each side at its server's default version of the extension"
    return None


def compare(a: Side, b: Side, ignore: list[str] | None = None) -> Comparison:
    ignored = set(parse_ignore(ignore or []))
    ca, cb = a.catalog, b.catalog
    skipped = {*ca.skipped_keys, *cb.skipped_keys}
    oa, ob = dict(ca.objects), dict(cb.objects)
    _add_findings(oa, a.findings)
    _add_findings(ob, b.findings)
    findings_note = None
    if a.findings is None or b.findings is None:
        live = [s.label for s in (a, b) if s.findings is None]
        findings_note = ("not compared: they are compared between two run files, and "
                         + (f"{live[0]} is a live database" if len(live) == 1
                            else "A and B are live databases"))
        for objects in (oa, ob):
            for key in [k for k in objects if k[0] == "finding"]:
                del objects[key]
    out: list[Difference] = []
    ignored_count = 0
    for key in sorted({*oa, *ob}, key=lambda k: (KINDS.index(k[0]) if k[0] in KINDS else 99,
                                                 k[1], k[2], k[3])):
        if _locked(key, skipped):
            continue
        x, y = oa.get(key), ob.get(key)
        if x is not None and y is not None:
            if key[0] == "finding":  # by fingerprint: present on both sides is the same
                continue
            changes = _changes(key[0], x, y, ignored)
            if not changes:
                continue
            d = Difference(key[0], key, display(key), "differs", changes, x, y)
        else:
            d = Difference(key[0], key, display(key), "only_in_a" if y is None else "only_in_b",
                           a=x, b=y)
        if d.kind == "finding":
            d.name = f"{key[2]}: {(x or y or {}).get('object', '')}"
        if key[0] in ignored:
            ignored_count += 1
            continue
        d.version_driven = _version_reason(d, ca, cb)
        out.append(d)
    out = _subsumed(out)
    rows, totals = _scale(ca, cb)
    return Comparison(a, b, out, sorted(ignored), ignored_count, rows, totals, findings_note)


def _privileges(attrs: dict[str, Any]) -> frozenset[str]:
    return frozenset(p for p in str(attrs.get("privileges") or "").split(", ") if p)


def _subsumed(found: list[Difference]) -> list[Difference]:
    """A schema or relation on one side only is one difference: its columns, indexes,
    constraints, triggers, policies, grants (and a schema's objects) are not named again."""
    schemas = {(d.key[3], d.state) for d in found if d.kind == "schema"}
    relations = {(d.key[1], d.key[3], d.state) for d in found
                 if d.kind in _RELATION_KINDS and d.state != "differs"}

    def inside(d: Difference) -> bool:
        kind, schema, parent, _name = d.key
        if kind != "schema" and schema and (schema, d.state) in schemas:
            return True
        if kind in _CHILD_KINDS:
            return (schema, parent, d.state) in relations
        if kind == "grant":
            what, _, obj = parent.partition(" ")
            return what in ("table", "sequence") and (schema, obj, d.state) in relations
        return False

    return [d for d in found if not inside(d)]


def _add_findings(objects: dict[Key, dict[str, Any]], findings: list[dict[str, Any]] | None
                  ) -> None:
    """A run's findings as objects keyed by fingerprint (ok lines are no findings)."""
    for f in findings or []:
        if f.get("severity") == "ok" or not f.get("fingerprint"):
            continue
        objects[("finding", "", str(f.get("check", "")), str(f["fingerprint"]))] = {
            "object": str(f.get("object", "")), "severity": f.get("severity"),
            "title": f.get("title"),
        }


def _scale(a: Catalog, b: Catalog) -> tuple[list[ScaleRow], dict[str, dict[str, int]]]:
    totals = {
        side: {"rows": sum(int(v.get("rows") or 0) for v in c.sizes.values()),
               "bytes": sum(int(v.get("bytes") or 0) for v in c.sizes.values()),
               "tables": len(c.sizes)}
        for side, c in (("a", a), ("b", b))
    }
    rows: list[tuple[float, ScaleRow]] = []
    for rel in sorted(set(a.sizes) & set(b.sizes)):
        x, y = a.sizes[rel], b.sizes[rel]
        big = max(int(x.get("bytes") or 0), int(y.get("bytes") or 0), 1)
        small = max(min(int(x.get("bytes") or 0), int(y.get("bytes") or 0)), 1)
        ra, rb = x.get("rows"), y.get("rows")
        row_ratio = (max(ra, rb, 1) / max(min(ra, rb), 1)) if ra is not None and rb is not None \
            else 1.0
        ratio = max(big / small, row_ratio)
        if ratio >= SCALE_FACTOR and big > 8192 * 8:
            rows.append((ratio, ScaleRow(rel, ra, rb, x.get("bytes"), y.get("bytes"))))
    rows.sort(key=lambda r: (-r[0], r[1].relation))
    return [r for _, r in rows[:SCALE_ROWS]], totals
