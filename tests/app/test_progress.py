"""A run's progress views: rows sent of planned, rate and ETA from samples."""

from __future__ import annotations

import pytest

from audiencesync.app.progress import ProgressTracker, RunSample, SegmentSample
from audiencesync.sync.statuses import RunStatus


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _sample(
    sent: int,
    *,
    planned: int = 1000,
    status: RunStatus = RunStatus.RUNNING,
    run_status: RunStatus = RunStatus.RUNNING,
) -> RunSample:
    part = SegmentSample("VIP", status, sent, planned)
    return RunSample(1, "Newsletter", run_status, (part,))


def test_rate_and_eta_come_from_successive_samples() -> None:
    """200 rows in 2 s is 100 rows/s; 600 rows left is 6 s."""
    clock = Clock()
    tracker = ProgressTracker(now=clock)
    tracker.observe(_sample(200))
    clock.now += 2
    view, _ = tracker.observe(_sample(400))
    segment = view.segments[0]
    assert (segment.sent, segment.planned) == (400, 1000)
    assert (segment.rate_per_second, segment.eta_seconds) == (100.0, 6)


def test_one_sample_has_no_rate_yet() -> None:
    """The first look at a running segment knows no rate and no ETA."""
    view, changed = ProgressTracker(now=Clock()).observe(_sample(10))
    assert changed
    assert (view.segments[0].rate_per_second, view.segments[0].eta_seconds) == (
        None,
        None,
    )


def test_the_rate_follows_the_recent_window() -> None:
    """Samples older than the window stop counting: a slowdown shows."""
    clock = Clock()
    tracker = ProgressTracker(window=4, now=clock)
    for sent in (0, 400, 800, 1200):  # 400 rows/s for 3 s
        tracker.observe(_sample(sent, planned=5000))
        clock.now += 1
    for sent in (1250, 1300, 1350, 1400, 1450, 1500):  # then 50 rows/s
        view, _ = tracker.observe(_sample(sent, planned=5000))
        clock.now += 1
    assert view.segments[0].rate_per_second == pytest.approx(50.0)


def test_an_unchanged_sample_is_no_news() -> None:
    """The same counts again: changed is False (a stream sends nothing)."""
    clock = Clock()
    tracker = ProgressTracker(now=clock)
    tracker.observe(_sample(5))
    clock.now += 1
    _, changed = tracker.observe(_sample(5))
    assert not changed


def test_a_finished_segment_has_nothing_left() -> None:
    """A segment that ended shows ETA 0 and no rate."""
    view, _ = ProgressTracker(now=Clock()).observe(
        _sample(1000, status=RunStatus.SUCCEEDED, run_status=RunStatus.SUCCEEDED)
    )
    assert view.finished
    assert (view.segments[0].rate_per_second, view.segments[0].eta_seconds) == (
        None,
        0,
    )


def test_counts_that_start_over_restart_the_rate() -> None:
    """A resumed run's fresh counts do not give a negative rate."""
    clock = Clock()
    tracker = ProgressTracker(now=clock)
    tracker.observe(_sample(800))
    clock.now += 1
    view, _ = tracker.observe(_sample(100))
    assert view.segments[0].rate_per_second is None


@pytest.mark.parametrize(
    ("status", "over"),
    [
        (RunStatus.QUEUED, False),
        (RunStatus.RUNNING, False),
        (RunStatus.HELD, True),
        (RunStatus.FAILED_RETRYING, True),
        (RunStatus.SUCCEEDED_WITH_REJECTS, True),
    ],
    ids=str,
)
def test_a_run_is_over_once_neither_queued_nor_running(
    status: RunStatus, over: bool
) -> None:
    """Held and stopped runs end a stream too (a resume is followed anew)."""
    assert _sample(0, run_status=status).is_over is over


def test_a_held_run_with_a_queued_approval_is_not_over() -> None:
    """Once an approval is queued, a stream follows the Held run to its pass."""
    part = SegmentSample("VIP", RunStatus.HELD, 0, 10)
    sample = RunSample(
        1, "Newsletter", RunStatus.HELD, (part,), queued_action="approve"
    )
    assert not sample.is_over
