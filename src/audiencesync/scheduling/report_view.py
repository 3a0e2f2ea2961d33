"""A refresh's report as JSON: ``refresh --json`` prints :class:`RefreshReportView`.

What one refresh did to each imported table, segment and export; built from
:class:`audiencesync.scheduling.refresh.RefreshReport`. No profile data: table,
segment and export names, counts, run ids and our own messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import ConfigDict

from audiencesync.app.views import View
from audiencesync.scheduling.refresh import RefreshReport


class _Part(View):
    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


class SourceView(_Part):
    """One imported table: reimported, unchanged, held, missing or failed."""

    table: str
    source: str
    outcome: str
    rows: int | None
    held_rows: int | None
    removed: int | None
    error: str | None


class SegmentCountView(_Part):
    """One segment's member count now, or why it could not be counted."""

    name: str
    members: int | None
    error: str | None


class ExportRunView(_Part):
    """One export's run in the refresh and its status, or skipped and why."""

    name: str
    run_id: int | None
    status: str
    error: str | None


class RefreshReportView(View):
    """What one refresh did, and whether everything went through (``ok``)."""

    ok: bool
    started_at: datetime
    finished_at: datetime
    sources: list[SourceView]
    segments: list[SegmentCountView]
    exports: list[ExportRunView]

    @classmethod
    def of(cls, report: RefreshReport) -> Self:
        """The view of a refresh report."""
        return cls(
            ok=report.ok,
            started_at=report.started_at,
            finished_at=report.finished_at,
            sources=[SourceView.model_validate(s) for s in report.sources],
            segments=[SegmentCountView.model_validate(s) for s in report.segments],
            exports=[ExportRunView.model_validate(e) for e in report.exports],
        )
