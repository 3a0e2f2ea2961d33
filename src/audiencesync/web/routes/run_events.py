"""``GET /api/v1/runs/{run_id}/events``: a run's progress as server-sent events.

The stream reads the run's record every :data:`POLL_SECONDS` (a short session
each time, none held between reads) and sends a ``progress`` event when what a
reader sees changed: the run's status and, per segment, its status, rows sent
and planned, rate and ETA (:class:`~audiencesync.app.progress.RunProgressView`).
Once the run is neither Queued nor Running it sends one ``end`` event with the
final view and closes. A client that goes away ends the loop (the server cancels
it); so does the server stopping. Every role may watch: run history is readable
by all.
"""

from __future__ import annotations

import threading
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
    tracker = ProgressTracker()
    sample, number = first, 0
    streams.live += 1
    try:
        while True:
            view, changed = tracker.observe(sample)
            number += 1
            if sample.is_over:
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
