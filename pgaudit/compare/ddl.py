"""The DDL that would make B like A, one difference at a time.

Only what is safe to run on a live database is written as a statement: indexes built and dropped
CONCURRENTLY (REINDEX CONCURRENTLY for an invalid one), foreign keys and checks added NOT VALID
then validated (which takes only a SHARE UPDATE EXCLUSIVE lock), unique and primary keys from an
index built CONCURRENTLY. Everything else is written commented out, every line of it, so that
pasting the script runs nothing else: a table rewrite, a drop or a setting is a decision for the
DBA. Every identifier we write is double-quoted; deparsed text (an index or constraint
definition) comes from the server, which quotes what needs it.
"""

from __future__ import annotations

import re
from typing import Any

from pgaudit.compare.catalog import Catalog
from pgaudit.compare.diff import Comparison, Difference, Statement

_NEWLINES = re.compile(r"\r\n|\r|\n")
_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX ")
_NOT_VALID = re.compile(r"\s+NOT VALID$")
_CONSTRAINT_TYPES = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check",
                     "x": "exclusion", "t": "trigger", "n": "not null"}


def quote(name: str) -> str:
    """An identifier, always double-quoted (a name can be anything, even a keyword)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string literal (standard_conforming_strings: only quotes are doubled)."""
    return "'" + text.replace("'", "''") + "'"


def commented(text: str) -> str:
    """Every line a ``--`` comment: a newline inside a name cannot end the comment."""
    return "\n".join("-- " + line for line in _NEWLINES.split(text))


def script(statements: list[Statement]) -> str:
    """The statements as a script: active ones as they are, the others commented out."""
    parts = []
    for s in statements:
        note = commented(s.note) + "\n" if s.note else ""
        parts.append(note + (s.sql if s.active else commented(s.sql)))
    return "\n".join(parts)


def _rel(schema: str, name: str) -> str:
    return f"{quote(schema)}.{quote(name)}"


def _on(s: Statement) -> list[Statement]:
    return [s]


def _off(sql: str, note: str = "") -> list[Statement]:
    return [Statement(sql, False, note)]


