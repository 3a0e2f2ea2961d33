"""Segment names: what is allowed, and when two names are the same.

A segment's name becomes its Iterable list's name exactly, so any printable
character is fine; only surrounding whitespace is trimmed.
"""

from __future__ import annotations

import unicodedata

from audiencesync.errors import RuleError

MAX_NAME_LENGTH = 255

# Control characters (tabs, line breaks, ...) and Unicode line/paragraph breaks.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def normalize_name(raw: str) -> str:
    """``raw`` trimmed, or a RuleError saying why it cannot name a segment."""
    name = raw.strip()
    if not name:
        msg = 'A segment needs a name, e.g. "VIP customers in France".'
        raise RuleError(msg)
    if len(name) > MAX_NAME_LENGTH:
        msg = (
            f"The segment name is {len(name)} characters long; the limit is"
            f" {MAX_NAME_LENGTH}. Choose a shorter name."
        )
        raise RuleError(msg)
    for position, char in enumerate(name, start=1):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            msg = (
                "Segment names cannot contain tabs, line breaks or other control"
                f" characters (found U+{ord(char):04X} at character {position})."
            )
            raise RuleError(msg)
    return name


def name_key(name: str) -> str:
    """The key two names share when they name the same segment ("VIP" ~ "vip")."""
    return unicodedata.normalize("NFC", name.strip()).casefold()
