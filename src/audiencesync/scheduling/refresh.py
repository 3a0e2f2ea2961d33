"""The system refresh: the pipeline one refresh runs.

Its schedule and the requests for a refresh are
:mod:`audiencesync.app.refresh_schedule`; the scheduler of ``serve`` runs it.

One refresh (:func:`run_refresh`), in order:

1. refreshes each table of the embedded store whose source files changed since
   they were imported: the sources are re-applied as they were imported (the
   base replaced, merges layered on in order; see
   :mod:`audiencesync.profiles.refreshing`). A refresh that would remove more
   than the removal brake's share of a table's rows leaves the table as it was
   and is held for an administrator; the administrators are notified once per
   hold, and the rest of the refresh goes on with the table unchanged;
2. counts every segment, which records its member count in the history;
3. runs every active export whose schedule is ``refresh``, one after the other,
   with the trigger ``refresh``; one export's failure never stops the others.

The :class:`RefreshReport` says what happened to each source, segment and
export. Messages and log lines name tables, segments, exports and runs only:
never a profile value, an e-mail address or a key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from audiencesync.app.notifications import Notice, send_notice
from audiencesync.auth.roles import Action, check
from audiencesync.auth.users import admin_names
from audiencesync.errors import AccessDeniedError, AudiencesyncError
from audiencesync.profiles.tables import read_table_info, table_names
from audiencesync.scheduling.schedules import (
    REFRESH,
)
from audiencesync.store.models import utc_now
from audiencesync.sync.lock import RunInProgressError
from audiencesync.sync.runner import RunFailedError, run_export
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.app.workspace import Workspace
    from audiencesync.exports.records import ExportInfo
    from audiencesync.profiles.holds import Hold
    from audiencesync.profiles.refreshing import TableRefresh
    from audiencesync.profiles.tables import TableInfo

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SETTING_TARGET = "setting"
SKIPPED = "skipped"
HELD = "held"
FAILED_TO_START = "failed to start"
NOT_SET = "no refresh schedule is set"
REQUEST_SETTING = "refresh_request"
_FINE = frozenset(
    {
        RunStatus.SUCCEEDED.value,
        RunStatus.SUCCEEDED_WITH_REJECTS.value,
        RunStatus.HELD.value,
        SKIPPED,
    }
)


# --- one refresh ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceResult:
    """One imported table: ``reimported``, ``unchanged``, ``held``, ``missing``
    or ``failed``. ``held``: the table kept its ``rows``; the held content has
    ``held_rows`` and lacks ``removed`` of them, awaiting an administrator."""

    table: str
    source: str
    outcome: str
    rows: int | None = None
    error: str | None = None
    held_rows: int | None = None
    removed: int | None = None


@dataclass(frozen=True, slots=True)
class SegmentResult:
    """One segment's member count now, or why it could not be counted."""

    name: str
    members: int | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ExportResult:
    """One export: its run and the run's status, or ``skipped`` and why."""

    name: str
    run_id: int | None
    status: str
    error: str | None = None

    @property
    def is_fine(self) -> bool:
        """Whether nothing went wrong: succeeded, held for approval, or skipped."""
        return self.status in _FINE


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What one refresh did to each source, segment and export."""

    started_at: datetime
    finished_at: datetime
    sources: tuple[SourceResult, ...]
    segments: tuple[SegmentResult, ...]
    exports: tuple[ExportResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every source, segment and export went through."""
        return (
            all(source.error is None for source in self.sources)
            and all(segment.error is None for segment in self.segments)
            and all(export.is_fine for export in self.exports)
        )


def run_refresh(
    workspace: Workspace, *, trigger: str = REFRESH, now: Clock = utc_now
) -> RefreshReport:
    """Re-import changed sources, count every segment, run the refresh exports.

    The acting user needs the right to run exports; exports on connections they
    may not use are skipped (and say why), never failed.
    """
    with workspace.database.session() as session:
        check(workspace.actor, Action.RUN_EXPORTS, admins=admin_names(session))
    started = now()
    sources = tuple(reimport_sources(workspace))
    segments = tuple(evaluate_segments(workspace))
    exports = tuple(run_refresh_exports(workspace, trigger=trigger))
    report = RefreshReport(started, now(), sources, segments, exports)
    logger.info(
        "refresh by %s: %d of %d sources re-imported, %d segments counted,"
        " %d exports run, %s",
        workspace.actor.name,
        sum(source.outcome == "reimported" for source in sources),
        len(sources),
        sum(segment.error is None for segment in segments),
        sum(export.run_id is not None for export in exports),
        "all fine" if report.ok else "with problems",
    )
    return report


