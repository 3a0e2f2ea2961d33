"""The system as a whole: the refresh schedule, refresh requests, the overview.

:class:`SystemService` (``workspace.system``) is what the command line and the
REST API call for the system refresh: read, set or clear its schedule, request
a refresh that the ``serve`` scheduler runs (nothing runs in the caller), and
the overview of when everything ran and runs next. Roles are checked by the
functions it calls: everyone reads, administrators set the schedule, users who
may run exports request a refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audiencesync.app.refresh_schedule import (
    clear_refresh_schedule,
    pending_refresh_request,
    read_refresh_schedule,
    request_refresh,
    set_refresh_schedule,
)
from audiencesync.app.schedule_preview import preview_schedule
from audiencesync.app.views.schedule import (
    RefreshRequestView,
    SchedulePreviewView,
    ScheduleView,
    SystemExportView,
    SystemView,
)

if TYPE_CHECKING:
    from audiencesync.app.workspace import Workspace


class SystemService:
    """The refresh schedule, refresh requests and the overview, as one actor."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def schedule(self) -> ScheduleView:
        """The refresh schedule and its next run (everyone)."""
        return ScheduleView.of(read_refresh_schedule(self._workspace))

    def set_schedule(self, cron: str, *, timezone: str | None = None) -> ScheduleView:
        """Set the refresh schedule (administrators); the zone set is kept if None."""
        return ScheduleView.of(
            set_refresh_schedule(self._workspace, cron, timezone=timezone)
        )

    def clear_schedule(self) -> ScheduleView:
        """Switch the scheduled refresh off (administrators)."""
        return ScheduleView.of(clear_refresh_schedule(self._workspace))

    def preview(
        self, cron: str, *, timezone: str, language: str = "en"
    ) -> SchedulePreviewView:
        """A cron schedule in words and its next three runs (everyone; no change)."""
        self.schedule()  # checks that the actor may read
        return SchedulePreviewView.of(
            preview_schedule(cron, timezone, language=language)
        )

    def request_refresh(self) -> RefreshRequestView:
        """Ask the ``serve`` scheduler for a refresh; it runs at its next pass."""
        return RefreshRequestView.of(request_refresh(self._workspace))

    def overview(self) -> SystemView:
        """The schedule, a pending request, each export's last and next run."""
        schedule = self.schedule()  # checks that the actor may read
        exports = self._workspace.exports.list_all()
        with self._workspace.database.session() as session:
            request = pending_refresh_request(session)
        requested = None if request is None else RefreshRequestView.of(request)
        return SystemView(
            schedule=schedule,
            refresh_requested=requested,
            exports=[SystemExportView.of(info) for info in exports],
        )
