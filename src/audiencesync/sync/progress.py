"""How a run reports its progress: a small protocol the CLI draws as bars.

The runner calls :meth:`RunProgress.segment_started` once a segment's plan is
known, :meth:`RunProgress.advanced` after every acknowledged batch, and
:meth:`RunProgress.segment_finished` at its end. ``rate`` is the rate budget:
the subscribe calls per second the client's limiter allows now, so a display
can give an ETA from it. Nothing identifying a profile ever passes here.
"""

from __future__ import annotations

from typing import Protocol


class RunProgress(Protocol):
    """Receives a run's progress; every method must return quickly."""

    def segment_started(self, segment: str, *, rows: int) -> None:
        """A segment starts sending ``rows`` rows (subscribe and unsubscribe)."""

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """``rows`` more rows were acknowledged; ``rate``: allowed calls per second."""

    def segment_finished(self, segment: str) -> None:
        """The segment is done (sent, held, or stopped)."""


class NoProgress:
    """A progress receiver that shows nothing (scheduler, JSON output, tests)."""

    def segment_started(self, segment: str, *, rows: int) -> None:
        """Ignore the start."""

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """Ignore the step."""

    def segment_finished(self, segment: str) -> None:
        """Ignore the end."""