def reimport_sources(workspace: Workspace) -> list[SourceResult]:
    """Refresh every embedded table whose source files changed since their import."""
    settings = workspace.settings
    if settings.profiles_url is not None:
        return []  # an external engine's data is loaded by its own tools
    folder = settings.profiles_folder
    results = []
    for name in table_names(folder):
        try:
            info = read_table_info(folder, name)
        except AudiencesyncError as exc:
            results.append(SourceResult(name, "", "failed", error=str(exc)))
            continue
        if info.sources:
            results.append(_reimport(workspace, info))
    return results


def _reimport(workspace: Workspace, info: TableInfo) -> SourceResult:
    shown = _sources_text(info)
    try:
        result = workspace.profiles.refresh_table(info.name)
    except AudiencesyncError as exc:
        return SourceResult(info.name, shown, "failed", error=str(exc))
    if result.missing:
        gone = ", ".join(str(path) for path in result.missing)
        files = "file" if len(result.missing) == 1 else "files"
        error = (
            f"The source {files} {gone} of table {info.name} is gone; the table keeps"
            " its rows. Put the file back, or import the table again from its new"
            " place in replace mode."
        )
        return SourceResult(info.name, shown, "missing", rows=result.rows, error=error)
    if result.hold is not None:
        return _held(workspace, result, result.hold, shown)
    return SourceResult(info.name, shown, result.outcome.value, rows=result.rows)


def _held(
    workspace: Workspace, result: TableRefresh, hold: Hold, shown: str
) -> SourceResult:
    logger.warning(
        "refresh of table %s held: it would remove %d of %d rows (brake %g %%)",
        hold.table,
        hold.removed,
        hold.rows,
        hold.brake,
    )
    if result.new_hold:
        send_notice(workspace, held_notice(hold))
    return SourceResult(
        hold.table,
        shown,
        HELD,
        rows=result.rows,
        held_rows=hold.new_rows,
        removed=hold.removed,
    )


def held_notice(hold: Hold) -> Notice:
    """The administrators' notice of a refresh held by the removal brake."""
    body = (
        f"The refresh of table {hold.table} would remove {hold.removed:,} of its"
        f" {hold.rows:,} rows, more than the removal brake allows ({hold.brake:g} %)."
        f"\nThe table keeps its {hold.rows:,} rows, and exports run on them, until"
        " an administrator decides: approving the refresh of table"
        f" {hold.table} removes the rows, discarding it keeps them.\n\n"
        "You get this message because you are an audiencesync administrator.\n"
    )
    details = {
        "table": hold.table,
        "rows": hold.rows,
        "rows_after": hold.new_rows,
        "removed": hold.removed,
        "brake": hold.brake,
        "held_at": hold.held_at.isoformat(),
    }
    return Notice(
        event="refresh.held",
        subject=f"audiencesync: refresh of table {hold.table} held for approval",
        body=body,
        payload={"event": "refresh.held", **details},
        audit_action="profiles.notify_held",
        target_type="table",
        target=hold.table,
        details=details,
        label=f"held refresh of table {hold.table}",
    )


def _sources_text(info: TableInfo) -> str:
    first = str(info.sources[0].path)
    more = len(info.sources) - 1
    return f"{first} (+{more} more)" if more else first


def evaluate_segments(workspace: Workspace) -> list[SegmentResult]:
    """Count every segment now; each count (or error) goes into its history."""
    results = []
    for segment in workspace.segments.list_all():
        try:
            members = workspace.segments.count(segment.name)
        except AudiencesyncError as exc:
            results.append(SegmentResult(segment.name, None, str(exc)))
        else:
            results.append(SegmentResult(segment.name, members))
    return results


def run_refresh_exports(
    workspace: Workspace, *, trigger: str = REFRESH
) -> list[ExportResult]:
    """Run each active export that follows the refresh, continuing past failures."""
    return [
        _run_one(workspace, export, trigger=trigger)
        for export in workspace.exports.list_all()
        if export.schedule == REFRESH and export.connection is not None
    ]


def _run_one(workspace: Workspace, export: ExportInfo, *, trigger: str) -> ExportResult:
    assert export.connection is not None  # noqa: S101 - the caller checked
    try:
        scope = workspace.connections.scope(export.connection)
        check(workspace.actor, Action.RUN_EXPORTS, connection=scope)
    except AccessDeniedError as exc:
        return ExportResult(export.name, None, SKIPPED, str(exc))
    try:
        run = run_export(workspace, export.name, trigger=trigger)
    except RunFailedError as exc:
        return ExportResult(
            export.name, exc.run_id, RunStatus.FAILED_PERMANENT.value, str(exc)
        )
    except RunInProgressError as exc:
        logger.warning(
            "export %r is already running (run %d); this refresh skipped it",
            export.name,
            exc.run_id,
        )
        return ExportResult(export.name, None, SKIPPED, str(exc))
    except AudiencesyncError as exc:
        return ExportResult(export.name, None, FAILED_TO_START, str(exc))
    return ExportResult(export.name, run.id, run.status.value, run.error)
