"""Run history as readers see it: run summaries and the per-profile rejects.

``runs list | show``, ``exports list | show`` and the web pages read
:class:`RunInfo` records; ``runs rejects RUN_ID --csv`` streams
:class:`RejectRow`\\s, which carry identifiers (emails): only users allowed to
download rejects may see them, and they are never logged.

What readers see is true at the time they read it:

- a run outlives its export: it keeps the export's name, shown as removed;
- a run recorded Running whose process is gone (this host's pid no longer
  exists) or whose lease expired reads as "Interrupted (resumable)", by the
  rule :func:`audiencesync.sync.recovery.is_dead` that marks it so for good
  when the export runs next (a silent dry run reads as Canceled);
- dry runs are marked as such and are never an export's last run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from audiencesync.errors import ConflictError
from audiencesync.store.destinations import Export
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Binding, ExportLock, Run, RunSegment
from audiencesync.sync.records import get_run, totals
from audiencesync.sync.recovery import dead_run_note, is_dead
from audiencesync.sync.statuses import RunStatus

STREAM_CHUNK = 1000  # reject rows fetched per round trip


@dataclass(frozen=True, slots=True)
class SegmentRunInfo:
    """One segment's part of a run: its list, plan, counts and status."""

    id: int
    binding_id: int | None  # None once the export was removed
    segment_name: str
    status: RunStatus
    list_id: int | None
    list_action: str | None
    planned_add: int
    planned_update: int
    planned_remove: int
    unchanged: int
    added: int
    updated: int
    removed: int
    rejected: Mapping[str, int]
    invalid_in_source: int
    not_consenting: int
    batches_total: int
    batches_acked: int
    retries: int
    held_removals: bool
    expected_size: int | None
    actual_size: int | None

    @property
    def drift(self) -> int | None:
        """Actual minus expected list size, when both are known."""
        if self.expected_size is None or self.actual_size is None:
            return None
        return self.actual_size - self.expected_size


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run of an export, with its segments."""

    id: int
    export_id: int | None  # None once the export was removed
    export_name: str
    trigger: str
    status: RunStatus
    dry_run: bool
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    cancel_requested: bool
    counts: Mapping[str, int]
    segments: tuple[SegmentRunInfo, ...] = field(default=())
    full_resync: bool = False
    queued_action: str | None = None  # "approve" or "resume", for the worker
    queued_by: str | None = None

    @property
    def duration(self) -> timedelta | None:
        """How long the run took (None until it started and ended)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def export_removed(self) -> bool:
        """Whether the run's export was removed since (its runs stay)."""
        return self.export_id is None

    @property
    def export_label(self) -> str:
        """The export's name for people, marked when the export was removed."""
        return (
            f"{self.export_name} (removed)" if self.export_removed else self.export_name
        )


@dataclass(frozen=True, slots=True)
class ListSize:
    """A list's size as the newest drift check read it back, against the expected."""

    run_id: int
    list_id: int | None
    expected_size: int
    actual_size: int
    beyond_threshold: bool  # the check ended the segment Succeeded with drift
    checked_at: datetime | None

    @property
    def drift(self) -> int:
        """Actual minus expected list size."""
        return self.actual_size - self.expected_size


@dataclass(frozen=True, slots=True)
class RejectRow:
    """One rejected identifier of a run, for the rejects CSV."""

    segment_name: str
    batch: int | None
    identifier: str = field(repr=False)
    bucket: str
    reason: str
    retryable: bool
    profile_key: str | None = field(default=None, repr=False)


def run_info(session: Session, run_id: int, *, now: datetime | None = None) -> RunInfo:
    """The run's summary, or NotFoundError."""
    get_run(session, run_id)  # a missing run raises NotFoundError naming it
    query = _with_export_and_lock().where(Run.id == run_id)
    run, name, lock = session.execute(query).one()
    return _info(run, name, lock, now=now or utc_now())


def list_runs(
    session: Session,
    *,
    export_id: int | None = None,
    removed_names: tuple[str, ...] = (),
    status: RunStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RunInfo]:
    """The newest runs first: all, or those of one export and of removed ones.

    ``removed_names`` adds the runs of removed exports that had these names;
    ``status`` keeps the runs recorded in that status.
    """
    conditions = _conditions(export_id, removed_names, status)
    query = _with_export_and_lock().where(*conditions).order_by(Run.id.desc())
    now = utc_now()
    return [
        _info(run, name, lock, now=now)
        for run, name, lock in session.execute(query.limit(limit).offset(offset))
    ]


def count_runs(
    session: Session,
    *,
    export_id: int | None = None,
    removed_names: tuple[str, ...] = (),
    status: RunStatus | None = None,
) -> int:
    """How many runs :func:`list_runs` lists over all its pages."""
    conditions = _conditions(export_id, removed_names, status)
    query = select(func.count(Run.id)).where(*conditions)
    return session.scalar(query) or 0


def _conditions(
    export_id: int | None, removed_names: tuple[str, ...], status: RunStatus | None
) -> list[ColumnElement[bool]]:
    wanted: list[ColumnElement[bool]] = []
    if export_id is not None:
        wanted.append(Run.export_id == export_id)
    if removed_names:
        removed = Run.export_id.is_(None) & Run.export_name.in_(removed_names)
        wanted.append(removed)
    conditions = [or_(*wanted)] if wanted else []
    if status is not None:
        conditions.append(Run.status == status.code)
    return conditions


