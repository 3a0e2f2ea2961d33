"""The in-flight window: one batch until the first answer, then rate x round trip."""

from __future__ import annotations

import pytest

from audiencesync.sync.inflight import InFlightWindow


def test_the_first_batch_goes_alone() -> None:
    """Before any answer the window holds one batch, whatever the rate."""
    assert InFlightWindow(8).size(1000.0) == 1


def test_after_the_first_answer_the_window_covers_one_round_trip() -> None:
    """100 calls/s over a 50 ms round trip: 5 in flight, plus one of headroom."""
    window = InFlightWindow(8)
    window.answered(0.05)
    assert window.size(100.0) == 6


def test_the_window_never_exceeds_its_limit() -> None:
    """A fast limiter over a slow network is capped at the limit."""
    window = InFlightWindow(4)
    window.answered(0.5)
    assert window.size(1000.0) == 4


def test_a_slow_limiter_keeps_two_in_flight() -> None:
    """At 1 call/s over 20 ms, one call covers the rate; one more lets it grow."""
    window = InFlightWindow(8)
    window.answered(0.02)
    assert window.size(1.0) == 2


def test_a_limiter_without_a_rate_gets_the_whole_window() -> None:
    """Limits off: the window is its limit once the first batch was answered."""
    window = InFlightWindow(8)
    window.answered(0.01)
    assert window.size(None) == 8


def test_a_resumed_segment_opens_the_window_at_once() -> None:
    """A segment with acknowledged batches does not probe again."""
    assert InFlightWindow(8, probing=False).size(None) == 8


def test_the_round_trip_is_a_running_average() -> None:
    """One slow answer moves the estimate a fifth of the way, not all of it."""
    window = InFlightWindow(8)
    window.answered(0.01)
    window.answered(0.51)
    assert window.round_trip == pytest.approx(0.11)


def test_a_window_needs_room_for_one_batch() -> None:
    """A limit under one is refused with the reason."""
    with pytest.raises(ValueError, match="at least 1"):
        InFlightWindow(0)
