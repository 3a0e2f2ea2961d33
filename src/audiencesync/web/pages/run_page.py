"""One run's page: status and per-segment progress (live), its rejects and CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Path
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from audiencesync.app.progress import sample_run
from audiencesync.errors import AccessDeniedError
from audiencesync.sync.statuses import RunStatus
from audiencesync.web.errors import ApiError
from audiencesync.web.pages import i18n, session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render
from audiencesync.web.routes.run_events import EventStreams, event_streams, run_events

router = APIRouter(include_in_schema=False)
RunId = Annotated[int, Path(ge=1, le=2**53)]
REJECTS_SHOWN = 50


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: RunId) -> Response:
    """The run now; its page follows it live (server-sent events) until it ends."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    with session.context_of(request).workspace(seen.actor) as workspace:
        run = workspace.runs.show(run_id)
        try:
            rejects = workspace.runs.rejects(run_id, limit=REJECTS_SHOWN)
        except AccessDeniedError:  # viewers: rejects hold e-mail addresses
            rejects = None
    catalog = i18n.translations(i18n.choose(request))
    words = {status.value: catalog.gettext(status.value) for status in RunStatus}
    return render(request, "run.html", user=seen.actor, csrf=seen.csrf, run=run,
                  rejects=rejects, section="exports", status_words=words)  # fmt: skip


ACTIONS = ("approve", "discard", "cancel")


@router.post("/runs/{run_id}/{action}")
async def act_on_run(request: Request, run_id: RunId, action: str) -> Response:
    """Approve or discard held removals (administrators), or cancel the run.

    An approval is queued for the worker, like the API's; the page follows it.
    """
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    if action not in ACTIONS:
        raise ApiError(404, "not_found", "There is no such action on a run.")
    form = await request.form()
    if session.csrf_ok(seen.session, form.get("csrf")):
        await run_in_threadpool(_act, request, seen, run_id, action)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _act(request: Request, seen: Visitor, run_id: int, action: str) -> None:
    with session.context_of(request).workspace(seen.actor) as workspace:
        if action == "approve":
            workspace.runs.request_approve(run_id)
        elif action == "discard":
            workspace.runs.discard(run_id)
        else:
            workspace.runs.cancel(run_id)


@router.get("/runs/{run_id}/live", response_class=EventSourceResponse)
async def run_live(
    request: Request,
    run_id: RunId,
    streams: Annotated[EventStreams, Depends(event_streams)],
) -> AsyncIterator[ServerSentEvent]:
    """The run's progress events, for its page (the API's stream, by cookie)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        raise ApiError(401, "unauthenticated", "Sign in to follow a run.")
    context = session.context_of(request)
    first = await anyio.to_thread.run_sync(sample_run, context.database, run_id)
    async for event in run_events(first, context, streams):
        yield event


@router.get("/runs/{run_id}/rejects.csv")
def rejects_csv(request: Request, run_id: RunId) -> Response:
    """Every reject of the run as a CSV download (not for viewers)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    with session.context_of(request).workspace(seen.actor) as workspace:
        lines = workspace.runs.rejects_csv(run_id)  # checked now, streamed later
    disposition = f'attachment; filename="run-{run_id}-rejects.csv"'
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": disposition})  # fmt: skip
