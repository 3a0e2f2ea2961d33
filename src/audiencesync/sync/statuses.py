"""Run statuses, the moves allowed between them, and the check that enforces them.

A :class:`RunStatus`'s value is the word people read ("Failed (retrying)"); the
database stores its short :attr:`RunStatus.code` (``retrying``), which
:meth:`RunStatus.from_code` maps back. Runs and run segments share the set.

::

    Queued ──▶ Running ──▶ Succeeded | Succeeded with rejects | Succeeded with drift
      │          │  │        | Failed (permanent)
      │          │  ├──▶ Held ──(approved)──▶ Running  (discarded: Removals discarded)
      │          │  ├──▶ Failed (retrying) ──▶ Running
      │          │  └──▶ Interrupted (resumable) ──▶ Running
      └──────────┴─────▶ Canceled   (from every status that is not terminal)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from audiencesync.errors import ConflictError

SUPERSEDED = "Superseded by run"  # how the note of a superseded Held run begins


class RunStatus(enum.StrEnum):
    """Where a run (or one segment of it) stands."""

    QUEUED = "Queued"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    SUCCEEDED_WITH_REJECTS = "Succeeded with rejects"
    HELD = "Held"
    FAILED_RETRYING = "Failed (retrying)"
    FAILED_PERMANENT = "Failed (permanent)"
    CANCELED = "Canceled"
    INTERRUPTED = "Interrupted (resumable)"
    DISCARDED = "Removals discarded"
    DRIFTED = "Succeeded with drift"

    @property
    def code(self) -> str:
        """The short code stored in the database."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: str) -> RunStatus:
        """The status stored as ``code``."""
        return _BY_CODE[code]

    @property
    def is_terminal(self) -> bool:
        """Whether the run is over for good: nothing can follow."""
        return not TRANSITIONS[self]

    @property
    def is_resumable(self) -> bool:
        """Whether ``runs resume`` (or the next run) may continue this run's plan."""
        return self in {RunStatus.INTERRUPTED, RunStatus.FAILED_RETRYING}


_CODES: Mapping[RunStatus, str] = {
    RunStatus.QUEUED: "queued",
    RunStatus.RUNNING: "running",
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.SUCCEEDED_WITH_REJECTS: "rejects",
    RunStatus.HELD: "held",
    RunStatus.FAILED_RETRYING: "retrying",
    RunStatus.FAILED_PERMANENT: "failed",
    RunStatus.CANCELED: "canceled",
    RunStatus.INTERRUPTED: "interrupted",
    RunStatus.DISCARDED: "discarded",
    RunStatus.DRIFTED: "drift",
}
_BY_CODE: Mapping[str, RunStatus] = {code: status for status, code in _CODES.items()}

_ENDINGS = frozenset(
    {
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED_WITH_REJECTS,
        RunStatus.DRIFTED,
        RunStatus.FAILED_PERMANENT,
        RunStatus.CANCELED,
    }
)
TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset(
        {RunStatus.RUNNING, RunStatus.CANCELED, RunStatus.FAILED_PERMANENT}
    ),
    RunStatus.RUNNING: _ENDINGS
    | {RunStatus.HELD, RunStatus.FAILED_RETRYING, RunStatus.INTERRUPTED},
    RunStatus.HELD: _ENDINGS | {RunStatus.RUNNING, RunStatus.DISCARDED},
    RunStatus.FAILED_RETRYING: frozenset(
        {RunStatus.RUNNING, RunStatus.CANCELED, RunStatus.FAILED_PERMANENT}
    ),
    RunStatus.INTERRUPTED: frozenset(
        {RunStatus.RUNNING, RunStatus.CANCELED, RunStatus.FAILED_PERMANENT}
    ),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.SUCCEEDED_WITH_REJECTS: frozenset(),
    RunStatus.FAILED_PERMANENT: frozenset(),
    RunStatus.CANCELED: frozenset(),
    RunStatus.DISCARDED: frozenset(),
    RunStatus.DRIFTED: frozenset(),
}
"""Every allowed move: ``TRANSITIONS[current]`` is what may come next."""


class StatusTransitionError(ConflictError):
    """Raised when a run is asked to move to a status its current one forbids."""

    def __init__(
        self, current: RunStatus, new: RunStatus, *, run_id: int | None = None
    ) -> None:
        self.current, self.new, self.run_id = current, new, run_id
        subject = "A run" if run_id is None else f"Run {run_id}"
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing: it is over"
        msg = (
            f"{subject} that is {current} cannot become {new}"
            f" (it can become {allowed})."
        )
        super().__init__(msg)


def transition(
    current: RunStatus, new: RunStatus, *, run_id: int | None = None
) -> RunStatus:
    """``new``, when a run that is ``current`` may move to it; else an error."""
    if new not in TRANSITIONS[current]:
        raise StatusTransitionError(current, new, run_id=run_id)
    return new
