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


PAGE_ENDINGS = ("/preview", "/counts", "/explain")
"""The REST API's pages of a segment: ``/segments/{name}/counts``..."""


def normalize_name(raw: str) -> str:
    """``raw`` trimmed, or a RuleError saying why it cannot name a segment.

    A name may hold ``/``, but cannot end in one of :data:`PAGE_ENDINGS`: the
    REST API could not tell the segment from that page of another segment.
    """
    empty = 'A segment needs a name, e.g. "VIP customers in France".'
    name = clean_name(raw, subject="segment", empty=empty, error=RuleError)
    for ending in PAGE_ENDINGS:
        if name.endswith(ending):
            msg = (
                f"A segment name cannot end in {ending!r}: the REST API reads that"
                f" as the {ending[1:]} page of segment {name[: -len(ending)]!r}."
                " Choose another name."
            )
            raise RuleError(msg, field="name")
    return name


def name_key(name: str) -> str:
    """The key two names share when they name the same segment ("VIP" ~ "vip")."""
    return unicodedata.normalize("NFC", name.strip()).casefold()
