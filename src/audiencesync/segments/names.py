"""Segment names: what is allowed, and when two names are the same.

A segment's name becomes its Iterable list's name exactly, so any printable
character is fine; only surrounding whitespace is trimmed. Control and invisible
characters are refused (:mod:`audiencesync.core.naming`).
"""

from __future__ import annotations

import unicodedata

from audiencesync.core.naming import MAX_NAME_LENGTH, clean_name
from audiencesync.errors import RuleError

__all__ = ["MAX_NAME_LENGTH", "name_key", "normalize_name"]


def normalize_name(raw: str) -> str:
    """``raw`` trimmed, or a RuleError saying why it cannot name a segment."""
    empty = 'A segment needs a name, e.g. "VIP customers in France".'
    return clean_name(raw, subject="segment", empty=empty, error=RuleError)


def name_key(name: str) -> str:
    """The key two names share when they name the same segment ("VIP" ~ "vip")."""
    return unicodedata.normalize("NFC", name.strip()).casefold()
