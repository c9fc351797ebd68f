"""Severity and priority rules declared in a check's header, evaluated over a row's facts.

A rule is a default plus, per level, a list of conditions any one of which raises the row to
that level. A condition is one or more comparisons joined by ``and``::

    [severity]
    default = "warning"
    critical = ["est_rows >= critical_rows", "writes_per_s >= critical_writes_per_s"]
    info = ["not referenced and est_rows < 1000"]

An operand is a fact (a column of the check's query), a parameter of the check, a number, a
quoted string, ``true``, ``false`` or ``null``. A comparison with an unknown (null) side is
false, as in SQL. Levels are tried from the most severe down; the first that matches wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pgaudit.errors import PgauditError

_COMPARISON = re.compile(
    r"^\s*(?P<neg>not\s+)?(?P<left>[^\s<>=!]+)\s*(?:(?P<op><=|>=|!=|=|<|>)\s*(?P<right>.+?))?\s*$"
)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Operand:
    name: str | None  # a fact or parameter
    value: Any = None  # a literal

    def resolve(self, facts: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
        if self.name is None:
            return self.value
        if self.name in facts:
            return facts[self.name]
        return params.get(self.name)


@dataclass(frozen=True)
class Comparison:
    left: Operand
    op: str | None  # None: the left side's truth
    right: Operand | None
    negate: bool

    def holds(self, facts: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
        left = self.left.resolve(facts, params)
        if self.op is None or self.right is None:
            truth = bool(left)
        else:
            right = self.right.resolve(facts, params)
            truth = _compare(left, self.op, right)
        return not truth if self.negate else truth


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or right is None:
        return False  # unknown, as in SQL
    try:
        if op == "=":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def _operand(text: str) -> Operand:
    text = text.strip()
    if text in _LITERALS:
        return Operand(None, _LITERALS[text])
    if _NUMBER.match(text):
        return Operand(None, float(text) if any(c in text for c in ".eE") else int(text))
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return Operand(None, text[1:-1])
    if _NAME.match(text):
        return Operand(text)
    raise ValueError(f"{text!r} is not a fact, parameter or literal")


@dataclass(frozen=True)
class Condition:
    text: str
    terms: tuple[Comparison, ...]

    @classmethod
    def parse(cls, text: str) -> Condition:
        terms: list[Comparison] = []
        for part in re.split(r"\s+and\s+", text.strip()):
            m = _COMPARISON.match(part)
            if not m:
                raise ValueError(f"cannot read condition {text!r}")
            right = m.group("right")
            terms.append(
                Comparison(
                    left=_operand(m.group("left")),
                    op=m.group("op"),
                    right=_operand(right) if right is not None else None,
                    negate=bool(m.group("neg")),
                )
            )
        return cls(text, tuple(terms))

    def holds(self, facts: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
        # a loop, not all(<generator>): run once per finding per condition, the generator costs
        for t in self.terms:  # noqa: SIM110
            if not t.holds(facts, params):
                return False
        return True

    def names(self) -> set[str]:
        found: set[str] = set()
        for t in self.terms:
            for side in (t.left, t.right):
                if side is not None and side.name is not None:
                    found.add(side.name)
        return found


# most severe first: the first level whose condition holds wins
LEVELS = ("critical", "warning", "info", "ok")
PRIORITY_LEVELS = ("immediate", "high", "medium", "low")


@dataclass(frozen=True)
class Rule:
    default: str
    when: tuple[tuple[str, tuple[Condition, ...]], ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | str, levels: Sequence[str]) -> Rule:
        if isinstance(raw, str):
            raw = {"default": raw}
        default = raw.get("default")
        if not isinstance(default, str) or default not in levels:
            raise ValueError(f"default must be one of {', '.join(levels)}")
        when: list[tuple[str, tuple[Condition, ...]]] = []
        for key, conds in raw.items():
            if key == "default":
                continue
            if key not in levels:
                raise ValueError(f"unknown level {key!r}; use {', '.join(levels)}")
            if isinstance(conds, str):
                conds = [conds]
            when.append((key, tuple(Condition.parse(c) for c in conds)))
        when.sort(key=lambda item: levels.index(item[0]))
        return cls(default, tuple(when))

    def level(self, facts: Mapping[str, Any], params: Mapping[str, Any]) -> str:
        for level, conds in self.when:
            for c in conds:
                if c.holds(facts, params):
                    return level
        return self.default

    def names(self) -> set[str]:
        return {n for _, conds in self.when for c in conds for n in c.names()}

    def levels(self) -> set[str]:
        return {self.default, *(level for level, _ in self.when)}

    def describe(self) -> list[tuple[str, list[str]]]:
        """For the docs: each level with the conditions that raise a row to it."""
        return [(level, [c.text for c in conds]) for level, conds in self.when]


def parse_rule(raw: Any, levels: Sequence[str], where: str) -> Rule:
    try:
        return Rule.parse(raw, levels)
    except ValueError as exc:
        raise PgauditError(f"{where}: {exc}") from None
