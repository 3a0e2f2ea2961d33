"""The refresh schedule and the system overview, for ``--json`` and the API.

:class:`ScheduleView` is the system refresh schedule and its next run;
:class:`SystemView` adds a pending refresh request and, for every export, its
schedule, its last run (status and when) and its next run.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

from pydantic import Field

from audiencesync.app.views import View

if TYPE_CHECKING:
    from audiencesync.app.refresh_schedule import RefreshRequest, RefreshSchedule
    from audiencesync.exports.records import ExportInfo, LastRun


class ScheduleView(View):
    """The system refresh schedule (``cron`` null: off) and when it runs next."""

    cron: str | None = Field(examples=["0 6 * * *"])
    timezone: str = Field(examples=["Europe/Paris"])
    next_run: datetime | None
    next_run_text: str
    updated_at: datetime | None

    @classmethod
    def of(cls, schedule: RefreshSchedule) -> Self:
        """The view of the refresh schedule."""
        return cls(
            cron=schedule.cron,
            timezone=schedule.timezone,
            next_run=schedule.next_run.at,
            next_run_text=schedule.next_run.text,
            updated_at=schedule.updated_at,
        )


class RefreshRequestView(View):
    """A refresh someone asked for, which the ``serve`` scheduler runs next."""

    requested_by: str
    requested_at: datetime

    @classmethod
    def of(cls, request: RefreshRequest) -> Self:
        """The view of a refresh request."""
        return cls(requested_by=request.requested_by, requested_at=request.requested_at)


class LastRunView(View):
    """An export's newest run (dry runs aside): its id, status and when."""

    id: int
    status: str
    at: datetime = Field(description="When it ended, else started, else was queued.")

    @classmethod
    def of(cls, last: LastRun) -> Self:
        """The view of an export's last run."""
        return cls(id=last.id, status=last.status, at=last.at)


class SystemExportView(View):
    """One export's schedule, last run and next run."""

    name: str
    active: bool = Field(description="False once detached from its connection.")
    schedule: str = Field(examples=["refresh", "manual", "0 * * * *"])
    schedule_text: str
    next_run: datetime | None
    next_run_text: str
    last_run: LastRunView | None

    @classmethod
    def of(cls, info: ExportInfo) -> Self:
        """The view of an export's times."""
        return cls(
            name=info.name,
            active=info.active,
            schedule=info.schedule,
            schedule_text=info.schedule_text,
            next_run=info.next_run,
            next_run_text=info.next_run_text,
            last_run=None if info.last_run is None else LastRunView.of(info.last_run),
        )


class SystemView(View):
    """The refresh schedule, a pending refresh request, and every export's runs."""

    schedule: ScheduleView
    refresh_requested: RefreshRequestView | None
    exports: list[SystemExportView]
