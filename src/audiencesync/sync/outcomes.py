"""How a run or one of its segments ended, and the errors that stop a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audiencesync.errors import AudiencesyncError, FatalError

if TYPE_CHECKING:
    from audiencesync.sync.batches import EncodedBatch
    from audiencesync.sync.checkpoints import Reject


class RunFailedError(AudiencesyncError):
    """Raised when a run ended Failed (permanent); the run record says why."""

    def __init__(self, run_id: int, reason: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"Run {run_id} failed: {reason} Its run record shows the details.",
            code="run_failed",
            details={"run_id": run_id},
        )


class RunCanceledError(AudiencesyncError):
    """Raised inside a runner at the batch boundary after a cancel was asked for."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(
            f"Run {run_id} was canceled; its batches in flight were answered."
        )


class BatchRefusedError(FatalError):
    """Raised when Iterable refused every row of a run's first batch, for one reason.

    Sending the rest would only be refused the same way: the run stops with
    the likely fix. The batch is checkpointed (its rows are rejects) first.
    """

    def __init__(self, bucket: str, rows: int, reason: str) -> None:
        self.bucket, self.rows = bucket, rows
        fix = _FIXES.get(bucket, _DEFAULT_FIX)
        said = f" ({_safe(reason)})" if reason else ""
        super().__init__(
            f"Iterable refused all {rows} profiles of the first batch as {bucket}"
            f"{said}, so the rest was not sent: {fix}"
        )


def _safe(reason: str) -> str:
    """A reject's reason fit for a run's error: our fixed words, or Iterable's code.

    Iterable's own message (after the code) is kept in the rejects report only:
    a run's error is logged and mailed, and a message could quote a value.
    """
    if reason.startswith("failedUpdates."):
        return reason  # the array's name and its documented meaning, fixed text
    return reason.split(":", 1)[0]


MIN_REFUSED_ROWS = 10
"""A first batch this large, refused whole, stops the run (``not_found``: any)."""
_FIXES = {
    "not_found": (
        "the Iterable project identifies users by userId: map a userId field"
        " in the export's user ID field (or check the one mapped)."
    ),
    "invalid": (
        "Iterable finds the identifiers malformed: check that the export's email"
        " field and user ID field name the right columns."
    ),
    "invalid_data": (
        "the mapped fields' types do not match the project's: fix the export's"
        " field mapping or the values."
    ),
}
_DEFAULT_FIX = "fix the export's mapping or the Iterable project, then run again."


def whole_refusal(
    batch: EncodedBatch, rejects: Sequence[Reject]
) -> BatchRefusedError | None:
    """The error to stop on when Iterable refused a first subscribe batch whole."""
    buckets = {reject.bucket for reject in rejects}
    rows = len(batch.rows)
    if batch.action != "subscribe" or len(rejects) != rows or len(buckets) != 1:
        return None
    [bucket] = buckets
    if bucket == "forgotten":  # people's own choice, no mapping fault
        return None
    if rows < MIN_REFUSED_ROWS and bucket != "not_found":
        return None
    return BatchRefusedError(str(bucket), rows, rejects[0].reason)


@dataclass(frozen=True, slots=True)
class SegmentOutcome:
    """What one segment's pass left: rejects recorded, removals held, drift, a failure.

    ``failed`` is why the segment could not be synced (its condition could not be
    evaluated), in safe words; the run's other segments go on.
    """

    rejected: bool = False
    held: bool = False
    drifted: bool = False
    failed: str | None = None
