"""Exports as everyone reads them: mapping, segments, schedule, last and next run.

:class:`ExportView` is what ``exports list/show --json`` print and what the API
returns; :class:`ExportSavedView` adds what saving reports (each segment's member
count now, and warnings). No view holds profile data or a key.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from audiencesync.app.views import View
from audiencesync.exports import ExportCreated, ExportInfo
from audiencesync.exports.records import LastRun


class LastRunView(View):
    """An export's newest run that was not a dry run."""

    id: int
    status: str
    started_at: datetime | None
    finished_at: datetime | None


class ExportView(View):
    """An export setup with its connection, segments, schedule and runs."""

    name: str
    connection: str | None = Field(description="Null once detached (inactive).")
    connection_shared: bool
    active: bool = Field(description="False once detached from its connection.")
    segments: list[str] = Field(description="Each feeds the list of the same name.")
    email_field: str
    user_id_field: str | None
    fields: dict[str, str] = Field(description="Iterable field: profile column.")
    schedule: str = Field(examples=["refresh", "manual", "0 6 * * *"])
    timezone: str = Field(examples=["UTC"])
    mode: str = Field(examples=["mirror", "add-only"])
    removal_brake: int = Field(description="Percent of a list held for approval.")
    consent_column: str | None
    drift_threshold: int
    auto_resync: bool
    next_run: datetime | None
    next_run_text: str
    last_run_status: str = Field(examples=["Succeeded", "none yet"])
    last_run: LastRunView | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    revision: int = Field(description="Raised by every change; the ETag of edits.")


class ExportSavedView(ExportView):
    """A saved (added or changed) export, its segments' counts, and warnings."""

    member_counts: dict[str, int] = Field(
        description="Members of each segment now (only the segments just set)."
    )
    warnings: list[str]


class ExportRemovedView(View):
    """An export that was removed (its Iterable lists are left as they are)."""

    name: str
    removed: bool = True


def last_run_view(last: LastRun | None) -> LastRunView | None:
    """The view of an export's last run, if it has one."""
    if last is None:
        return None
    return LastRunView(
        id=last.id,
        status=last.status,
        started_at=last.started_at,
        finished_at=last.finished_at,
    )


def _fields(info: ExportInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "connection": info.connection,
        "connection_shared": info.connection_shared,
        "active": info.active,
        "segments": list(info.segments),
        "email_field": info.email_field,
        "user_id_field": info.user_id_field,
        "fields": dict(info.fields),
        "schedule": info.schedule,
        "timezone": info.timezone,
        "mode": info.mode,
        "removal_brake": info.removal_brake,
        "consent_column": info.consent_column,
        "drift_threshold": info.drift_threshold,
        "auto_resync": info.auto_resync,
        "next_run": info.next_run,
        "next_run_text": info.next_run_text,
        "last_run_status": info.last_run_status,
        "last_run": last_run_view(info.last_run),
        "created_at": info.created_at,
        "created_by": info.created_by,
        "updated_at": info.updated_at,
        "revision": info.revision,
    }


def export_view(info: ExportInfo) -> ExportView:
    """The view of an export."""
    return ExportView.model_validate(_fields(info))


def export_saved_view(created: ExportCreated) -> ExportSavedView:
    """The view of a saved export, with its member counts and warnings."""
    return ExportSavedView.model_validate(
        {
            **_fields(created.export),
            "member_counts": dict(created.member_counts),
            "warnings": list(created.warnings),
        }
    )
