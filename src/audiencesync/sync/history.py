"""Run history as readers see it: run summaries and the per-profile rejects.

``runs list | show`` and the web pages read :class:`RunInfo` records;
``runs rejects RUN_ID --csv`` streams :class:`RejectRow`\\s, which carry
identifiers (emails): only users allowed to download rejects may see them, and
they are never logged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audiencesync.store.destinations import Export
from audiencesync.store.runs import Run, RunReject, RunSegment
from audiencesync.sync.records import get_run, totals
from audiencesync.sync.statuses import RunStatus

STREAM_CHUNK = 1000  # reject rows fetched per round trip


@dataclass(frozen=True, slots=True)
class SegmentRunInfo:
    """One segment's part of a run: its list, plan, counts and status."""

    id: int
    binding_id: int
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
    export_id: int
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

    @property
    def duration(self) -> timedelta | None:
        """How long the run took (None until it started and ended)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


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


def run_info(session: Session, run_id: int) -> RunInfo:
    """The run's summary, or NotFoundError."""
    run = get_run(session, run_id)
    return _info(run, _export_name(session, run.export_id))


def list_runs(
    session: Session, *, export_id: int | None = None, limit: int = 50
) -> list[RunInfo]:
    """The newest runs first (of one export when ``export_id`` is given)."""
    query = (
        select(Run, Export.name)
        .join(Export, Export.id == Run.export_id)
        .options(selectinload(Run.segments))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    if export_id is not None:
        query = query.where(Run.export_id == export_id)
    return [_info(run, name) for run, name in session.execute(query)]


def rejects(session: Session, run_id: int) -> Iterator[RejectRow]:
    """Every reject of the run, segment by segment, streamed in chunks."""
    query = (
        select(RunSegment.segment_name, RunReject)
        .join(RunSegment, RunSegment.id == RunReject.run_segment_id)
        .where(RunSegment.run_id == run_id)
        .order_by(RunSegment.id, RunReject.id)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    result = session.execute(query)
    try:
        for name, row in result:
            yield RejectRow(
                name, row.batch, row.identifier, row.bucket, row.reason, row.retryable,
                profile_key=row.profile_key,
            )  # fmt: skip
    finally:
        result.close()  # a consumer that stops early frees the server-side cursor


def _export_name(session: Session, export_id: int) -> str:
    return session.scalars(select(Export.name).where(Export.id == export_id)).one()


def _info(run: Run, export_name: str) -> RunInfo:
    return RunInfo(
        id=run.id,
        export_id=run.export_id,
        export_name=export_name,
        trigger=run.trigger,
        status=RunStatus.from_code(run.status),
        dry_run=run.dry_run,
        requested_by=run.requested_by,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
        cancel_requested=run.cancel_requested,
        counts=dict(run.counts) if run.counts else totals(run.segments),
        segments=tuple(_segment_info(part) for part in run.segments),
        full_resync=run.full_resync,
    )


def _segment_info(part: RunSegment) -> SegmentRunInfo:
    return SegmentRunInfo(
        id=part.id,
        binding_id=part.binding_id,
        segment_name=part.segment_name,
        status=RunStatus.from_code(part.status),
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
