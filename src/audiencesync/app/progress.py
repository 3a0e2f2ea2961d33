"""A run's progress as people follow it: per segment, sent of planned, rate and ETA.

:func:`sample_run` reads the run's record once, in a short session of its own
(nothing stays open between two reads). A :class:`ProgressTracker` turns the
successive samples of one run into :class:`RunProgressView`\\s: the rate of a
segment is the rows acknowledged per second over the last :data:`RATE_WINDOW`
seconds of samples, its ETA the rows left at that rate. The tracker also says
whether anything a reader sees changed since the previous sample, so a stream
sends only news. Counts only: no profile data passes here.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from audiencesync.app.views import View
from audiencesync.sync.history import RunInfo, SegmentRunInfo, run_info
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from audiencesync.store.database import Database

RATE_WINDOW = 10.0
"""Seconds of samples a segment's rate is measured over."""

_UNDERWAY = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


@dataclass(frozen=True, slots=True)
class SegmentSample:
    """One segment of a run at one moment: its status, rows sent and planned."""

    segment: str
    status: RunStatus
    sent: int
    planned: int


@dataclass(frozen=True, slots=True)
class RunSample:
    """One run at one moment."""

    run_id: int
    export: str
    status: RunStatus
    segments: tuple[SegmentSample, ...]
    error: str | None = None
    queued_action: str | None = None  # an approval or resume waiting for the worker

    @property
    def is_over(self) -> bool:
        """Whether the run stopped: not Queued, not Running, no pass of it queued.

        Held, Failed (retrying) and Interrupted runs may run again later (an
        approval, a resume): once one is queued, the run is underway again.
        """
        return self.status not in _UNDERWAY and self.queued_action is None


def sample_run(database: Database, run_id: int) -> RunSample:
    """The run as recorded now (NotFoundError for an unknown run)."""
    with database.session() as session:
        info = run_info(session, run_id)
    return sample_of(info)


def sample_of(info: RunInfo) -> RunSample:
    """The progress-relevant part of a run's summary."""
    return RunSample(
        run_id=info.id,
        export=info.export_name,
        status=info.status,
        segments=tuple(_segment_sample(part) for part in info.segments),
        error=info.error,
        queued_action=info.queued_action,
    )


def _segment_sample(part: SegmentRunInfo) -> SegmentSample:
    sent = part.added + part.updated + part.removed + sum(part.rejected.values())
    planned = part.planned_add + part.planned_update + part.planned_remove
    return SegmentSample(part.segment_name, part.status, sent, planned)


class SegmentProgressView(View):
    """One segment's progress: status, rows sent of planned, rate and ETA."""

    segment: str
    status: RunStatus
    sent: int
    planned: int
    rate_per_second: float | None
    """Rows acknowledged per second lately (None until two samples differ)."""
    eta_seconds: int | None
    """Seconds left at that rate (0 once the segment stopped; None: unknown)."""


class RunProgressView(View):
    """A run's progress: its status, and each segment's."""

    run_id: int
    export: str
    status: RunStatus
    finished: bool
    """True once the run is neither Queued nor Running."""
    error: str | None
    segments: list[SegmentProgressView]


@dataclass(slots=True)
class _History:
    """A segment's recent (time, sent) samples, oldest first."""

    points: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, at: float, sent: int, *, window: float) -> None:
        if self.points and sent < self.points[-1][1]:
            self.points.clear()  # counts restarted (a resumed run's new plan)
        self.points.append((at, sent))
        while len(self.points) > 2 and at - self.points[1][0] >= window:
            self.points.popleft()

    def rate(self) -> float | None:
        if len(self.points) < 2:
            return None
        (first_at, first_sent), (last_at, last_sent) = self.points[0], self.points[-1]
        if last_at <= first_at:
            return None
        return (last_sent - first_sent) / (last_at - first_at)


class ProgressTracker:
    """Turns successive samples of one run into progress views with rate and ETA."""

    def __init__(
        self,
        *,
        window: float = RATE_WINDOW,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._now = now
        self._histories: dict[str, _History] = {}
        self._last: RunSample | None = None

    def observe(self, sample: RunSample) -> tuple[RunProgressView, bool]:
        """The sample as a view, and whether it differs from the previous one."""
        at = self._now()
        changed = sample != self._last
        self._last = sample
        segments = [self._segment(part, at) for part in sample.segments]
        view = RunProgressView(
            run_id=sample.run_id,
            export=sample.export,
            status=sample.status,
            finished=sample.is_over,
            error=sample.error,
            segments=segments,
        )
        return view, changed

    def _segment(self, part: SegmentSample, at: float) -> SegmentProgressView:
        history = self._histories.setdefault(part.segment, _History())
        history.add(at, part.sent, window=self._window)
        running = part.status is RunStatus.RUNNING
        rate = history.rate() if running else None
        return SegmentProgressView(
            segment=part.segment,
            status=part.status,
            sent=part.sent,
            planned=part.planned,
            rate_per_second=None if rate is None else round(rate, 1),
            eta_seconds=_eta(part, rate),
        )


def _eta(part: SegmentSample, rate: float | None) -> int | None:
    if part.status not in _UNDERWAY:
        return 0
    if not rate or rate <= 0:
        return None
    return math.ceil(max(part.planned - part.sent, 0) / rate)
