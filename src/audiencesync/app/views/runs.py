"""The JSON shape of runs: ``runs list | show --json``, ``exports run --json``, the API.

A :class:`RunView` is a run with its per-segment progress (:class:`SegmentRunView`);
a :class:`RejectView` is one profile a run could not deliver. Rejects hold an
identifier (an e-mail address or a userId): only users who may see profile data
read them (the service checks; the view only carries them).
"""

from __future__ import annotations

from datetime import datetime

from audiencesync.app.views import View
from audiencesync.sync.history import ListSize, RejectRow, RunInfo, SegmentRunInfo


class SegmentRunView(View):
    """One segment's part of a run: its list, its plan, what was sent, its status."""

    segment: str
    status: str
    list_id: int | None
    list_action: str | None
    planned_add: int
    planned_update: int
    planned_remove: int
    added: int
    updated: int
    removed: int
    unchanged: int
    rejected: dict[str, int]
    invalid_in_source: int
    not_consenting: int
    batches: int
    batches_total: int
    retries: int
    held_removals: bool
    expected_size: int | None
    actual_size: int | None
    drift: int | None

    @classmethod
    def of(cls, part: SegmentRunInfo) -> SegmentRunView:
        """The view of a run segment record."""
        return cls(
            segment=part.segment_name,
            status=str(part.status),
            list_id=part.list_id,
            list_action=part.list_action,
            planned_add=part.planned_add,
            planned_update=part.planned_update,
            planned_remove=part.planned_remove,
            added=part.added,
            updated=part.updated,
            removed=part.removed,
            unchanged=part.unchanged,
            rejected=dict(part.rejected),
            invalid_in_source=part.invalid_in_source,
            not_consenting=part.not_consenting,
            batches=part.batches_acked,
            batches_total=part.batches_total,
            retries=part.retries,
            held_removals=part.held_removals,
            expected_size=part.expected_size,
            actual_size=part.actual_size,
            drift=part.drift,
        )


class RunView(View):
    """One run of an export: status, who asked, when, and each segment's progress."""

    id: int
    export: str
    export_removed: bool
    status: str
    trigger: str
    dry_run: bool
    full_resync: bool
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    cancel_requested: bool
    queued_action: str | None
    queued_by: str | None
    duration_seconds: float | None
    segments: list[SegmentRunView]

    @classmethod
    def of(cls, info: RunInfo) -> RunView:
        """The view of a run record."""
        return cls(
            id=info.id,
            export=info.export_name,
            export_removed=info.export_removed,
            status=str(info.status),
            trigger=info.trigger,
            dry_run=info.dry_run,
            full_resync=info.full_resync,
            requested_by=info.requested_by,
            created_at=info.created_at,
            started_at=info.started_at,
            finished_at=info.finished_at,
            error=info.error,
            cancel_requested=info.cancel_requested,
            queued_action=info.queued_action,
            queued_by=info.queued_by,
            duration_seconds=info.duration.total_seconds() if info.duration else None,
            segments=[SegmentRunView.of(part) for part in info.segments],
        )

    @property
    def is_over(self) -> bool:
        """Whether the run stopped (for now or for good): nothing runs it now."""
        return self.status not in {"Queued", "Running"} and self.queued_action is None


class ListDriftView(View):
    """One segment's list and its newest drift check (None: never checked)."""

    segment: str
    checked: bool
    run_id: int | None
    list_id: int | None
    expected_size: int | None
    actual_size: int | None
    drift: int | None
    beyond_threshold: bool
    checked_at: datetime | None

    @classmethod
    def of(cls, segment: str, size: ListSize | None) -> ListDriftView:
        """The view of a segment's list size check."""
        if size is None:
            return cls(segment=segment, checked=False, run_id=None, list_id=None,
                       expected_size=None, actual_size=None, drift=None,
                       beyond_threshold=False, checked_at=None)  # fmt: skip
        return cls(
            segment=segment,
            checked=True,
            run_id=size.run_id,
            list_id=size.list_id,
            expected_size=size.expected_size,
            actual_size=size.actual_size,
            drift=size.drift,
            beyond_threshold=size.beyond_threshold,
            checked_at=size.checked_at,
        )


class RejectView(View):
    """One profile Iterable (or the source) refused in a run, and why."""

    segment: str
    batch: int | None
    profile_key: str | None
    identifier: str
    bucket: str
    reason: str
    retryable: bool

    @classmethod
    def of(cls, row: RejectRow) -> RejectView:
        """The view of a reject row."""
        return cls(
            segment=row.segment_name,
            batch=row.batch,
            profile_key=row.profile_key,
            identifier=row.identifier,
            bucket=row.bucket,
            reason=row.reason,
            retryable=row.retryable,
        )
