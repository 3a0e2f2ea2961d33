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
from audiencesync.sync.segment_pass import (
    ensure_plan,
    open_part,
    set_status,
    unevaluable,
)
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.sync.segment_pass import PassContext


async def dry_run_segment(ctx: PassContext, segment: tuple[int, str]) -> SegmentOutcome:
    """Plan one segment and record the list it would use (adopted, created...)."""
    part = open_part(ctx, segment)
    set_status(ctx, part.id, RunStatus.RUNNING)
    list_id = part.list_id
    if list_id is None:
        list_id = await ctx.lists.find(part.name)
        action = "adopted" if list_id is not None else "created"
    elif await ctx.lists.exists(list_id):
        action = "existing"
    else:
        list_id, action = None, "recreated"
    with ctx.workspace.database.session() as session:
        record_list(session, part.id, list_id=list_id, action=action)
    try:
        ensure_plan(ctx, part)
    except EvaluationError as exc:
        return unevaluable(ctx, part, exc)
    set_status(ctx, part.id, RunStatus.SUCCEEDED)
    with ctx.workspace.database.session() as session:
        invalid = session.get_one(RunSegment, part.id).invalid_in_source
    return SegmentOutcome(rejected=invalid > 0)
