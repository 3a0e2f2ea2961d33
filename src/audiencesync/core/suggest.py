"""Help for a mistyped name: the closest known one, and a short list of them all.

Used by every "unknown column / time zone / ..." message, so they all suggest the
same way: a name differing only in case first, else the closest by spelling.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence

LISTED = 30


def closest(name: str, names: Collection[str]) -> str | None:
    """The known name ``name`` most likely meant, or None when none is close."""
    same_letters = [known for known in names if known.casefold() == name.casefold()]
    if same_letters:
        return same_letters[0]
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
    return close[0] if close else None


def listed(names: Sequence[str], *, limit: int = LISTED) -> str:
    """``a, b, c, and 12 more`` (or ``none``)."""
    shown = ", ".join(names[:limit])
    hidden = len(names) - limit
    return f"{shown}, and {hidden} more" if hidden > 0 else shown or "none"
