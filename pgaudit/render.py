"""Rendering: Jinja templates for Markdown and HTML, plus the JSON, SARIF and Prometheus texts.

No database and no business rules here: ``pgaudit.report`` builds the model, templates only
loop and escape. Markdown escaping is explicit (``md``, ``md_cell``, ``fence``); HTML relies on
Jinja's autoescape. Undefined names are errors (``StrictUndefined``). The checks' prose may
hold `code spans`: ``md_code`` and ``code`` render them as code, in Markdown and HTML (never
identifiers, which stay text).

Every renderer takes the typed ``AuditRun``. A JSON run document (``pgaudit render``) is read
into one by ``as_run``, the only place a document becomes a run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from pgaudit import report as report_model
from pgaudit import sarif
from pgaudit.checkfile import CheckSpec
from pgaudit.consolidate import consolidate
from pgaudit.errors import PgauditError
from pgaudit.model import AuditRun, default_target_name
from pgaudit.resources import templates_dir
from pgaudit.wording import plural

if TYPE_CHECKING:
    from jinja2 import Environment

FORMATS = ("md", "html", "json", "sarif", "prom")

_MD_SPECIAL = re.compile(r"([\\`*_<>|\[\]#~&{}!])")
_LINE_START = re.compile(r"^(\s*)([-+]|\d+[.)])(?=\s|$)")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_BACKTICKS = re.compile(r"`+")
# a code span of the checks' prose: `varchar(n)` (one backtick each side, on one line)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def md(value: Any) -> str:
    """Inline Markdown text: every character that could start markup is backslash-escaped."""
    text = _NEWLINES.sub(" ␤ ", str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2)
                           if not m.group(2)[0].isdigit()
                           else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def md_code(value: Any) -> str:
    """Prose with code spans (a check's remediation): ``md`` outside the spans, each span kept
    as Markdown code (its text needs no escaping there, and holds no backtick)."""
    text, out, last = str(value), [], 0
    for m in _CODE_SPAN.finditer(text):
        out += [md(text[last:m.start()]), "`", _NEWLINES.sub(" ", m.group(1)), "`"]
        last = m.end()
    out.append(md(text[last:]))
    return "".join(out)


def html_code(value: Any) -> Any:
    """Prose with code spans as HTML: escaped text, each `span` a ``<code>`` element."""
    from markupsafe import Markup, escape

    text, out, last = str(value), Markup(), 0
    for m in _CODE_SPAN.finditer(text):
        out += escape(text[last:m.start()]) + Markup("<code>") + escape(m.group(1))
        out += Markup("</code>")
        last = m.end()
    return out + escape(text[last:])


def md_cell(value: Any) -> str:
    """A GitHub-flavoured table cell: ``md`` plus never empty."""
    if value is None or value == "":
        return " "
    return md(value)


def fence(value: Any) -> str:
    """A backtick fence longer than any backtick run in the block, so content cannot close it."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(str(value))), default=0)
    return "`" * max(3, longest + 1)


def environment() -> Environment:
    # imported here: a JSON-only audit (the nightly job, CI) never pays for Jinja's import
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                     default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, md_cell=md_cell, fence=fence, md_code=md_code, code=html_code)
    env.globals.update(plural=plural)
    env.filters["num"] = lambda n: f"{n:,}"  # a count with thousands separated: 1,165
    return env


def dump_json_bytes(doc: Any) -> bytes:
    """Indented JSON, as ``json.dumps(indent=2, ensure_ascii=False)`` writes it, plus a newline;
    orjson encodes the 15,000 findings of a 50,000-table catalog ten times faster than the
    standard library. Bytes: a 46 MB report is not decoded only to be encoded again."""
    return orjson.dumps(
        doc, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )


Run = AuditRun | Mapping[str, Any]  # a run, or its JSON document


def as_run(run: Run) -> AuditRun:
    """The run itself, or the run a JSON document describes (PgauditError when it does not).
    A document written before findings were merged gets them merged here (consolidating is
    idempotent: a consolidated run reads back as written)."""
    if isinstance(run, AuditRun):
        return run
    if not isinstance(run, Mapping) or "findings" not in run:
        raise PgauditError("not a pgaudit run document")
    read = AuditRun.from_dict(run)
    read.findings = consolidate(read.findings)
    return read


def render(run: Run, fmt: str, specs: Mapping[str, CheckSpec] | None = None,
           today: dt.date | None = None) -> str:
    """The report of one run in one format."""
    if fmt in ("json", "sarif"):
        return render_bytes(run, fmt, specs).decode()
    if fmt not in FORMATS:
        raise PgauditError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    run = as_run(run)
    if fmt == "prom":
        from pgaudit.prometheus import metrics

        name = (run.history or {}).get("target_name") or default_target_name(run.target)
        return metrics([(name, run, run.duration_ms / 1000)])
    ctx = report_model.build(run, specs, today)
    template = environment().get_template(f"report.{fmt}.j2")
    return template.render(ctx=ctx)


def render_bytes(run: Run, fmt: str, specs: Mapping[str, CheckSpec] | None = None,
                 today: dt.date | None = None) -> bytes:
    """``render`` as UTF-8 bytes; the JSON formats are encoded here, without a detour through
    ``str``."""
    if fmt == "json":
        return dump_json_bytes(as_run(run).to_dict())
    if fmt == "sarif":
        return dump_json_bytes(sarif.build(as_run(run), specs))
    return render(run, fmt, specs, today).encode()


def render_index(rows: list[dict[str, Any]], fmt: str) -> str:
    """The index page of an ``audit --all`` run: one row per target."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return environment().get_template(f"index.{fmt}.j2").render(rows=rows, generated=stamp)


def parse_formats(values: list[str] | None) -> list[str]:
    """``--format md --format html`` or ``--format md,html``; unknown names are an error."""
    out: list[str] = []
    for value in values or ["md"]:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in FORMATS:
                raise PgauditError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
            if name not in out:
                out.append(name)
    if not out:
        raise PgauditError(f"no format given; use one of {', '.join(FORMATS)}")
    return out
