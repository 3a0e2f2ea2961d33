"""Run segments: their plan, their list, and the checkpoint of each batch.

Every function works inside the caller's session and commits with it. The
runner gives :func:`checkpoint` a session of its own and ends that block right
after, so a batch is durable as acknowledged exactly when its rejects and
counters are: never before the ack, and never without them. Checkpointing a
batch twice (a resumed run re-acking it) changes nothing.

Identifiers go into the database (the rejects CSV needs them) but never into a
message or a log line; :class:`Reject` hides its identifier from ``repr``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from audiencesync.errors import NotFoundError
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Binding, Run, RunBatch, RunReject, RunSegment
from audiencesync.sync.bindings import add_final
from audiencesync.sync.statuses import RunStatus, transition


class RejectBucket(enum.StrEnum):
    """Why an identifier did not make it (Iterable's buckets, and our own)."""

    INVALID_IN_SOURCE = "invalid_in_source"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORGOTTEN = "forgotten"
    CONFLICT = "conflict"
    INVALID_DATA = "invalid_data"
    TOO_LARGE = "too_large"


FINAL_BUCKETS = frozenset({RejectBucket.FORGOTTEN})
"""Buckets whose identifiers are never sent to that list again."""


@dataclass(frozen=True, slots=True)
class Reject:
    """One identifier that did not make it; ``repr`` shows neither it nor its key."""

    identifier: str = field(repr=False)
    bucket: str
    reason: str = ""
    retryable: bool = True
    profile_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What a run segment's plan holds, counted before anything is sent."""

    add: int = 0
    update: int = 0
    remove: int = 0
    unchanged: int = 0
    invalid_in_source: int = 0
    not_consenting: int = 0
    batches: int = 0
    held_removals: bool = False


def add_run_segment(
    session: Session, run: Run, binding: Binding, *, segment_name: str
) -> RunSegment:
    """The run's part for ``binding`` (Queued, flushed so it has its id)."""
    part = RunSegment(
        binding_id=binding.id,
        segment_name=segment_name,
        list_id=binding.list_id,
        rejected={},
        status=RunStatus.QUEUED.code,
    )
    run.segments.append(part)
    session.flush()
    return part


def record_plan(
    session: Session,
    run_segment_id: int,
    summary: PlanSummary,
    *,
    plan_path: str | None = None,
) -> RunSegment:
    """Store the persisted plan's location and counts."""
    part = _segment(session, run_segment_id)
    part.plan_path = plan_path
    part.planned_add, part.planned_update = summary.add, summary.update
    part.planned_remove, part.unchanged = summary.remove, summary.unchanged
    part.invalid_in_source = summary.invalid_in_source
    part.not_consenting = summary.not_consenting
    part.batches_total, part.held_removals = summary.batches, summary.held_removals
    return part


def record_list(
    session: Session, run_segment_id: int, *, list_id: int | None, action: str
) -> None:
    """Note which list the segment went to and how (adopted, created...)."""
    part = _segment(session, run_segment_id)
    part.list_id, part.list_action = list_id, action


def record_drift(
    session: Session, run_segment_id: int, *, expected: int, actual: int | None
) -> None:
    """Store the list size expected after the run and the size Iterable reports."""
    part = _segment(session, run_segment_id)
    part.expected_size, part.actual_size = expected, actual


def set_segment_status(
    session: Session, run_segment_id: int, status: RunStatus
) -> None:
    """Move one run segment to ``status`` (the same rules as runs)."""
    part = _segment(session, run_segment_id)
    current = RunStatus.from_code(part.status)
    part.status = transition(current, status, run_id=part.run_id).code


def add_rejects(
    session: Session,
    run_segment_id: int,
    rejects: Sequence[Reject],
    *,
    batch: int | None = None,
) -> None:
    """Store rejects of the run segment (``batch`` None: caught before sending)."""
    if rejects:
        rows = [_reject_row(run_segment_id, batch, reject) for reject in rejects]
        session.execute(insert(RunReject), rows)


def _reject_row(run_segment_id: int, batch: int | None, reject: Reject) -> Any:
    return {
        "run_segment_id": run_segment_id,
        "batch": batch,
        "identifier": reject.identifier,
        "bucket": str(reject.bucket),
        "reason": reject.reason,
        "retryable": reject.retryable,
        "profile_key": reject.profile_key,
    }


def checkpoint(
    session: Session,
    run_segment_id: int,
    batch: int,
    action: str,
    size: int,
    *,
    rejects: Sequence[Reject] = (),
    retries: int = 0,
    updated: int = 0,
    now: datetime | None = None,
) -> bool:
    """Mark an acknowledged batch done, with its rejects and counts; False if it was.

    Of a subscribe batch, ``size - len(rejects)`` were accepted, ``updated`` of
    them members whose fields changed and the rest additions; of an unsubscribe
    batch, the accepted ones were removed (pass Iterable's "not found" as
    accepted). Forgotten identifiers also become final rejects of the binding.
    """
    accepted = size - len(rejects)
    if accepted < 0 or not 0 <= updated <= accepted:
        msg = f"Batch {batch}: {len(rejects)} rejects and {updated} updates in {size}"
        raise ValueError(msg)
    # Plain Core execution on the session's connection: these run once per
    # batch, and the ORM layer would more than double their cost.
    connection = session.connection()
    found = connection.execute(_ACKED_AT, {"part": run_segment_id, "batch": batch})
    seen = found.first()
    if seen is not None and seen[0] is not None:
        return False
    if seen is None and not rejects:
        clean = CleanBatch(batch, action, size, retries=retries, updated=updated)
        _add_clean(session, run_segment_id, [clean], now=now)
        return True
    part = _segment(session, run_segment_id)
    known = session.get(RunBatch, (run_segment_id, batch))
    row = known or RunBatch(run_segment_id=run_segment_id, batch=batch)
    row.action, row.size, row.attempts = action, size, retries + 1
    row.acked_at = now or utc_now()
    session.add(row)
    add_rejects(session, run_segment_id, rejects, batch=batch)
    _count_batch(part, action, accepted=accepted, updated=updated, rejects=rejects)
    part.retries += retries
    final = [reject for reject in rejects if reject.bucket in FINAL_BUCKETS]
    if part.binding_id is not None:  # None once its export was removed
        add_final(session, part.binding_id, final, run_id=part.run_id)
    session.flush()
    return True


@dataclass(frozen=True, slots=True)
class CleanBatch:
    """A batch Iterable took whole: its number, action, size, retries, updates."""

    number: int
    action: str
    size: int
    retries: int = 0
    updated: int = 0


def checkpoint_clean(
    session: Session,
    run_segment_id: int,
    batches: Sequence[CleanBatch],
    *,
    now: datetime | None = None,
) -> None:
    """:func:`checkpoint` for batches Iterable took whole, all in three statements.

    The sender's answers arrive a few at a time; each statement per batch would
    cost more than the call itself. A batch that already has a row (acknowledged
    before, or recorded by an earlier attempt) goes through :func:`checkpoint`.
    """
    if not batches:
        return
    for batch in batches:
        if not 0 <= batch.updated <= batch.size:
            msg = f"Batch {batch.number}: {batch.updated} updates in {batch.size}"
            raise ValueError(msg)
    connection = session.connection()
    asked = {"part": run_segment_id, "numbers": [batch.number for batch in batches]}
    known = set(connection.scalars(_KNOWN, asked))
    for batch in (batch for batch in batches if batch.number in known):
        checkpoint(session, run_segment_id, batch.number, batch.action, batch.size,
                   retries=batch.retries, updated=batch.updated, now=now)  # fmt: skip
    _add_clean(session, run_segment_id, [b for b in batches if b.number not in known],
               now=now)  # fmt: skip


def _add_clean(
    session: Session,
    run_segment_id: int,
    batches: Sequence[CleanBatch],
    *,
    now: datetime | None,
) -> None:
    """Rows for ``batches`` (none known yet) and their counts: two statements."""
    if not batches:
        return
    connection = session.connection()
    acked = now or utc_now()
    connection.execute(
        _INSERT_BATCH,
        [{"part": run_segment_id, "batch": b.number, "action": b.action,
          "size": b.size, "attempts": b.retries + 1, "acked": acked} for b in batches],
    )  # fmt: skip
    removed = [b.size for b in batches if b.action == "unsubscribe"]
    subscribed = [b for b in batches if b.action != "unsubscribe"]
    connection.execute(
        _COUNT_BATCHES,
        {"part": run_segment_id,
         "added": sum(b.size - b.updated for b in subscribed),
         "changed": sum(b.updated for b in subscribed), "removed": sum(removed),
         "retries": sum(b.retries for b in batches), "acked": len(batches)},
    )  # fmt: skip


_INSERT_BATCH = insert(RunBatch).values(
    run_segment_id=bindparam("part"),
    batch=bindparam("batch"),
    action=bindparam("action"),
    size=bindparam("size"),
    attempts=bindparam("attempts"),
    acked_at=bindparam("acked"),
)
_COUNT_BATCHES = (
    update(RunSegment)
    .where(RunSegment.id == bindparam("part"))
    .values(
        added=RunSegment.added + bindparam("added"),
        updated=RunSegment.updated + bindparam("changed"),
        removed=RunSegment.removed + bindparam("removed"),
        retries=RunSegment.retries + bindparam("retries"),
        batches_acked=RunSegment.batches_acked + bindparam("acked"),
    )
    .execution_options(synchronize_session=False)
)
_KNOWN = select(RunBatch.batch).where(
    RunBatch.run_segment_id == bindparam("part"),
    RunBatch.batch.in_(bindparam("numbers", expanding=True)),
)
_ACKED_AT = select(RunBatch.acked_at).where(
    RunBatch.run_segment_id == bindparam("part"), RunBatch.batch == bindparam("batch")
)


def _count_batch(
    part: RunSegment,
    action: str,
    *,
    accepted: int,
    updated: int,
    rejects: Sequence[Reject],
) -> None:
    if action == "unsubscribe":
        part.removed += accepted
    else:
        part.added += accepted - updated
        part.updated += updated
    by_bucket = dict(part.rejected or {})
    for reject in rejects:
        by_bucket[str(reject.bucket)] = by_bucket.get(str(reject.bucket), 0) + 1
    part.rejected = by_bucket
    part.batches_acked += 1


def acked_batches(session: Session, run_segment_id: int) -> set[int]:
    """The numbers of the run segment's acknowledged batches (skip them on resume)."""
    rows = session.scalars(
        select(RunBatch.batch).where(
            RunBatch.run_segment_id == run_segment_id, RunBatch.acked_at.is_not(None)
        )
    )
    return set(rows)


def _segment(session: Session, run_segment_id: int) -> RunSegment:
    part = session.get(RunSegment, run_segment_id)
    if part is None:
        msg = f"Run segment {run_segment_id} does not exist."
        raise NotFoundError(msg)
    return part
