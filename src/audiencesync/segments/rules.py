"""The public face of segment definitions: the rule model and its JSON form.

A definition is either a tree of rules (conditions, groups, negations and
``exists`` tests on related tables) or an SQL condition typed with ``--where``.
Import from here (or from :mod:`audiencesync.segments`); the modules behind it
are :mod:`.model`, :mod:`.parsing`, :mod:`.where`, :mod:`.definitions` and
:mod:`.description`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from audiencesync.segments.definitions import definition_from_json, definition_to_json
from audiencesync.segments.description import describe
from audiencesync.segments.model import (
    Condition,
    Definition,
    Exists,
    Group,
    Node,
    Not,
    RulesDefinition,
    WhereDefinition,
)
from audiencesync.segments.parsing import parse_rules, parse_rules_text

if TYPE_CHECKING:
    from audiencesync.segments.where import parse_where


def __getattr__(name: str) -> object:
    # parse_where is loaded on first use: it needs sqlglot (see the package's).
    if name == "parse_where":
        return importlib.import_module("audiencesync.segments.where").parse_where
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "Condition",
    "Definition",
    "Exists",
    "Group",
    "Node",
    "Not",
    "RulesDefinition",
    "WhereDefinition",
    "definition_from_json",
    "definition_to_json",
    "describe",
    "parse_rules",
    "parse_rules_text",
    "parse_where",
]
