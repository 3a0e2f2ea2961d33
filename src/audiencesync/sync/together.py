"""A run's segments go to Iterable together: one is planned while another sends.

Segments sent one after the other leave a machine half idle: while a segment's
batches are in flight, the event loop mostly waits for Iterable, and while the
next one is planned nothing is sent. Here up to ``at_once`` segments
(``AUDIENCESYNC_SEGMENTS_AT_ONCE``, 4 by default) are in progress at once,
each as its own task:

- plans, the sync states prepared during sends and the commits take turns in
  the run's :class:`~audiencesync.sync.lane.DuckDBLane`, one at a time, off the
  event loop: the run's peak memory is that of one of them, as when segments
  went in turn;
- each segment keeps its own in-flight window (:mod:`audiencesync.sync.inflight`),
  and every call goes through the client's shared rate limiters: together the
  segments send what the limiter allows, at most ``at_once`` windows;
- a segment stops as it would alone: a cancel or Ctrl-C stops each after its
  batches in flight are answered, and a segment planned meanwhile sends
  nothing. A segment that fails does not stop the others; once all of them
  ended, the first failure (in segment order) ends the pass, as it would have
  ended a pass in turn, and what the other segments did is kept.

Each segment's crash guarantee is unchanged: its acknowledged batches are
checkpointed as they come, so a crash re-sends at most the batches that were in
flight, of every segment then sending.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from audiencesync.sync.outcomes import RunCanceledError
from audiencesync.sync.records import is_cancel_requested
from audiencesync.sync.segment_pass import sync_segment

if TYPE_CHECKING:
    from collections.abc import Sequence

    from audiencesync.sync.outcomes import SegmentOutcome
    from audiencesync.sync.segment_pass import PassContext


async def sync_together(
    ctx: PassContext,
    segments: Sequence[tuple[int, str]],
    *,
    approve: bool,
    at_once: int,
) -> list[SegmentOutcome]:
    """Every segment's outcome, in segment order; raises the first one's failure."""
    slots = asyncio.Semaphore(at_once)

    async def one(segment: tuple[int, str]) -> SegmentOutcome:
        async with slots:
            ctx.ctrl_c.check()
            with ctx.env.database.session() as session:
                if is_cancel_requested(session, ctx.run_id):
                    raise RunCanceledError(ctx.run_id)
            return await sync_segment(ctx, segment, approve=approve)

    ended = await asyncio.gather(*map(one, segments), return_exceptions=True)
    outcomes: list[SegmentOutcome] = []
    for outcome in ended:
        if isinstance(outcome, BaseException):
            raise outcome
        outcomes.append(outcome)
    return outcomes
