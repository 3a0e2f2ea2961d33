"""``GET /api/v1/runs/{run_id}/events``: a run's progress as server-sent events.

The stream reads the run's record every :data:`POLL_SECONDS` (a short session
each time, none held between reads) and sends a ``progress`` event when what a
reader sees changed: the run's status and, per segment, its status, rows sent
and planned, rate and ETA (:class:`~audiencesync.app.progress.RunProgressView`).
Once the run is neither Queued nor Running it sends one ``end`` event with the
final view and closes. A queued approval or resume is claimed by the worker a
moment before its pass moves the run to Running: meanwhile the run reads as
stopped (Held, its pass no longer queued). A stream that saw the pass queued
waits through that moment, up to :data:`PASS_START_GRACE_SECONDS`, for the
status to move, rather than end on a status the pass is about to change. A
client that goes away ends the loop (the server cancels it); so does the server
stopping. Every role may watch: run history is readable
by all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from audiencesync.app.context import AppContext
from audiencesync.app.progress import ProgressTracker, RunSample, sample_run
from audiencesync.web.deps import ActorDep, app_context
from audiencesync.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)

POLL_SECONDS = 0.5
PASS_START_GRACE_SECONDS = 30.0  # a claimed pass's start, on a loaded machine
MAX_RUN_ID = 2**63 - 1  # a 64-bit integer column: larger ids cannot exist

RunId = Annotated[int, Path(ge=1, le=MAX_RUN_ID, description="The run's number.")]


@dataclass
class EventStreams:
    """The app's live event streams: how many, and the signal that ends them all."""

    stopping: threading.Event
    live: int = 0


def event_streams(request: Request) -> EventStreams:
    """The app's :class:`EventStreams` (made on first use; ``serve`` sets its own)."""
    state = request.app.state
    streams: EventStreams | None = getattr(state, "event_streams", None)
    if streams is None:
        streams = EventStreams(threading.Event())
        state.event_streams = streams
    return streams


def first_sample(
    run_id: RunId,
    _actor: ActorDep,
    context: Annotated[AppContext, Depends(app_context)],
) -> RunSample:
    """The run now: an unknown run is a 404 before the stream begins."""
    return sample_run(context.database, run_id)


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    summary="Follow a run's progress (server-sent events)",
    responses={
        200: {
            "description": "`progress` events while the run changes, then one"
            " `end` event; each event's data is the run's progress as JSON: run_id,"
            " export, status, finished, error, and per segment: segment, status,"
            " sent, planned, rate_per_second, eta_seconds."
        }
    },
)
async def run_events(
    first: Annotated[RunSample, Depends(first_sample)],
    context: Annotated[AppContext, Depends(app_context)],
    streams: Annotated[EventStreams, Depends(event_streams)],
) -> AsyncIterator[ServerSentEvent]:
    """``progress`` events while the run changes, then one ``end`` event.

    Each event's data is the run's progress: status, and per segment its
    status, rows sent and planned, rate per second and ETA in seconds.
    """
    tracker, starting = ProgressTracker(), _PassStart()
    sample, number = first, 0
    streams.live += 1
    try:
        while True:
            view, changed = tracker.observe(sample)
            number += 1
            awaited = starting.awaited(sample)
            if sample.is_over and not awaited:
                yield ServerSentEvent(event="end", data=view, id=str(number))
                return
            if changed:
                yield ServerSentEvent(event="progress", data=view, id=str(number))
            await anyio.sleep(POLL_SECONDS)
            if streams.stopping.is_set():
                return
            sample = await anyio.to_thread.run_sync(
                sample_run, context.database, first.run_id
            )
    finally:
        streams.live -= 1


@dataclass
class _PassStart:
    """Whether a queued pass, claimed by the worker, has yet to move its run."""

    queued_on: RunSample | None = None  # the last sample with a pass queued
    since: float | None = None  # when the run first read as stopped after it

    def awaited(self, sample: RunSample) -> bool:
        """True while the run still has the status its queued pass will change."""
        if sample.queued_action is not None:
            self.queued_on, self.since = sample, None
            return False
        if self.queued_on is None or sample.status != self.queued_on.status:
            return False
        now = time.monotonic()
        self.since = self.since if self.since is not None else now
        return now - self.since < PASS_START_GRACE_SECONDS
