"""The system refresh: its schedule, and the pipeline one refresh runs.

The refresh schedule is the :class:`SystemSetting` ``refresh_schedule``, stored
as ``{"cron": ..., "timezone": ...}``;
:func:`audiencesync.scheduling.schedules.next_refresh` reads it to say when
"with each refresh" exports run next. Only administrators change it (design
section 6), and each change writes one audit event; setting the schedule it
already has, or clearing an unset one, writes nothing.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from audiencesync.app.notifications import Notice, send_notice
from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, check
from audiencesync.auth.users import admin_names
from audiencesync.errors import AccessDeniedError, AudiencesyncError, ConfigError
from audiencesync.profiles.tables import read_table_info, table_names
from audiencesync.scheduling.schedules import (
    CRON_EXAMPLE,
    DEFAULT_TIMEZONE,
    MANUAL,
    REFRESH,
    REFRESH_SETTING,
    NextRun,
    check_cron,
    format_time,
    next_cron_time,
    normalize_timezone,
)
from audiencesync.store.accounts import SystemSetting
from audiencesync.store.models import utc_now
from audiencesync.sync.lock import RunInProgressError
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
_FINE = frozenset(
    {
        RunStatus.SUCCEEDED.value,
        RunStatus.SUCCEEDED_WITH_REJECTS.value,
        RunStatus.HELD.value,
        SKIPPED,
    }
)


# --- the schedule ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshSchedule:
    """The system refresh schedule as people see it (``cron`` None: off)."""

    cron: str | None
    timezone: str
    next_run: NextRun
    updated_at: datetime | None

    @property
    def is_set(self) -> bool:
        """Whether a refresh schedule is set."""
        return self.cron is not None


def read_refresh_schedule(
    workspace: Workspace, *, now: Clock = utc_now
) -> RefreshSchedule:
    """The refresh schedule and its next run (everyone may read it)."""
    with workspace.database.session() as session:
        check(workspace.actor, Action.READ, admins=admin_names(session))
        return _schedule(session.get(SystemSetting, REFRESH_SETTING), now=now())


def set_refresh_schedule(
    workspace: Workspace,
    cron: str,
    *,
    timezone: str | None = None,
    now: Clock = utc_now,
) -> RefreshSchedule:
    """Set the refresh schedule (administrators only); unchanged: no audit event.

    Without ``timezone`` the zone already set is kept, else UTC.
    """
    expression = _checked_cron(cron)
    with workspace.database.session() as session:
        check(workspace.actor, Action.MANAGE_SCHEDULE, admins=admin_names(session))
        row = session.get(SystemSetting, REFRESH_SETTING)
        old = _schedule(row, now=now())
        zone = normalize_timezone(timezone or old.timezone)
        if (old.cron, old.timezone) == (expression, zone):
            return old
        stamp = now()
        value = {"cron": expression, "timezone": zone}
        if row is None:
            row = SystemSetting(key=REFRESH_SETTING, value=value, updated_at=stamp)
            session.add(row)
        else:
            row.value, row.updated_at = value, stamp
        details = {
            "cron": expression,
            "timezone": zone,
            "previous_cron": old.cron,
            "previous_timezone": old.timezone if old.is_set else None,
        }
        _audit(session, workspace, "schedule.set", details)
        return _schedule(row, now=stamp)


def clear_refresh_schedule(
    workspace: Workspace, *, now: Clock = utc_now
) -> RefreshSchedule:
    """Switch the scheduled refresh off (administrators only); off already: no-op."""
    with workspace.database.session() as session:
        check(workspace.actor, Action.MANAGE_SCHEDULE, admins=admin_names(session))
        row = session.get(SystemSetting, REFRESH_SETTING)
        old = _schedule(row, now=now())
        if row is None:
            return old
        session.delete(row)
        details = {"previous_cron": old.cron, "previous_timezone": old.timezone}
        _audit(session, workspace, "schedule.clear", details)
        return _schedule(None, now=now())


def _checked_cron(raw: str) -> str:
    expression = " ".join(raw.split())
    if expression.casefold() in {REFRESH, MANUAL, ""}:
        msg = (
            "The refresh schedule is a cron schedule, e.g."
            f" {CRON_EXAMPLE}; to switch scheduled refreshes off, run"
            " `audiencesync schedule clear`."
        )
        raise ConfigError(msg)
    check_cron(expression)
    return expression


def _schedule(row: SystemSetting | None, *, now: datetime) -> RefreshSchedule:
    value = row.value if row is not None else None
    if isinstance(value, str):  # the bare cron form schedule.next_refresh accepts
        value = {"cron": value}
    if not isinstance(value, dict) or not isinstance(value.get("cron"), str):
        return RefreshSchedule(None, DEFAULT_TIMEZONE, NextRun(None, NOT_SET), None)
    cron, zone = value["cron"], str(value.get("timezone") or DEFAULT_TIMEZONE)
    try:
        check_cron(cron)
        zone = normalize_timezone(zone)
    except ConfigError:
        text = "the stored schedule is not valid; an administrator can set it again"
        return RefreshSchedule(cron, zone, NextRun(None, text), _saved(row))
    at = next_cron_time(cron, zone, after=now)
    return RefreshSchedule(cron, zone, NextRun(at, format_time(at)), _saved(row))


def _saved(row: SystemSetting | None) -> datetime | None:
    return None if row is None else row.updated_at


def _audit(
    session: Session, workspace: Workspace, action: str, details: Mapping[str, object]
) -> None:
    record_event(
        session,
        workspace.actor,
        action,
        target_type=SETTING_TARGET,
        target=REFRESH_SETTING,
        details=details,
    )
    logger.info("%s by %s", action, workspace.actor.name)


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
            " place with --replace."
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
        " an administrator decides.\n\n"
        f"Approve: audiencesync profiles approve {hold.table}\n"
        f"Discard: audiencesync profiles discard {hold.table}\n\n"
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
        run = workspace.runs.run(export.name, trigger=trigger)
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
    return ExportResult(export.name, run.id, run.status, run.error)
