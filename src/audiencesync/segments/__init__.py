"""Segment definitions: the rule language, ``--where`` conditions, compilation.

A definition is either rules (:func:`parse_rules`, :func:`parse_rules_text`) or an
SQL condition (:func:`parse_where`). :func:`members_query` and :func:`count_query`
compile it against an engine's :class:`~audiencesync.profiles.catalog.Catalog`
into sqlglot queries that every engine renders in its own dialect. The language
is described in ``docs/segments.md``.
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
from audiencesync.segments.names import MAX_NAME_LENGTH, name_key, normalize_name
from audiencesync.segments.operators import OPERATORS
from audiencesync.segments.parsing import parse_rules, parse_rules_text

if TYPE_CHECKING:
    from audiencesync.segments.compiler import (
        compile_condition,
        count_query,
        members_query,
    )
    from audiencesync.segments.where import parse_where

# Loaded on first use: these need sqlglot (about 0.1 s to import), which a command
# that only reads segments (a run with nothing new to send) never loads.
_LAZY = {
    "compile_condition": "audiencesync.segments.compiler",
    "count_query": "audiencesync.segments.compiler",
    "members_query": "audiencesync.segments.compiler",
    "parse_where": "audiencesync.segments.where",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "MAX_NAME_LENGTH",
    "OPERATORS",
    "Condition",
    "Definition",
    "Exists",
    "Group",
    "Node",
    "Not",
    "RulesDefinition",
    "WhereDefinition",
    "compile_condition",
    "count_query",
    "definition_from_json",
    "definition_to_json",
    "describe",
    "members_query",
    "name_key",
    "normalize_name",
    "parse_rules",
    "parse_rules_text",
    "parse_where",
]
