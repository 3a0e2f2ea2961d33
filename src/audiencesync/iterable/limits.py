"""Client-side rate limiting per endpoint, all waiting through the injected clock.

Two limiters share one small interface (:class:`Limiter`):

* :class:`WindowLimiter` enforces Iterable's documented limits with exact
  sliding windows (e.g. ``getUsers``: 5 calls in any 60 s).
* :class:`AdaptiveLimiter` finds an undocumented limit (subscribe, unsubscribe,
  list create/delete) by AIMD: calls are paced evenly, the rate doubles each
  second (slow start) and then grows additively while the limiter is the
  bottleneck, and shrinks multiplicatively on a 429, at most once per epoch
  (429s of calls sent before the last decrease are ignored).

Both honour ``Retry-After``: after a 429 that names a wait, no call to that
endpoint starts before the wait has elapsed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from audiencesync.core.clock import Clock
from audiencesync.core.window import RateLimit, SlidingWindow
from audiencesync.iterable.endpoints import Endpoint

DOCUMENTED_LIMITS: Mapping[Endpoint, tuple[RateLimit, ...]] = MappingProxyType(
    {
        Endpoint.LIST_LISTS: (RateLimit(100, 1.0),),
        Endpoint.GET_LIST_USERS: (RateLimit(5, 60.0),),
        Endpoint.PREVIEW_LIST_USERS: (RateLimit(5, 60.0),),
        Endpoint.LIST_SIZE: (RateLimit(5, 60.0),),
        Endpoint.UPDATE_USER: (RateLimit(500, 1.0),),
        Endpoint.BULK_UPDATE_USERS: (RateLimit(5, 1.0),),
        Endpoint.GET_USER: (RateLimit(100, 1.0),),
        Endpoint.DELETE_USER: (RateLimit(100, 1.0),),
        Endpoint.GET_FIELDS: (RateLimit(3, 1.0),),
        Endpoint.FORGET_USER: (RateLimit(3, 1.0), RateLimit(1000, 86_400.0)),
    }
)


# After a decrease, further 429s are ignored this long (a server's window drains).
HOLD_DOWN = 1.0
# Growth slows to a probe from this share of the rate of the last 429 upwards.
PROBE_FROM = 0.98


@dataclass(frozen=True, slots=True)
class AdaptivePolicy:
    """AIMD tuning for endpoints whose limit Iterable does not publish.

    Rates are calls per second. ``increase`` is how much the rate grows per
    second while the limiter is the bottleneck; near the rate of the last 429
    growth slows to ``probe_increase``, halved after each 429 at about the same
    rate, so a steady hidden limit is probed ever more gently.
    """

    initial_rate: float = 10.0
    slow_start_doublings: float = 16.0  # per second, until the first 429
    min_rate: float = 0.2
    max_rate: float = 1000.0
    increase: float = 2.0
    probe_increase: float = 0.1
    decrease: float = 0.95

    def __post_init__(self) -> None:
        if not 0 < self.min_rate <= self.initial_rate <= self.max_rate:
            msg = f"adaptive rates need 0 < min <= initial <= max, got {self}"
            raise ValueError(msg)
        if not 0 < self.decrease < 1 or self.increase <= 0:
            msg = f"adaptive policy needs 0 < decrease < 1, increase > 0: {self}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Limits:
    """Which endpoints get fixed windows; the others adapt (or nothing, if off)."""

    fixed: Mapping[Endpoint, tuple[RateLimit, ...]] = field(
        default_factory=lambda: DOCUMENTED_LIMITS
    )
    adaptive: AdaptivePolicy = field(default_factory=AdaptivePolicy)
    enabled: bool = True


class Limiter(Protocol):
    """Decides when the next call to one endpoint may start."""

    async def acquire(self) -> int:
        """Wait for a slot; return the call's ticket (increasing per call)."""
        ...

    def on_success(self, ticket: int) -> None:
        """The call holding ``ticket`` succeeded."""
        ...

    def on_rate_limited(self, ticket: int, retry_after: float | None) -> None:
        """The call holding ``ticket`` got 429, with the server's wait if any."""
        ...

    def pause(self, seconds: float) -> None:
        """Start no call in the next ``seconds``."""
        ...