def last_runs(session: Session, *, export_id: int | None = None) -> dict[int, RunInfo]:
    """Each export's (or one export's) newest run that is not a dry run, by id."""
    newest = (
        select(func.max(Run.id))
        .where(Run.export_id.is_not(None), ~Run.dry_run)
        .group_by(Run.export_id)
    )
    if export_id is not None:
        newest = newest.where(Run.export_id == export_id)
    query = _with_export_and_lock().where(Run.id.in_(newest))
    now = utc_now()
    infos = (
        _info(run, name, lock, now=now) for run, name, lock in session.execute(query)
    )
    return {info.export_id: info for info in infos if info.export_id is not None}


def list_sizes(session: Session, export_id: int) -> dict[int, ListSize]:
    """The newest drift check of each of the export's lists, by segment id.

    One query, however long the history: for each binding, its newest run
    segment whose list size was read back (found from the binding's index).
    """
    newest = (
        select(RunSegment.id)
        .where(RunSegment.binding_id == Binding.id, RunSegment.actual_size.is_not(None))
        .order_by(RunSegment.id.desc())
        .limit(1)
        .correlate(Binding)
        .scalar_subquery()
    )
    query = (
        select(Binding.segment_id, RunSegment, Run.finished_at)
        .join(RunSegment, RunSegment.id == newest)
        .join(Run, Run.id == RunSegment.run_id)
        .where(Binding.export_id == export_id)
    )
    return {
        segment_id: ListSize(
            run_id=part.run_id,
            list_id=part.list_id,
            expected_size=part.expected_size or 0,
            actual_size=part.actual_size or 0,
            beyond_threshold=part.status == RunStatus.DRIFTED.code,
            checked_at=finished_at,
        )
        for segment_id, part, finished_at in session.execute(query)
    }


def run_in_progress(session: Session, export_id: int) -> RunInfo | None:
    """The export's newest run recorded Queued or Running (it may read otherwise)."""
    live = (RunStatus.RUNNING.code, RunStatus.QUEUED.code)
    query = (
        _with_export_and_lock()
        .where(Run.export_id == export_id, Run.status.in_(live))
        .order_by(Run.id.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    if found is None:
        return None
    run, name, lock = found
    return _info(run, name, lock, now=utc_now())


def require_export(info: RunInfo) -> RunInfo:
    """The run, unless its export was removed (then nothing can act on it)."""
    if info.export_removed:
        msg = (
            f"Run {info.id} belongs to export {info.export_name!r}, which was"
            " removed: its history stays readable, but it cannot be resumed,"
            " canceled, approved or discarded."
        )
        raise ConflictError(msg)
    return info


def removed_export_names(session: Session) -> list[str]:
    """The names of removed exports that left runs behind."""
    query = select(Run.export_name).where(Run.export_id.is_(None)).distinct()
    return list(session.scalars(query))


def _with_export_and_lock() -> Select[Run, str, ExportLock]:
    """Runs with their export's current name and the lease held for them."""
    return (
        select(Run, func.coalesce(Export.name, Run.export_name), ExportLock)
        .outerjoin(Export, Export.id == Run.export_id)
        .outerjoin(
            ExportLock,
            and_(ExportLock.export_id == Run.export_id, ExportLock.run_id == Run.id),
        )
        .options(selectinload(Run.segments))
    )


def waiting_runs(session: Session) -> list[int]:
    """The runs the worker has to execute, oldest first.

    Queued runs, and Held or stopped runs whose approval or resume was queued.
    """
    query = (
        select(Run.id)
        .where((Run.status == RunStatus.QUEUED.code) | Run.queued_action.is_not(None))
        .order_by(Run.id)
    )
    return list(session.scalars(query))


def _info(
    run: Run, export_name: str, lock: ExportLock | None, *, now: datetime
) -> RunInfo:
    status, error = RunStatus.from_code(run.status), run.error
    dead = status is RunStatus.RUNNING and is_dead(run, lock, now=now)
    if dead:
        status = RunStatus.CANCELED if run.dry_run else RunStatus.INTERRUPTED
        error = dead_run_note(run)
    return RunInfo(
        id=run.id,
        export_id=run.export_id,
        export_name=export_name,
        trigger=run.trigger,
        status=status,
        dry_run=run.dry_run,
        requested_by=run.requested_by,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=error,
        cancel_requested=run.cancel_requested,
        counts=dict(run.counts) if run.counts else totals(run.segments),
        segments=tuple(
            _segment_info(part, stopped=status if dead else None)
            for part in run.segments
        ),
        full_resync=run.full_resync,
        queued_action=run.queued_action,
        queued_by=run.queued_by,
    )


def _segment_info(part: RunSegment, *, stopped: RunStatus | None) -> SegmentRunInfo:
    """A segment of the run; ``stopped``: how its dead run reads, if it is dead."""
    status = RunStatus.from_code(part.status)
    if stopped is not None and status is RunStatus.RUNNING:
        status = stopped
    return SegmentRunInfo(
        id=part.id,
        binding_id=part.binding_id,
        segment_name=part.segment_name,
        status=status,
        list_id=part.list_id,
        list_action=part.list_action,
        planned_add=part.planned_add,
        planned_update=part.planned_update,
        planned_remove=part.planned_remove,
        unchanged=part.unchanged,
        added=part.added,
        updated=part.updated,
        removed=part.removed,
        rejected=dict(part.rejected or {}),
        invalid_in_source=part.invalid_in_source,
        not_consenting=part.not_consenting,
        batches_total=part.batches_total,
        batches_acked=part.batches_acked,
        retries=part.retries,
        held_removals=part.held_removals,
        expected_size=part.expected_size,
        actual_size=part.actual_size,
    )
