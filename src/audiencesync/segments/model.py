"""The rule model: conditions, groups, negations, exists tests, definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on one column: ``field`` ``op`` ``value``."""

    field: str
    op: str
    value: object


@dataclass(frozen=True, slots=True)
class Group:
    """All (``and``) or any (``or``) of its items hold."""

    mode: Literal["all", "any"]
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Its item does not hold."""

    item: Node


@dataclass(frozen=True, slots=True)
class Exists:
    """The profile has a row in ``table`` (matching ``where``, when given)."""

    table: str
    where: Node | None


Node: TypeAlias = Condition | Group | Not | Exists


@dataclass(frozen=True, slots=True)
class RulesDefinition:
    """A segment defined by a tree of rules."""

    root: Node
    kind: ClassVar[str] = "rules"


@dataclass(frozen=True, slots=True)
class WhereDefinition:
    """A segment defined by an SQL condition (see :func:`parse_where`)."""

    sql: str
    kind: ClassVar[str] = "where"


Definition: TypeAlias = RulesDefinition | WhereDefinition
