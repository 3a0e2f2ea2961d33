"""Parameters many routes share: a ``{name}`` in the path, ``limit`` and ``offset``.

Every list route takes ``limit`` (1..500, default 50) and ``offset`` (0 or more)
and answers :class:`~audiencesync.app.views.Page`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Path, Query

from audiencesync.app.views import Page, View

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items at most.")]
Offset = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip.")
]

NamePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=255,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="The resource's name (any case), URL-encoded.",
    ),
]
"""A ``{name}`` path parameter: a name as names are (no control characters)."""

ItemT = TypeVar("ItemT", bound=View)


def page_of(items: Sequence[ItemT], *, limit: int, offset: int) -> Page[ItemT]:
    """The page of ``items`` from ``offset``, at most ``limit`` long."""
    return Page[ItemT](
        items=list(items[offset : offset + limit]),
        total=len(items),
        limit=limit,
        offset=offset,
    )
