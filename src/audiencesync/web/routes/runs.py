"""``/api/v1/runs``: run history, rejects, and what people do to a run.

``POST /exports/{name}/runs`` queues a run, and ``POST /runs/{id}/approve`` and
``/resume`` queue a pass of an existing run (202 and its ``Location``); the
``serve`` worker executes them. Every route is a thin call into
``workspace.runs`` (:class:`audiencesync.app.runs.RunService`), which checks
roles: viewers read runs but not their rejects (they hold e-mail addresses).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, StrictBool

from audiencesync.app.views import Page
from audiencesync.app.views.runs import RejectView, RunView
from audiencesync.errors import ConfigError
from audiencesync.sync.statuses import RunStatus
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.params import Limit, NamePath, Offset

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)

MAX_ID = 2**53  # larger ids are no run's: refused as invalid, never sent to SQL

RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="The run's number.")]


class RunRequest(BaseModel):
    """How to run an export: a dry run (plan only), or a full resync."""

    model_config = ConfigDict(extra="forbid")

    dry_run: StrictBool = False
    full: StrictBool = False


def _location(run_id: int) -> str:
    return f"/api/v1/runs/{run_id}"


@router.post(
    "/exports/{name:path}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a run of an export",
)
def request_run(
    name: NamePath,
    workspace: WorkspaceDep,
    response: Response,
    body: Annotated[RunRequest | None, Body()] = None,
) -> RunView:
    """Check you may run the export and queue a run; the worker executes it.

    Follow the run at the ``Location`` answered (or its ``/events``).
    """
    asked = body or RunRequest()
    view = workspace.runs.request(name, dry_run=asked.dry_run, full=asked.full)
    response.headers["Location"] = _location(view.id)
    return view


@router.get("/runs", summary="List runs, newest first")
def list_runs(
    workspace: WorkspaceDep,
    export: Annotated[
        str | None,
        Query(max_length=255, pattern=r"^[^\x00]*$", description="Only this export."),
    ] = None,
    run_status: Annotated[
        str | None,
        Query(alias="status", max_length=40, description="e.g. Succeeded, Held."),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RunView]:
    """Runs of every export, or of one (a removed export's runs too)."""
    wanted = None if run_status is None else _status(run_status)
    return workspace.runs.list(export=export, status=wanted, limit=limit, offset=offset)


def _status(text: str) -> RunStatus:
    """A status by its words ("Failed (retrying)") or its code ("retrying")."""
    for candidate in RunStatus:
        if text.casefold() in {candidate.value.casefold(), candidate.code}:
            return candidate
    known = ", ".join(candidate.value for candidate in RunStatus)
    msg = f"There is no run status {text[:40]!r}; use one of: {known}."
    raise ConfigError(msg, code="invalid", field="status")


@router.get("/runs/{run_id}", summary="One run: status and per-segment progress")
def show_run(run_id: RunId, workspace: WorkspaceDep) -> RunView:
    """The run, its status and each segment's list, plan and counts."""
    return workspace.runs.show(run_id)


@router.get("/runs/{run_id}/rejects", summary="The profiles a run could not deliver")
def run_rejects(
    run_id: RunId, workspace: WorkspaceDep, limit: Limit = 50, offset: Offset = 0
) -> Page[RejectView]:
    """One page of the run's rejects with bucket and reason (not for viewers)."""
    return workspace.runs.rejects(run_id, limit=limit, offset=offset)


@router.get(
    "/runs/{run_id}/rejects.csv",
    summary="Every reject of a run as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The CSV."}},
)
def run_rejects_csv(run_id: RunId, workspace: WorkspaceDep) -> StreamingResponse:
    """The rejects report as CSV (e-mails inside: not for viewers), streamed."""
    lines = workspace.runs.rejects_csv(run_id)  # checked before the first line
    disposition = f'attachment; filename="run-{run_id}-rejects.csv"'
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.post(
    "/runs/{run_id}/approve",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Approve a Held run's removals (queued)",
)
def approve_run(run_id: RunId, workspace: WorkspaceDep, response: Response) -> RunView:
    """Approve the removals the brake held (administrators); the worker sends them.

    The run shows ``queued_action: "approve"`` until its pass starts; follow it
    at the ``Location`` answered (or its ``/events``).
    """
    view = workspace.runs.request_approve(run_id)
    response.headers["Location"] = _location(view.id)
    return view


@router.post("/runs/{run_id}/discard", summary="Drop a Held run's removals")
def discard_run(run_id: RunId, workspace: WorkspaceDep) -> RunView:
    """End a Held run without its removals (administrators)."""
    return workspace.runs.discard(run_id)


@router.post(
    "/runs/{run_id}/resume",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Continue a stopped run (queued)",
)
def resume_run(run_id: RunId, workspace: WorkspaceDep, response: Response) -> RunView:
    """Queue the resume of an Interrupted or Failed (retrying) run for the worker.

    The run shows ``queued_action: "resume"`` until its pass starts; follow it
    at the ``Location`` answered (or its ``/events``).
    """
    view = workspace.runs.request_resume(run_id)
    response.headers["Location"] = _location(view.id)
    return view


@router.post("/runs/{run_id}/cancel", summary="Cancel a run")
def cancel_run(run_id: RunId, workspace: WorkspaceDep) -> RunView:
    """Cancel a run: a Running one starts no new batch."""
    return workspace.runs.cancel(run_id)
