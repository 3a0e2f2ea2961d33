"""The query parameters of every list: ``limit`` (1..500, default 50), ``offset``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_OFFSET = 1_000_000_000  # past any list, and in the database's integer range

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description="How many items, at most.")
]
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip.")
]
