"""How a run or one of its segments ended, and the errors that stop a run."""

from __future__ import annotations

from dataclasses import dataclass

from audiencesync.errors import AudiencesyncError


class RunFailedError(AudiencesyncError):
    """Raised when a run ended Failed (permanent); the run record says why."""

    def __init__(self, run_id: int, reason: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"Run {run_id} failed: {reason} See `audiencesync runs show {run_id}`."
        )


class RunCanceledError(AudiencesyncError):
    """Raised inside a runner at the batch boundary after a cancel was asked for."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"Run {run_id} was canceled at a batch boundary.")


@dataclass(frozen=True, slots=True)
class SegmentOutcome:
    """What one segment's pass left: rejects recorded, removals held, a failure.

    ``failed`` is why the segment could not be synced (its condition could not be
    evaluated), in safe words; the run's other segments go on.
    """

    rejected: bool = False
    held: bool = False
    failed: str | None = None
