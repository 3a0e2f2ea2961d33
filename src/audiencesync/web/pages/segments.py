"""Data > Segments: every segment, its member count and the trend of its counts.

One page shows :data:`PAGE` segments; their latest counts and their counts
histories are read in a fixed number of queries (the service's ``list_page`` and
``histories``), so the page stays fast with hundreds of segments. Each trend is
an inline SVG sparkline drawn here, with a text alternative.

A segment's name may hold any character, ``/`` included, so the segment pages
take it as a query parameter (``/segments/view?name=...``): no name can be
mistaken for another page (see :mod:`segments_detail`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from audiencesync.auth.roles import ALLOWED, Action, Actor
from audiencesync.segments.records import EvaluationRecord
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 50  # segments per page
TREND = 30  # evaluations a trend shows at most
WIDTH, HEIGHT, PAD = 120, 28, 2  # the sparkline's box, in SVG units


@dataclass(frozen=True, slots=True)
class Trend:
    """A counts history as a sparkline: its points, first and last counts."""

    points: str
    first: int
    last: int
    evaluations: int


@dataclass(frozen=True, slots=True)
class Row:
    """One segment of the list."""

    name: str
    member_count: int | None
    evaluated_at: datetime | None
    trend: Trend | None
    evaluations: int
    failed: bool


def segment_url(name: str, page: str = "view") -> str:
    """The page of segment ``name`` (``view``, ``edit`` or ``remove``)."""
    return f"/segments/{page}?{urlencode({'name': name})}"


def may_edit(actor: Actor) -> bool:
    """Whether the user's role changes segments (the service checks it anyway)."""
    return actor.role in ALLOWED[Action.EDIT_SEGMENTS]


def trend_of(history: list[EvaluationRecord]) -> Trend | None:
    """The sparkline of a history (newest first), oldest at the left.

    Failed evaluations (no count) are left out; under two counts, no trend.
    """
    counts = [r.member_count for r in reversed(history) if r.member_count is not None]
    if len(counts) < 2:
        return None
    low, high = min(counts), max(counts)
    step = (WIDTH - 2 * PAD) / (len(counts) - 1)

    def height(count: int) -> float:
        if high == low:
            return HEIGHT / 2  # a steady count: a level line through the middle
        return HEIGHT - PAD - (count - low) / (high - low) * (HEIGHT - 2 * PAD)

    points = " ".join(
        f"{PAD + index * step:.1f},{height(count):.1f}"
        for index, count in enumerate(counts)
    )
    return Trend(points, counts[0], counts[-1], len(counts))


@router.get("/segments")
def segments_page(
    request: Request,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    removed: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """One page of segments by name (signed-in users of every role)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    with session.context_of(request).workspace(seen.actor) as workspace:
        infos, total = workspace.segments.list_page(limit=PAGE, offset=offset)
        histories = workspace.segments.histories(
            [info.name for info in infos], limit=TREND
        )
    rows = [
        Row(
            name=info.name,
            member_count=info.member_count,
            evaluated_at=info.evaluated_at,
            trend=trend_of(histories.get(info.name, [])),
            evaluations=len(histories.get(info.name, [])),
            failed=info.last is not None and info.last.error is not None,
        )
        for info in infos
    ]
    return render(
        request, "segments.html", user=seen.actor, csrf=seen.csrf, rows=rows,
        total=total, offset=offset, page_size=PAGE, may_edit=may_edit(seen.actor),
        segment_url=segment_url, removed=removed, section="segments",
        width=WIDTH, height=HEIGHT,
    )  # fmt: skip
