"""Segment definitions: the rule language, ``--where`` conditions, compilation.

A definition is either rules (:func:`parse_rules`, :func:`parse_rules_text`) or an
SQL condition (:func:`parse_where`). :func:`members_query` and :func:`count_query`
compile it against an engine's :class:`~audiencesync.profiles.catalog.Catalog`
into sqlglot queries that every engine renders in its own dialect. The language
is described in ``docs/segments.md``.
"""

from __future__ import annotations

from audiencesync.segments.compiler import compile_condition, count_query, members_query
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
from audiencesync.segments.where import parse_where

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
