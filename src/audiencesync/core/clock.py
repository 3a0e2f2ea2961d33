"""Clocks: the system one, and a manual one that tests advance without sleeping.

Everything that waits (rate limiters, retries, the emulator's rate windows and
latency) takes a :class:`Clock`, so a test can share one :class:`ManualClock`
between the client and the emulator and run minutes of backoff in microseconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Source of time and of waiting."""

    def now(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...

    def wall(self) -> float:
        """Seconds since the Unix epoch (for HTTP dates)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (no-op when zero or negative)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """Monotonic seconds from :func:`time.monotonic`."""
        return time.monotonic()

    def wall(self) -> float:
        """Epoch seconds from :func:`time.time`."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep on the running event loop."""
        if seconds > 0:
            await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to, or when something sleeps on it.

    ``sleep(s)`` moves time forward to at least ``now + s`` and yields to the
    event loop once, so concurrent sleepers see a consistent, monotonic time.
    ``slept`` records every requested wait for assertions.
    """

    def __init__(
        self, *, start: float = 1000.0, epoch: float = 1_767_225_600.0
    ) -> None:
        self._now = start
        self._epoch_offset = epoch - start
        self.slept: list[float] = []

    def now(self) -> float:
        """Current virtual monotonic time."""
        return self._now

    def wall(self) -> float:
        """Current virtual epoch time."""
        return self._now + self._epoch_offset

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        if seconds > 0:
            self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait, advance virtual time and yield once."""
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)