def statements(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    """What makes B like A for this difference (nothing for version-driven ones)."""
    if d.version_driven is not None:
        return []
    handler = _HANDLERS.get(d.kind)
    return handler(d, a, b) if handler else []


def _index(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, table, name = d.key
    target = _rel(schema, name)
    if d.state == "only_in_b":
        return _on(Statement(f"DROP INDEX CONCURRENTLY {target};", True))
    assert d.a is not None
    definition = str(d.a.get("definition") or "")
    constraint = a.objects.get(("constraint", schema, table, name))
    if constraint and constraint.get("type") in ("p", "u", "x"):
        return _off(f"built by the constraint {quote(name)}: see the constraint")
    partitioned = (a.objects.get(("table", schema, "", table)) or {}).get("kind")
    create = _CREATE_INDEX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX CONCURRENTLY ",
                               definition) + ";"
    if partitioned == "partitioned table":
        return _off(definition + ";", "a partitioned table's index cannot be built "
                    "CONCURRENTLY: build it on each partition first, then ON ONLY the parent "
                    "and ATTACH them")
    if d.state == "only_in_a":
        return _on(Statement(create, True))
    changed = {c.attribute for c in d.changes}
    if changed == {"valid"} and d.a.get("valid"):
        return _on(Statement(f"REINDEX INDEX CONCURRENTLY {target};", True,
                             "invalid in B: rebuilt"))
    return [Statement(f"DROP INDEX CONCURRENTLY {target};", True),
            Statement(create, True)]


def _constraint(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, parent, name = d.key
    on_table = ("table", schema, "", parent) in {**a.objects, **b.objects}
    alter = f"ALTER {'TABLE' if on_table else 'DOMAIN'} {_rel(schema, parent)}"
    if d.state == "only_in_b":
        return _off(f"{alter} DROP CONSTRAINT {quote(name)};", "only in B")
    assert d.a is not None
    ctype = str(d.a.get("type") or "")
    definition = _NOT_VALID.sub("", str(d.a.get("definition") or ""))
    validated = bool(d.a.get("validated"))
    if d.state == "differs" and {c.attribute for c in d.changes} == {"validated"}:
        if validated:
            return _on(Statement(f"{alter} VALIDATE CONSTRAINT {quote(name)};", True))
        return _off(f"{quote(name)} is validated in B, not in A: nothing to undo")
    drop = ([Statement(f"{alter} DROP CONSTRAINT {quote(name)};", False, "B's version")]
            if d.state == "differs" else [])
    if ctype in ("f", "c"):
        add = Statement(f"{alter} ADD CONSTRAINT {quote(name)} {definition} NOT VALID;", True)
        check = ([Statement(f"{alter} VALIDATE CONSTRAINT {quote(name)};", True)]
                 if validated else [])
        if drop:  # the drop is commented out: so is what depends on it
            add.active = False
            for s in check:
                s.active = False
        return [*drop, add, *check]
    index = a.objects.get(("index", schema, parent, name))
    if ctype in ("p", "u") and on_table and index and not drop:
        create = _CREATE_INDEX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX CONCURRENTLY ",
                                   str(index.get("definition") or "")) + ";"
        word = "PRIMARY KEY" if ctype == "p" else "UNIQUE"
        return [Statement(create, True, "the index first, without blocking writes"),
                Statement(f"{alter} ADD CONSTRAINT {quote(name)} {word} USING INDEX "
                          f"{quote(name)};", True)]
    what = _CONSTRAINT_TYPES.get(ctype, ctype)
    return [*drop, *_off(f"{alter} ADD CONSTRAINT {quote(name)} {definition};",
                         f"a {what} constraint cannot be added without a lock: plan it")]


def _column_sql(name: str, attrs: dict[str, Any]) -> str:
    text = f"{quote(name)} {attrs.get('type')}"
    if attrs.get("identity"):
        text += f" GENERATED {str(attrs['identity']).upper()} AS IDENTITY"
    if attrs.get("generated"):
        text += f" GENERATED ALWAYS AS ({attrs['generated']}) STORED"
    if attrs.get("default") is not None:
        text += f" DEFAULT {attrs['default']}"
    if attrs.get("not_null"):
        text += " NOT NULL"
    return text


def _column(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, table, name = d.key
    alter = f"ALTER TABLE {_rel(schema, table)}"
    if d.state == "only_in_b":
        return _off(f"{alter} DROP COLUMN {quote(name)};", "only in B")
    assert d.a is not None
    if d.state == "only_in_a":
        return _off(f"{alter} ADD COLUMN {_column_sql(name, d.a)};")
    out: list[Statement] = []
    col = f"{alter} ALTER COLUMN {quote(name)}"
    for c in d.changes:
        if c.attribute == "type":
            out += _off(f"{col} TYPE {c.a};", "rewrites the table under an exclusive lock")
        elif c.attribute == "not_null":
            out += _off(f"{col} {'SET' if c.a else 'DROP'} NOT NULL;")
        elif c.attribute == "default":
            out += _off(f"{col} SET DEFAULT {c.a};" if c.a is not None
                        else f"{col} DROP DEFAULT;")
        else:
            out += _off(f"{c.attribute}: {c.a} in A, {c.b} in B: recreate the column")
    return out


def _table(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, _, name = d.key
    rel = _rel(schema, name)
    if d.state == "only_in_b":
        return _off(f"DROP TABLE {rel};", "only in B")
    assert d.a is not None
    if d.state == "only_in_a":
        columns = [_column_sql(k[3], v) for k, v in a.objects.items()
                   if k[0] == "column" and k[1] == schema and k[2] == name]
        body = ",\n  ".join(columns)
        unlogged = "UNLOGGED " if d.a.get("persistence") == "unlogged" else ""
        tail = f" PARTITION BY {d.a['partition_key']}" if d.a.get("partition_key") else ""
        if d.a.get("partition_of"):
            return _off(f"CREATE TABLE {rel} PARTITION OF {d.a['partition_of']} "
                        f"{d.a.get('partition_bound')};")
        return _off(f"CREATE {unlogged}TABLE {rel} (\n  {body}\n){tail};")
    out: list[Statement] = []
    for c in d.changes:
        if c.attribute == "rls_enabled":
            out += _off(f"ALTER TABLE {rel} {'ENABLE' if c.a else 'DISABLE'} ROW LEVEL SECURITY;")
        elif c.attribute == "rls_forced":
            out += _off(f"ALTER TABLE {rel} {'' if c.a else 'NO '}FORCE ROW LEVEL SECURITY;")
        elif c.attribute == "persistence":
            out += _off(f"ALTER TABLE {rel} SET {'UNLOGGED' if c.a == 'unlogged' else 'LOGGED'};",
                        "rewrites the table")
        else:
            out += _off(f"{c.attribute}: {c.a} in A, {c.b} in B: recreate the table")
    return out


def _view(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    kind, schema, _, name = d.key
    word = "MATERIALIZED VIEW" if kind == "materialized_view" else "VIEW"
    rel = _rel(schema, name)
    if d.state == "only_in_b":
        return _off(f"DROP {word} {rel};", "only in B")
    assert d.a is not None
    out: list[Statement] = []
    if d.state == "only_in_a" or any(c.attribute == "definition" for c in d.changes):
        create = "CREATE OR REPLACE VIEW" if kind == "view" else f"CREATE {word}"
        out += _off(f"{create} {rel} AS\n{str(d.a.get('definition') or '').strip()}")
    if any(c.attribute == "owner" for c in d.changes):
        out += _off(f"ALTER {word} {rel} OWNER TO {quote(str(d.a.get('owner')))};")
    return out


def _function(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, _, _name = d.key
    attrs = d.a or d.b or {}
    target = f"{quote(schema)}.{quote(str(attrs.get('_name')))}({attrs.get('_args', '')})"
    if d.state == "only_in_b":
        return _off(f"DROP FUNCTION {target};", "only in B")
    assert d.a is not None
    out: list[Statement] = []
    changed = {c.attribute for c in d.changes}
    if d.state == "only_in_a" or "definition" in changed:
        out += _off(str(d.a.get("definition") or "").strip() + ";", "A's definition")
    if d.state == "differs":
        if "owner" in changed:
            out += _off(f"ALTER FUNCTION {target} OWNER TO {quote(str(d.a.get('owner')))};")
        if "security_definer" in changed and "definition" not in changed:
            word = "SECURITY DEFINER" if d.a.get("security_definer") else "SECURITY INVOKER"
            out += _off(f"ALTER FUNCTION {target} {word};")
        if "search_path" in changed and "definition" not in changed:
            path = d.a.get("search_path")
            out += _off(f"ALTER FUNCTION {target} SET search_path = {path};" if path
                        else f"ALTER FUNCTION {target} RESET search_path;")
    return out


def _trigger(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, table, name = d.key
    drop = f"DROP TRIGGER {quote(name)} ON {_rel(schema, table)};"
    if d.state == "only_in_b":
        return _off(drop, "only in B")
    assert d.a is not None
    out = _off(drop, "B's version") if d.state == "differs" else []
    return out + _off(str(d.a.get("definition") or "") + ";")


def _sequence(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, _, name = d.key
    rel = _rel(schema, name)
    if d.state == "only_in_b":
        return _off(f"DROP SEQUENCE {rel};", "only in B")
    x = d.a or {}
    options = (f"AS {x.get('type')} INCREMENT BY {x.get('increment')} MINVALUE {x.get('min')} "
               f"MAXVALUE {x.get('max')} START WITH {x.get('start')} CACHE {x.get('cache')} "
               f"{'' if x.get('cycle') else 'NO '}CYCLE")
    verb = "CREATE" if d.state == "only_in_a" else "ALTER"
    return _off(f"{verb} SEQUENCE {rel} {options};")


def _enum(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, _, name = d.key
    rel = _rel(schema, name)
    if d.state == "only_in_b":
        return _off(f"DROP TYPE {rel};", "only in B")
    labels = [str(v) for v in (d.a or {}).get("labels") or []]
    if d.state == "only_in_a":
        return _off(f"CREATE TYPE {rel} AS ENUM ({', '.join(literal(v) for v in labels)});")
    have = [str(v) for v in (d.b or {}).get("labels") or []]
    out: list[Statement] = []
    for i, label in enumerate(labels):
        if label not in have:
            where = f" AFTER {literal(labels[i - 1])}" if i else (
                f" BEFORE {literal(have[0])}" if have else "")
            out += _off(f"ALTER TYPE {rel} ADD VALUE {literal(label)}{where};")
    if not out:
        out += _off("the labels' order differs: an enum's labels cannot be reordered")
    return out


def _domain(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, _, name = d.key
    rel = _rel(schema, name)
    if d.state == "only_in_b":
        return _off(f"DROP DOMAIN {rel};", "only in B")
    x = d.a or {}
    if d.state == "only_in_a":
        default = f" DEFAULT {x['default']}" if x.get("default") is not None else ""
        return _off(f"CREATE DOMAIN {rel} AS {x.get('type')}{default}"
                    f"{' NOT NULL' if x.get('not_null') else ''};")
    out: list[Statement] = []
    for c in d.changes:
        if c.attribute == "default":
            out += _off(f"ALTER DOMAIN {rel} SET DEFAULT {c.a};" if c.a is not None
                        else f"ALTER DOMAIN {rel} DROP DEFAULT;")
        elif c.attribute == "not_null":
            out += _off(f"ALTER DOMAIN {rel} {'SET' if c.a else 'DROP'} NOT NULL;")
        else:
            out += _off(f"{c.attribute}: {c.a} in A, {c.b} in B: recreate the domain")
    return out


def _policy(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, table, name = d.key
    drop = f"DROP POLICY {quote(name)} ON {_rel(schema, table)};"
    if d.state == "only_in_b":
        return _off(drop, "only in B")
    x = d.a or {}
    roles = ", ".join(r if r == "PUBLIC" else quote(r)
                      for r in str(x.get("roles") or "PUBLIC").split(", "))
    text = (f"CREATE POLICY {quote(name)} ON {_rel(schema, table)} AS "
            f"{'PERMISSIVE' if x.get('permissive') else 'RESTRICTIVE'} FOR {x.get('command')} "
            f"TO {roles}")
    if x.get("using"):
        text += f" USING ({x['using']})"
    if x.get("with_check"):
        text += f" WITH CHECK ({x['with_check']})"
    out = _off(drop, "B's version") if d.state == "differs" else []
    return out + _off(text + ";")


def _grant(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _kind, schema, obj, grantee = d.key
    what, _, name = obj.partition(" ")
    if what == "schema":
        target = f"SCHEMA {quote(schema)}"
    elif what == "function":
        fn = a.objects.get(("function", schema, "", name)) or b.objects.get(
            ("function", schema, "", name)) or {}
        target = f"FUNCTION {quote(schema)}.{quote(str(fn.get('_name')))}({fn.get('_args', '')})"
    else:
        target = f"{what.upper()} {_rel(schema, name)}"
    who = "PUBLIC" if grantee == "PUBLIC" else quote(grantee)
    have = _privileges((d.b or {}).get("privileges"))
    want = _privileges((d.a or {}).get("privileges"))
    out: list[Statement] = []
    for p in sorted(want - have):
        base, _, _option = p.partition(" with grant option")
        extra = " WITH GRANT OPTION" if p.endswith("with grant option") else ""
        out += _off(f"GRANT {base} ON {target} TO {who}{extra};")
    for p in sorted(have - want):
        base = p.split(" with grant option")[0]
        out += _off(f"REVOKE {base} ON {target} FROM {who};")
    return out


def _privileges(text: Any) -> set[str]:
    return {p for p in str(text or "").split(", ") if p}


def _extension(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    name = quote(d.key[3])
    if d.state == "only_in_b":
        return _off(f"DROP EXTENSION {name};", "only in B")
    version = literal(str((d.a or {}).get("version")))
    if d.state == "only_in_a":
        return _off(f"CREATE EXTENSION {name} VERSION {version};")
    return _off(f"ALTER EXTENSION {name} UPDATE TO {version};")


def _setting(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    name = d.key[3]
    if d.a is None:
        return _off(f"ALTER SYSTEM RESET {quote(name)};", "only in B")
    return _off(f"ALTER SYSTEM SET {quote(name)} = {literal(str(d.a.get('value')))};",
                "then SELECT pg_reload_conf(), or a restart for some settings")


def _role_setting(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    _, _, where, role = d.key
    who = "ALL" if role == "every role" else quote(role)
    scope = f" IN DATABASE {quote(b.database)}" if where == "this database" else ""
    x, y = d.a or {}, d.b or {}
    out: list[Statement] = []
    for name in dict.fromkeys([*x, *y]):
        if name in x and x.get(name) != y.get(name):
            out += _off(f"ALTER ROLE {who}{scope} SET {quote(name)} = {literal(str(x[name]))};")
        elif name not in x:
            out += _off(f"ALTER ROLE {who}{scope} RESET {quote(name)};")
    return out


def _schema(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    name = quote(d.key[3])
    if d.state == "only_in_b":
        return _off(f"DROP SCHEMA {name};", "only in B")
    return _off(f"CREATE SCHEMA {name};")


def _server(d: Difference, a: Catalog, b: Catalog) -> list[Statement]:
    return _off(f"A runs PostgreSQL {a.server_version}, B {b.server_version}: no DDL makes "
                "B like A; upgrade one of them")


_HANDLERS = {
    "index": _index, "constraint": _constraint, "column": _column, "table": _table,
    "view": _view, "materialized_view": _view, "function": _function, "trigger": _trigger,
    "sequence": _sequence, "enum": _enum, "domain": _domain, "policy": _policy, "grant": _grant,
    "extension": _extension, "setting": _setting, "role_setting": _role_setting,
    "schema": _schema, "server": _server,
}  # fmt: skip


def attach(comparison: Comparison) -> None:
    """Fill every difference's DDL."""
    a, b = comparison.a.catalog, comparison.b.catalog
    for d in comparison.differences:
        d.ddl = statements(d, a, b)


def full_script(comparison: Comparison) -> str:
    """All the DDL, in the report's order: the file a DBA reviews before running it."""
    parts = [f"-- pgaudit compare: the DDL that would make B ({comparison.b.shown}) like A "
             f"({comparison.a.shown})"]
    parts[0] = commented(parts[0][3:])
    for d in comparison.drift:
        if d.ddl:
            parts.append(commented(f"{d.kind}: {d.name}") + "\n" + script(d.ddl))
    return "\n\n".join(parts) + "\n"
