"""How many batches of one segment may be in flight at once.

Iterable is a network away: with one call at a time, every round trip is paid
in full. The window keeps just enough calls in flight to let the rate limiter
set the pace (Little's law: calls in flight = rate x round trip), plus one so
that callers still queue at the limiter, which is how an adaptive limiter
knows it is the bottleneck and may grow. It never exceeds ``limit``, which
bounds what a crash can re-send: at most the batches in flight when it struck.

The window is one until the segment's first batch is acknowledged: a list or
a field that Iterable refuses for everyone costs one batch, not a window of
them (see :func:`~audiencesync.sync.outcomes.whole_refusal`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SMOOTHING = 0.2  # weight of the newest round trip in the running estimate


@dataclass(slots=True)
class InFlightWindow:
    """The number of batches that may be in flight, from rate and round trip."""

    limit: int
    probing: bool = True
    round_trip: float | None = None

    def __post_init__(self) -> None:
        if self.limit < 1:
            msg = f"an in-flight window needs a limit of at least 1, got {self.limit}"
            raise ValueError(msg)

    def answered(self, seconds: float) -> None:
        """A batch was acknowledged after ``seconds`` on the wire."""
        self.probing = False
        seconds = max(seconds, 0.0)
        if self.round_trip is None:
            self.round_trip = seconds
        else:
            self.round_trip += SMOOTHING * (seconds - self.round_trip)

    def size(self, rate: float | None) -> int:
        """Batches allowed in flight when the limiter allows ``rate`` calls/s.

        ``None`` is a limiter with no rate of its own (limits off): the limit.
        """
        if self.probing:
            return 1
        if rate is None or self.round_trip is None:
            return self.limit
        wanted = math.ceil(rate * self.round_trip) + 1
        return max(1, min(self.limit, wanted))
