"""Discover, parse and validate check files: ``checks/<id>.sql`` with a TOML header comment.

A check exists if and only if its file exists. The header is a ``/* pgaudit ... */`` block of
TOML holding the check's metadata; the rest of the file is one set-based SQL query.

Every check is format 2 (``format = 2``): the query returns facts, and the header holds the
policy. The engine prepends the named CTEs of ``checks/_lib/`` the header lists in ``uses``
(the audit's scope, written once), judges the statistics window (``min_stats_age_s``), words
the finding from ``message`` and rates it by the ``[severity]`` rule (``pgaudit/rules.py``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import tomli  # the stdlib tomllib compiled (mypyc): 81 check headers parse in a third of the time
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pgaudit.errors import PgauditError
from pgaudit.model import SECTIONS
from pgaudit.rules import LEVELS, PRIORITY_LEVELS, Rule, parse_rule

Need = Literal[
    "catalog",
    "stats",
    "column_stats",
    "activity",
    "data",
    "pg_stat_statements",
    "history",
    "settings",
    "hba_file_rules",
]

_HEADER = re.compile(r"\A\s*/\*\s*pgaudit\s*\n(?P<toml>.*?)\*/\s*(?P<sql>.*)\Z", re.S)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CheckSpec(BaseModel):
    """Everything the engine, the docs and the report need to know about one check."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str
    title: str = Field(max_length=120)
    section: str
    format: Literal[2] = 2  # the loader refuses a file without format = 2
    severity: Literal["critical", "warning", "info"]  # the default level
    priority: Literal["immediate", "high", "medium", "low"] | None = None
    # the rules that rate a row from its facts
    severity_rule: Rule
    priority_rule: Rule | None = None
    # named CTEs from checks/_lib/ the engine prepends to the query
    uses: list[str] = Field(default_factory=list)
    # rates need a statistics window this long. "required": no verdict before it;
    # "rates": the check judges anyway, with %(rates_ok)s false, and its result says why
    min_stats_age_s: float | None = None
    stats_window: Literal["required", "rates"] = "required"
    # how the report labels a fact ("est_rows" -> "Estimated rows")
    labels: dict[str, str] = Field(default_factory=dict)
    needs: list[Need] = Field(default_factory=lambda: list[Need](["catalog"]))
    min_server_version: int = 13
    detects: str
    why: str
    example: str
    fix: str
    ignore_when: str
    references: list[str] = Field(default_factory=list)
    ok: str  # the 🟢 line when the check finds nothing
    ok_message: str | None = None  # the sentence of an ok row, filled from its facts
    # a SQL boolean expression over the library CTEs of ``uses`` and the params,
    # evaluated only when the query returns no row: false means nothing in scope to judge,
    # and the check is ``not_applicable`` with the ``not_applicable`` reason (no 🟢 line)
    applies: str | None = None
    not_applicable: str | None = None
    applies_sql: str = ""  # what the engine runs: ``select (applies)`` with the library CTEs
    # a SQL boolean expression over the census CTEs (census_tables, census_columns,
    # census_sizes: names, types and the largest table in scope) and the params, true whenever
    # the query could return a row or ``applies`` hold; the engine evaluates every check's at
    # once: false, the query is not run and the check is not applicable, or without
    # ``applies`` gives its 🟢 line (pgaudit.census)
    census: str | None = None
    impact: str
    message: str = "{object}"
    remediation: str = ""  # prose on how to fix, beside the per-finding SQL
    replica_note: str | None = None  # why the check means less on a hot standby
    # the check's rows are the run's change log (``AuditRun.changes``), not findings: an event
    # such as a schema change is neither new nor resolved (``model.take_change_log``)
    change_log: bool = False
    locks: bool = False  # calls size functions or reads rows: skip AccessExclusive-locked relations
    raise_when: dict[str, Literal["critical", "warning", "info"]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    sql: str  # what the engine runs: the query with its library CTEs in front
    query: str = ""  # the check's own query, as written in its file
    path: str

    @model_validator(mode="before")
    @classmethod
    def _rule_of_a_level(cls, data: Any) -> Any:
        """A plain ``severity = "warning"`` is a rule with a default and no condition."""
        # an unknown level is left to the severity field's own error
        if isinstance(data, dict) and "severity_rule" not in data \
                and data.get("severity") in LEVELS and data["severity"] != "ok":
            data = {**data, "severity_rule": Rule.parse(data["severity"], LEVELS)}
        return data

    @field_validator("section")
    @classmethod
    def _known_section(cls, value: str) -> str:
        if value not in SECTIONS:
            raise ValueError(f"unknown section {value!r}; use one of {', '.join(SECTIONS)}")
        return value

    @field_validator("title")
    @classmethod
    def _title_names_the_defect(cls, value: str) -> str:
        if value.split(" ", 1)[0] in {"Ensure", "Check", "Avoid"}:
            raise ValueError("title names the defect state, not an instruction")
        return value

    @field_validator("references")
    @classmethod
    def _https(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith("https://"):
                raise ValueError(f"reference {url!r} is not an https URL")
        if len(set(value)) != len(value):
            raise ValueError("duplicate references")
        return value

    @model_validator(mode="after")
    def _id_matches_file(self) -> CheckSpec:
        if Path(self.path).stem != self.id:
            raise ValueError(f"id {self.id!r} differs from its file name {Path(self.path).name}")
        if not _ID.match(self.id):
            raise ValueError(f"id {self.id!r} is not snake_case")
        if self.example.strip() == self.fix.strip():
            raise ValueError("example and fix are identical")
        if "ok" in self.severity_rule.levels() and not self.ok_message:
            raise ValueError("a [severity] ok rule needs ok_message: an ok row's own sentence "
                             "(the check-wide ok line would claim more than that row judged)")
        if (self.applies is None) != (self.not_applicable is None):
            raise ValueError("applies and not_applicable go together (the expression and the "
                             "reason given when it is false)")
        return self

    def param_names(self) -> set[str]:
        """The parameters a config may override: the [params] and the statistics window."""
        names = set(self.params)
        if self.min_stats_age_s is not None:
            names.add("min_stats_age_s")
        return names

    def levels(self) -> set[str]:
        """Every severity this check can give a finding."""
        return self.severity_rule.levels() - {"ok"}

    @property
    def chapter(self) -> str:
        return SECTIONS[self.section].chapter

    def docs(self) -> dict[str, str]:
        return {
            "What it detects": self.detects,
            "Why it matters": self.why,
            "Example": self.example,
            "Fix": self.fix,
            "When to ignore it": self.ignore_when,
        }


_INCLUDE = re.compile(r"^[ \t]*--[ \t]*pgaudit:include[ \t]+(?P<name>_[\w.-]+\.sql)[ \t]*$", re.M)


def _expand_includes(sql: str, path: Path) -> str:
    """Replace ``-- pgaudit:include _shared.sql`` lines by that file of the same folder.

    Checks that differ only in their parameters (the three timeout settings) or that build on
    a shared query (schema_drift on the stored snapshot) keep that SQL once.
    """

    def load(match: re.Match[str]) -> str:
        shared = path.parent / match.group("name")
        try:
            return shared.read_text(encoding="utf-8").strip()
        except OSError:
            raise PgauditError(f"{path}: included file {shared.name} does not exist") from None

    return _INCLUDE.sub(load, sql)


_LIB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LIB_USES = re.compile(r"^--\s*uses:\s*(?P<names>.*)$", re.M)
# a query's own WITH, after any leading line comments
_WITH = re.compile(r"\A(?:\s*--[^\n]*\n|\s)*with\s+(?P<recursive>recursive\s+)?", re.I)


def _lib_dirs(path: Path) -> list[Path]:
    from pgaudit.resources import checks_dir

    return [path.parent / "_lib", checks_dir() / "_lib"]


def _lib_ctes(names: list[str], path: Path) -> list[str]:
    """The library CTEs a check uses, each after the ones it uses itself (``-- uses: a, b``)."""
    ordered: list[str] = []
    texts: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in texts:
            return
        if name in chain:
            raise PgauditError(f"{path}: library CTE {name} uses itself")
        if not _LIB_NAME.match(name):
            raise PgauditError(f"{path}: uses: {name!r} is not a library CTE name")
        found = next((d / f"{name}.sql" for d in _lib_dirs(path) if (d / f"{name}.sql").is_file()),
                     None)
        if found is None:
            raise PgauditError(f"{path}: uses: no library CTE {name} in checks/_lib/")
        text = found.read_text(encoding="utf-8").strip()
        for deps in _LIB_USES.finditer(text):
            for dep in filter(None, (d.strip() for d in deps.group("names").split(","))):
                visit(dep, (*chain, name))
        texts[name] = text
        ordered.append(name)

    for name in names:
        visit(name, ())
    return [texts[n] for n in ordered]


def with_library(names: list[str], query: str, path: Path) -> str:
    """A query (of the file at ``path``) with the library CTEs it names put in front: for SQL
    the package runs outside a check, such as the schema snapshot."""
    return compose(_lib_ctes(names, path), query)


def compose(ctes: list[str], query: str) -> str:
    """The query with the library CTEs first in its WITH list (one is added if it has none)."""
    if not ctes:
        return query
    head = ",\n".join(ctes)
    match = _WITH.match(query)
    if match is None:
        return f"with {head}\n{query}"
    recursive = "recursive " if match.group("recursive") else ""
    return f"with {recursive}{head},\n{query[match.end():]}"


def parse_check(path: Path) -> CheckSpec:
    text = path.read_text(encoding="utf-8")
    match = _HEADER.match(text)
    if not match:
        raise PgauditError(f"{path}: a check file starts with a '/* pgaudit' TOML header block")
    try:
        meta = tomli.loads(match.group("toml"))
    except tomli.TOMLDecodeError as exc:
        raise PgauditError(f"{path}: header is not valid TOML: {exc}") from exc
    meta = _with_shared_header(meta, path)
    for computed in ("sql", "query", "path", "applies_sql", "severity_rule", "priority_rule"):
        if computed in meta:
            raise PgauditError(f"{path}: {computed} is computed, not a header key")
    if meta.get("format") != 2:
        # format 1 (the query rated and worded its own rows) was migrated away in issue 11
        raise PgauditError(f"{path}: format = {meta.get('format', 1)!r} is not supported; a check "
                           "file is format = 2 (the query returns facts, the header words and "
                           "rates them: see checks/README.md)")
    try:
        query = _expand_includes(match.group("sql"), path).strip()
        _rules(meta, path)
        ctes = _lib_ctes(list(meta.get("uses", [])), path)
        sql = compose(ctes, query)
        if isinstance(meta.get("applies"), str):
            test = f"select ({meta['applies'].strip()}) as applies"
            meta["applies_sql"] = compose(ctes, test)
        return CheckSpec(**meta, sql=sql, query=query, path=str(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "header"
        raise PgauditError(f"{path}: {where}: {first['msg']}") from exc


_SHARED_HEADER = re.compile(r"^_[\w.-]+\.toml$")


def _with_shared_header(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """The header with the keys of its ``include = "_shared.toml"`` (a TOML file of the same
    folder) under it: the check's own keys win, and a table of both (``[severity]``,
    ``[labels]``) is merged key by key. Checks that share a query (the three timeout settings)
    share their wording, rules and labels this way too."""
    name = meta.pop("include", None)
    if name is None:
        return meta
    if not isinstance(name, str) or not _SHARED_HEADER.match(name):
        raise PgauditError(f"{path}: include names a TOML file of the checks folder starting "
                           f"with _ (include = \"_shared.toml\"), not {name!r}")
    shared_path = path.parent / name
    try:
        shared = tomli.loads(shared_path.read_text(encoding="utf-8"))
    except OSError:
        raise PgauditError(f"{path}: included header {name} does not exist") from None
    except tomli.TOMLDecodeError as exc:
        raise PgauditError(f"{shared_path}: not valid TOML: {exc}") from exc
    merged = {**shared, **meta}
    for key, value in meta.items():
        if isinstance(value, dict) and isinstance(shared.get(key), dict):
            merged[key] = {**shared[key], **value}
    return merged


def _rules(meta: dict[str, Any], path: Path) -> None:
    """Turn a header's [severity] and [priority] tables into rules, in place."""
    severity = meta.get("severity")
    if isinstance(severity, dict):
        rule = parse_rule(severity, LEVELS, f"{path}: severity")
        if rule.default == "ok":
            raise PgauditError(f"{path}: severity: the default cannot be ok")
        meta["severity"], meta["severity_rule"] = rule.default, rule
    priority = meta.get("priority")
    if isinstance(priority, dict):
        rule = parse_rule(priority, PRIORITY_LEVELS, f"{path}: priority")
        meta["priority"], meta["priority_rule"] = rule.default, rule


def discover(dirs: list[Path]) -> dict[str, CheckSpec]:
    """All checks in the given folders, later folders overriding earlier ones by id."""
    specs: dict[str, CheckSpec] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise PgauditError(f"checks folder {folder} does not exist")
        for path in sorted(folder.glob("*.sql")):
            if path.name.startswith("_"):
                continue
            spec = parse_check(path)
            specs[spec.id] = spec
    return dict(sorted(specs.items(), key=lambda kv: (kv[1].section, kv[0])))