class _Pausable:
    """The Retry-After pause all limiters share."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()
        self._issued = 0

    def pause(self, seconds: float) -> None:
        """Start no call before ``now + seconds``."""
        self._paused_until = max(self._paused_until, self._clock.now() + seconds)

    def on_rate_limited(self, ticket: int, retry_after: float | None) -> None:
        """Honour the server's wait (a window has nothing to learn otherwise)."""
        del ticket
        if retry_after is not None:
            self.pause(retry_after)

    def on_success(self, ticket: int) -> None:
        """Nothing to learn from a success."""

    def _ticket(self) -> int:
        self._issued += 1
        return self._issued

    def _pause_left(self, now: float) -> float:
        return max(0.0, self._paused_until - now)


class UnlimitedLimiter(_Pausable):
    """No client-side limit; only Retry-After pauses."""

    async def acquire(self) -> int:
        """Wait out a pause, if any."""
        async with self._lock:
            await self._clock.sleep(self._pause_left(self._clock.now()))
            return self._ticket()


class WindowLimiter(_Pausable):
    """Documented limits: every window must have room before a call starts."""

    def __init__(self, rates: tuple[RateLimit, ...], clock: Clock) -> None:
        super().__init__(clock)
        self._windows = tuple(SlidingWindow(rate) for rate in rates)

    async def acquire(self) -> int:
        """Sleep until a pause is over and all windows have room, then record."""
        async with self._lock:
            while True:
                now = self._clock.now()
                waits = [w.wait_time(now) for w in self._windows]
                wait = max([self._pause_left(now), *waits])
                if wait <= 0:
                    for window in self._windows:
                        window.try_acquire(now)
                    return self._ticket()
                await self._clock.sleep(wait)


@dataclass(frozen=True, slots=True)
class LearnedRate:
    """What an adaptive limiter learnt: its rate, and the rate of its last 429."""

    rate: float
    limit: float | None = None


