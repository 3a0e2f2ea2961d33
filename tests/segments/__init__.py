"""Tests of segment definitions: the rule language, --where, compilation."""

from __future__ import annotations
