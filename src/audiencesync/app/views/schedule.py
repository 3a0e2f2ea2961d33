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
    from audiencesync.app.schedule_preview import SchedulePreview
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


class SchedulePreviewView(View):
    """A cron schedule in words, and its next three runs in its time zone."""

    cron: str = Field(examples=["30 8 * * MON-FRI"])
    timezone: str = Field(examples=["Europe/Paris"])
    language: str = Field(examples=["en", "fr"])
    description: str = Field(examples=["At 08:30, Monday to Friday"])
    next_runs: list[datetime] = Field(description="In the schedule's time zone.")
    next_runs_text: list[str] = Field(
        description="The same times for people, in the language.",
        examples=[["Mon 7 Dec 2026, 08:30 Europe/Paris"]],
    )

    @classmethod
    def of(cls, preview: SchedulePreview) -> Self:
        """The view of a schedule preview."""
        return cls(
            cron=preview.cron,
            timezone=preview.timezone,
            language=preview.language,
            description=preview.description,
            next_runs=list(preview.next_runs),
            next_runs_text=list(preview.next_runs_text),
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
    counts: dict[str, int] = Field(
        description="The run's totals: planned, added, updated, removed, rejected."
    )

    @classmethod
    def of(cls, last: LastRun) -> Self:
        """The view of an export's last run."""
        return cls(id=last.id, status=last.status, at=last.at, counts=dict(last.counts))


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
