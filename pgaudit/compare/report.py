"""The comparison as Markdown, HTML (the review's look) or JSON.

The model is built here; the templates (``templates/compare.*.j2``) only loop and escape with the
report's own filters (``pgaudit.render``: ``md``, ``md_cell``, ``fence``, HTML autoescape).
"""

from __future__ import annotations

from typing import Any

from pgaudit import __version__
from pgaudit.compare.ddl import full_script, script
from pgaudit.compare.diff import KIND_TITLES, KINDS, Comparison, Difference
from pgaudit.errors import PgauditError

FORMATS = ("md", "html", "json")
STATES = {"only_in_a": "only in A", "only_in_b": "only in B", "differs": "differs"}
# deparsed text shown whole in HTML (a <pre>), whitespace collapsed in a Markdown cell
_LONG = frozenset({"definition", "using", "with_check", "default", "generated", "labels"})


def parse_formats(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ["md"]:
        for name in (v.strip().lower() for v in value.split(",")):
            if not name:
                continue
            if name not in FORMATS:
                raise PgauditError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
            if name not in out:
                out.append(name)
    return out or ["md"]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _rows(d: Difference) -> list[dict[str, Any]]:
    """Attribute rows: what changed, or every attribute of the side that has the object."""
    if d.state == "differs":
        pairs = [(c.attribute, c.a, c.b) for c in d.changes]
    else:
        attrs = {k: v for k, v in (d.a or d.b or {}).items() if not k.startswith("_")}
        pairs = [(k, v, None) if d.state == "only_in_a" else (k, None, v)
                 for k, v in attrs.items() if v not in (None, "", False)]
    return [{"attribute": k, "a": _text(x), "b": _text(y), "long": k in _LONG,
             "a_line": " ".join(_text(x).split()), "b_line": " ".join(_text(y).split())}
            for k, x, y in pairs]


def _item(d: Difference) -> dict[str, Any]:
    return {"name": d.name, "kind": d.kind, "state": d.state, "state_text": STATES[d.state],
            "rows": _rows(d), "why": d.version_driven or "", "ddl": script(d.ddl) if d.ddl else "",
            "active": any(s.active for s in d.ddl)}


def model(c: Comparison) -> dict[str, Any]:
    groups = []
    for kind in KINDS:
        items = [_item(d) for d in c.drift if d.kind == kind]
        if items:
            groups.append({"kind": kind, "title": KIND_TITLES[kind], "entries": items,
                           "anchor": f"k-{kind}"})
    sides = []
    for s in (c.a, c.b):
        cat = s.catalog
        sides.append({"label": s.label, "source": s.source, "shown": s.shown,
                      "database": cat.database, "server_version": cat.server_version,
                      "taken_at": cat.taken_at, "schemas": ", ".join(cat.schemas) or "—",
                      "skipped": cat.skipped})
    totals = c.scale_totals
    return {
        "verdict": c.verdict(),
        "drift_count": len(c.drift),
        "sides": sides,
        "groups": groups,
        "version": [_item(d) | {"title": KIND_TITLES[d.kind]} for d in c.version_driven],
        "skipped": c.skipped,
        "ignored": c.ignored,
        "ignored_count": c.ignored_count,
        "findings_note": c.findings_note or "",
        "scale": [s.__dict__ for s in c.scale],
        "totals": totals,
        "script": full_script(c) if any(d.ddl for d in c.drift) else "",
        "pgaudit_version": __version__,
    }


def render(c: Comparison, fmt: str) -> str:
    from pgaudit.render import dump_json_bytes, environment

    if fmt == "json":
        doc = c.to_dict() | {"pgaudit_version": __version__}
        return dump_json_bytes(doc).decode()
    if fmt not in FORMATS:
        raise PgauditError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    env = environment()
    env.filters["num"] = lambda n: "—" if n is None else f"{int(n):,}"
    env.filters["size"] = _size
    return env.get_template(f"compare.{fmt}.j2").render(ctx=model(c))


def _size(n: Any) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
