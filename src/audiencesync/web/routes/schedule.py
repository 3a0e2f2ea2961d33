"""``/api/v1/schedule``, ``/api/v1/refresh`` and ``/api/v1/system``.

Everyone reads the refresh schedule and the overview, and may preview a cron
schedule (``GET /schedule/preview``: in words, and its next three runs);
administrators set and clear the schedule. ``POST /refresh`` records the request
(202) and wakes the scheduler of ``audiencesync serve``, which runs the refresh at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from audiencesync.app.context import AppContext
from audiencesync.app.views.schedule import (
    RefreshRequestView,
    SchedulePreviewView,
    ScheduleView,
    SystemView,
)
from audiencesync.web.deps import WorkspaceDep, app_context
from audiencesync.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["schedule"], responses=ERROR_RESPONSES)


class ScheduleSetting(BaseModel):
    """A cron schedule and the IANA time zone it is read in."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field(max_length=255, examples=["0 6 * * *"])
    timezone: str | None = Field(
        default=None,
        max_length=255,
        examples=["Europe/Paris"],
        description="Default: the zone already set, else UTC.",
    )


@router.get("/schedule", summary="The refresh schedule")
def show_schedule(workspace: WorkspaceDep) -> ScheduleView:
    """The system refresh schedule (null cron: off) and when it runs next."""
    return workspace.system.schedule()


@router.get("/schedule/preview", summary="A cron schedule in words, its next runs")
def preview_schedule(
    workspace: WorkspaceDep,
    cron: Annotated[str, Query(max_length=255, examples=["30 8 * * MON-FRI"])],
    timezone: Annotated[str, Query(max_length=255, examples=["Europe/Paris"])] = "UTC",
    lang: Annotated[
        Literal["en", "fr"], Query(description="The description's language.")
    ] = "en",
) -> SchedulePreviewView:
    """Check a cron schedule (nothing is saved): its description and next 3 runs.

    A wrong schedule or zone: 422 naming the field (``cron`` or ``timezone``).
    """
    return workspace.system.preview(cron, timezone=timezone, language=lang)


@router.put("/schedule", summary="Set the refresh schedule (administrators)")
def set_schedule(body: ScheduleSetting, workspace: WorkspaceDep) -> ScheduleView:
    """Set when the system refresh runs; several times a day is fine."""
    return workspace.system.set_schedule(body.cron, timezone=body.timezone)


@router.delete(
    "/schedule",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Switch the scheduled refresh off (administrators)",
)
def clear_schedule(workspace: WorkspaceDep) -> None:
    """No scheduled refresh any more; ``POST /refresh`` still works."""
    workspace.system.clear_schedule()


@router.post(
    "/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Request a refresh (the serve process runs it)",
)
def request_refresh(
    workspace: WorkspaceDep,
    context: Annotated[AppContext, Depends(app_context)],
    response: Response,
) -> RefreshRequestView:
    """Record the request; the scheduler wakes and runs it once, as you."""
    response.headers["Location"] = "/api/v1/system"
    asked = workspace.system.request_refresh()
    context.refresh_asked.set()
    return asked


@router.get("/system", summary="The refresh schedule and every export's runs")
def system_overview(workspace: WorkspaceDep) -> SystemView:
    """The schedule, a pending refresh request, each export's last and next run."""
    return workspace.system.overview()
