"""A sliding-window rate limit: at most ``limit`` events in any ``period`` seconds.

Pure bookkeeping over timestamps handed in by the caller, so it serves both the
emulator (which refuses with 429) and the client (which waits before sending).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: float = 1.0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            msg = f"rate limit needs limit >= 1 and period > 0, got {self}"
            raise ValueError(msg)

    @property
    def per_second(self) -> float:
        """The sustained rate this limit allows."""
        return self.limit / self.period


class SlidingWindow:
    """Exact sliding-window log of accepted events."""

    __slots__ = ("_events", "rate")

    def __init__(self, rate: RateLimit) -> None:
        self.rate = rate
        self._events: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0.0 when it fits now)."""
        events = self._events
        horizon = now - self.rate.period
        while events and events[0] <= horizon:
            events.popleft()
        if len(events) < self.rate.limit:
            return 0.0
        return events[0] - horizon

    def try_acquire(self, now: float) -> float:
        """Record an event if it fits and return 0.0, else return the wait."""
        wait = self.wait_time(now)
        if wait == 0.0:
            self._events.append(now)
        return wait