class AdaptiveLimiter(_Pausable):
    """AIMD pacing for an endpoint whose limit must be discovered."""

    def __init__(self, policy: AdaptivePolicy, clock: Clock) -> None:
        super().__init__(clock)
        self.policy = policy
        self.rate = policy.initial_rate
        self.decreases = 0
        self._slow_start = True
        self._next_at = float("-inf")
        self._epoch = 0
        self._quiet_until = float("-inf")
        self._bottleneck = False
        self._fail_rate: float | None = None
        self._probe = policy.probe_increase
        self._recent: deque[float] = deque()

    async def acquire(self) -> int:
        """Wait for the paced slot (and any pause); one caller at a time."""
        async with self._lock:
            now = self._clock.now()
            start = max(now, self._next_at, self._paused_until)
            self._bottleneck = start > now
            await self._clock.sleep(start - now)
            interval = 1.0 / self.rate
            # Stay on the pacing grid: a sleep that overshot by a little must not
            # push every later call back (drift), nor may a long gap build credit.
            self._next_at = max(start, self._clock.now() - interval) + interval
            return self._ticket()

    def on_success(self, ticket: int) -> None:
        """Grow the rate, but only while callers queue for it."""
        del ticket
        self._remember(self._clock.now())
        if not self._bottleneck:
            return
        per_call = 1.0 / self.rate
        if self._slow_start:
            self.rate *= 2.0 ** (per_call * self.policy.slow_start_doublings)
        else:
            self.rate += self._growth() * per_call
        self.rate = min(self.rate, self.policy.max_rate)

    def _growth(self) -> float:
        fail = self._fail_rate
        if fail is not None and fail * PROBE_FROM <= self.rate <= fail * 1.1:
            return self._probe
        return self.policy.increase

    def on_rate_limited(self, ticket: int, retry_after: float | None) -> None:
        """Shrink once per epoch, and pause as long as the server asked.

        The epoch starts at a decrease: calls holding a ticket issued before it
        were sent at the old rate, so their 429s say nothing new; nor do 429s in
        the ``HOLD_DOWN`` after a decrease, while the server's window still holds
        the calls that overshot. A 429 during slow start says only that the
        ramp overshot, so the rate restarts from what was actually accepted;
        later, the paced rate that provoked the 429 is a close estimate of the
        limit, and probing slows down near it. A 429 with Retry-After costs a
        whole pause, so probing after one is four times gentler still.
        """
        super().on_rate_limited(ticket, retry_after)
        now = self._clock.now()
        if ticket <= self._epoch or now < self._quiet_until:
            return
        self._epoch = self._issued
        self._quiet_until = now + HOLD_DOWN
        self.decreases += 1
        provoked = self.rate
        if self._slow_start:
            accepted = self._accepted_rate(now)
            base = min(provoked, max(accepted, self.policy.min_rate))
            self._fail_rate = base
            self._let_the_burst_pass(now)
        else:
            self._learn_limit(provoked)
            base = provoked
        if retry_after is not None:
            self._probe = max(self._probe / 4, 0.01)
        self._slow_start = False
        self.rate = max(self.policy.min_rate, base * self.policy.decrease)

    @property
    def used(self) -> bool:
        """Whether any call went through this limiter."""
        return self._issued > 0

    def learned(self) -> LearnedRate:
        """The rate now and the limit found, to start a later client from."""
        return LearnedRate(self.rate, self._fail_rate)

    def resume_from(self, learned: LearnedRate) -> None:
        """Start from what an earlier client learnt instead of the initial rate.

        With a known limit, start just under it and probe gently from there;
        without one, go on with slow start from the rate reached.
        """
        rate = learned.rate
        if learned.limit is not None:
            rate = min(rate, learned.limit * self.policy.decrease)
        self.rate = min(max(rate, self.policy.min_rate), self.policy.max_rate)
        self._fail_rate = learned.limit
        self._slow_start = learned.limit is None

    def _learn_limit(self, provoked: float) -> None:
        """Remember the rate of this 429; halve the probe if the limit held still."""
        fail = self._fail_rate
        if fail is not None and abs(provoked - fail) < 0.1 * fail:
            self._probe = max(self._probe / 2, 0.01)
        else:
            self._probe = self.policy.probe_increase
        self._fail_rate = provoked

    def _remember(self, answered_at: float) -> None:
        self._recent.append(answered_at)
        horizon = self._clock.now() - 1.0
        while self._recent and self._recent[0] < horizon:
            self._recent.popleft()

    def _let_the_burst_pass(self, now: float) -> None:
        """Pause until the calls the ramp crowded into the last second leave it.

        A fast ramp packs a second's worth of the limit into a fraction of a
        second; the server's window holds them for a second, so calls paced at
        the new rate would only meet more 429s until then.
        """
        if self._recent:
            self.pause(self._recent[0] + 1.0 - now)

    def _accepted_rate(self, now: float) -> float:
        """Calls per second accepted over the last second: the limit, roughly."""
        horizon = now - 1.0
        while self._recent and self._recent[0] < horizon:
            self._recent.popleft()
        return float(len(self._recent)) if self._recent else self.rate


def build_limiters(limits: Limits, clock: Clock) -> dict[Endpoint, Limiter]:
    """One limiter per endpoint, as ``limits`` says."""
    limiters: dict[Endpoint, Limiter] = {}
    for endpoint in Endpoint:
        if not limits.enabled:
            limiters[endpoint] = UnlimitedLimiter(clock)
        elif endpoint in limits.fixed:
            limiters[endpoint] = WindowLimiter(limits.fixed[endpoint], clock)
        else:
            limiters[endpoint] = AdaptiveLimiter(limits.adaptive, clock)
    return limiters
