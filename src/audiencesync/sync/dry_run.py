"""A dry run's segment: the list it would use and its plan; nothing is written.

Only Iterable's read endpoint ``GET /api/lists`` is called: no list is created,
nothing is sent, the sync state is only read, and no lock is taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audiencesync.errors import EvaluationError
from audiencesync.store.runs import RunSegment
from audiencesync.sync.checkpoints import record_list
from audiencesync.sync.outcomes import SegmentOutcome
from audiencesync.sync.owners import ListClaimError, check_claim, refused
from audiencesync.sync.segment_pass import (
    ensure_plan,
    open_part,
    set_status,
    unevaluable,
)
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.sync.segment_pass import Part, PassContext


async def dry_run_segment(ctx: PassContext, segment: tuple[int, str]) -> SegmentOutcome:
    """Plan one segment and record the list it would use (adopted, created...)."""
    part = open_part(ctx, segment)
    set_status(ctx, part.id, RunStatus.RUNNING)
    try:
        list_id, action = await _would_use(ctx, part)
    except ListClaimError as exc:
        return refused(ctx, part, exc)
    with ctx.env.database.session() as session:
        record_list(session, part.id, list_id=list_id, action=action)
    try:
        ensure_plan(ctx, part)
    except EvaluationError as exc:
        return unevaluable(ctx, part, exc)
    set_status(ctx, part.id, RunStatus.SUCCEEDED)
    with ctx.env.database.session() as session:
        invalid = session.get_one(RunSegment, part.id).invalid_in_source
    return SegmentOutcome(rejected=invalid > 0)


async def _would_use(ctx: PassContext, part: Part) -> tuple[int | None, str]:
    """The list a real run would feed and how it would get it (the same refusals)."""
    list_id = part.list_id
    if list_id is None:
        list_id = await ctx.lists.find(part.name)
        if list_id is None:
            return None, "created"
        check_claim(ctx, part, list_id)
        return list_id, "adopted"
    check_claim(ctx, part, list_id)
    if await ctx.lists.exists(list_id):
        return list_id, "existing"
    return None, "recreated"
