"""Rate limiters in virtual time: windows, pacing, AIMD epochs, Retry-After."""

from __future__ import annotations

import itertools

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.core.window import RateLimit, SlidingWindow
from audiencesync.iterable import (
    AdaptiveLimiter,
    AdaptivePolicy,
    BatchPolicy,
    Endpoint,
    Limits,
    Subscriber,
    WindowLimiter,
)
from audiencesync.iterable.limits import HOLD_DOWN, LearnedRate
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import FakeIterable, bulk_ok, fail


@pytest.mark.anyio
async def test_window_limiter_waits_for_the_window(clock: ManualClock) -> None:
    """5 calls per 60 s: the sixth starts 60 s after the first."""
    limiter = WindowLimiter((RateLimit(5, 60.0),), clock)
    starts = []
    for _ in range(6):
        await limiter.acquire()
        starts.append(clock.now())
    assert starts[:5] == [starts[0]] * 5
    assert starts[5] - starts[0] == pytest.approx(60.0)


@pytest.mark.anyio
async def test_window_limiter_honours_every_window(clock: ManualClock) -> None:
    """With a per-second and a daily window, both must have room."""
    limiter = WindowLimiter((RateLimit(3, 1.0), RateLimit(4, 86_400.0)), clock)
    starts = []
    for _ in range(5):
        await limiter.acquire()
        starts.append(clock.now())
    assert starts[3] - starts[0] == pytest.approx(1.0)
    assert starts[4] - starts[0] == pytest.approx(86_400.0)


@pytest.mark.anyio
async def test_adaptive_limiter_paces_without_bursts(clock: ManualClock) -> None:
    """Calls are spaced by 1/rate: no two start closer than the pace allows."""
    limiter = AdaptiveLimiter(AdaptivePolicy(initial_rate=10.0), clock)
    starts = []
    for _ in range(5):
        await limiter.acquire()
        starts.append(clock.now())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap == pytest.approx(0.1) for gap in gaps)


@pytest.mark.anyio
async def test_adaptive_rate_grows_only_while_it_is_the_bottleneck(
    clock: ManualClock,
) -> None:
    """Successes raise the rate when callers queue, not when they trickle in."""
    policy = AdaptivePolicy(initial_rate=10.0, slow_start_doublings=1.0)
    limiter = AdaptiveLimiter(policy, clock)
    sent = await limiter.acquire()
    clock.advance(5.0)
    sent = await limiter.acquire()
    limiter.on_success(sent)
    assert limiter.rate == 10.0
    for _ in range(10):
        limiter.on_success(await limiter.acquire())
    assert 15.0 < limiter.rate < 21.0


@pytest.mark.anyio
async def test_a_slow_start_429_waits_for_the_burst_to_leave_the_window(
    clock: ManualClock,
) -> None:
    """After the ramp's first 429, no call starts until its burst is a second old."""
    limiter = AdaptiveLimiter(AdaptivePolicy(initial_rate=100.0), clock)
    first = clock.now()
    for _ in range(30):
        limiter.on_success(await limiter.acquire())
    limiter.on_rate_limited(await limiter.acquire(), None)
    await limiter.acquire()
    assert clock.now() == pytest.approx(first + 1.0)


@pytest.mark.anyio
async def test_adaptive_decreases_once_per_epoch(clock: ManualClock) -> None:
    """429s of calls sent before the last decrease do not shrink the rate again."""
    limiter = AdaptiveLimiter(AdaptivePolicy(initial_rate=20.0, decrease=0.5), clock)
    in_flight = [await limiter.acquire() for _ in range(4)]
    limiter.on_rate_limited(in_flight[0], None)
    after_first = limiter.rate
    for sent in in_flight[1:]:
        limiter.on_rate_limited(sent, None)
    assert limiter.decreases == 1
    assert limiter.rate == after_first
    clock.advance(HOLD_DOWN)
    limiter.on_rate_limited(await limiter.acquire(), None)
    assert limiter.decreases == 2
    assert limiter.rate < after_first


@pytest.mark.anyio
async def test_adaptive_ignores_429s_while_the_server_window_drains(
    clock: ManualClock,
) -> None:
    """A 429 within HOLD_DOWN of a decrease, even for a newer call, changes nothing."""
    limiter = AdaptiveLimiter(AdaptivePolicy(initial_rate=20.0), clock)
    limiter.on_rate_limited(await limiter.acquire(), None)
    after_first = limiter.rate
    limiter.on_rate_limited(await limiter.acquire(), None)
    assert limiter.decreases == 1
    assert limiter.rate == after_first


@pytest.mark.anyio
async def test_adaptive_rate_never_drops_below_minimum(clock: ManualClock) -> None:
    """Repeated 429s stop at min_rate."""
    policy = AdaptivePolicy(initial_rate=1.0, min_rate=0.5, decrease=0.5)
    limiter = AdaptiveLimiter(policy, clock)
    for _ in range(5):
        limiter.on_rate_limited(await limiter.acquire(), None)
        clock.advance(HOLD_DOWN)
    assert limiter.rate == 0.5


@pytest.mark.parametrize(
    "limiter_kind", ["window", "adaptive"], ids=["window", "adaptive"]
)
@pytest.mark.anyio
async def test_retry_after_pauses_the_limiter(
    clock: ManualClock, limiter_kind: str
) -> None:
    """After a 429 with Retry-After, the next call starts no earlier."""
    limiter = (
        WindowLimiter((RateLimit(100, 1.0),), clock)
        if limiter_kind == "window"
        else AdaptiveLimiter(AdaptivePolicy(), clock)
    )
    limiter.on_rate_limited(await limiter.acquire(), 3.0)
    paused_at = clock.now()
    await limiter.acquire()
    assert clock.now() >= paused_at + 3.0


def test_limits_cover_the_documented_endpoints() -> None:
    """Documented endpoints get windows; the undocumented ones adapt."""
    fixed = Limits().fixed
    assert fixed[Endpoint.GET_LIST_USERS] == (RateLimit(5, 60.0),)
    assert fixed[Endpoint.BULK_UPDATE_USERS] == (RateLimit(5, 1.0),)
    assert fixed[Endpoint.GET_FIELDS] == (RateLimit(3, 1.0),)
    adaptive = {
        Endpoint.SUBSCRIBE,
        Endpoint.UNSUBSCRIBE,
        Endpoint.CREATE_LIST,
        Endpoint.DELETE_LIST,
    }
    assert adaptive.isdisjoint(fixed)


@pytest.mark.anyio
async def test_client_respects_get_users_window(
    make_client: MakeClient, fake: FakeIterable, clock: ManualClock
) -> None:
    """Six getUsers calls: the sixth goes out a minute after the first."""
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now())
        return httpx.Response(200, text="a@x.com\n")

    fake.route("GET", "/api/lists/getUsers", handler)
    client = make_client()
    for _ in range(6):
        await client.get_list_users(1)
    assert sent[5] - sent[0] >= 60.0


@pytest.mark.parametrize(
    "retry_after", [None, "1"], ids=["no-header", "retry-after-1s"]
)
@pytest.mark.anyio
async def test_adaptive_throttle_finds_hidden_limit(
    make_client: MakeClient,
    fake: FakeIterable,
    clock: ManualClock,
    retry_after: str | None,
) -> None:
    """Against a hidden 30/s window: >= 90 % of the allowed rate, <= 2 % 429s."""
    window = SlidingWindow(RateLimit(30, 1.0))
    accepted = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal accepted
        wait = window.try_acquire(clock.now())
        if wait > 0:
            headers = {} if retry_after is None else {"Retry-After": retry_after}
            return fail(429, "RateLimitExceeded", **headers)
        accepted += 1
        return bulk_ok(request)

    fake.route("POST", "/api/lists/subscribe", handler)
    client = make_client(batch=BatchPolicy(max_items=1))
    start = clock.now()
    users = (Subscriber(f"u{i}@x.com") for i in range(1000))
    async for _ in client.subscribe_all(1, users):
        pass
    elapsed = clock.now() - start
    stats = client.stats[Endpoint.SUBSCRIBE]
    assert accepted == 1000
    assert (1000 / elapsed) / 30.0 >= 0.90
    assert stats.rate_limited / stats.calls <= 0.02


@pytest.mark.anyio
async def test_slow_start_doubles_sixteen_times_a_second_by_default(
    clock: ManualClock,
) -> None:
    """A queued call a tenth of a second long at 10/s grows the rate by 2**1.6."""
    limiter = AdaptiveLimiter(AdaptivePolicy(initial_rate=10.0), clock)
    await limiter.acquire()
    limiter.on_success(await limiter.acquire())
    assert limiter.rate == pytest.approx(10.0 * 2**1.6)


def test_a_resumed_limiter_starts_just_under_the_learnt_limit(
    clock: ManualClock,
) -> None:
    """With a 429 remembered, start at 95 % of it and probe gently."""
    limiter = AdaptiveLimiter(AdaptivePolicy(), clock)
    limiter.resume_from(LearnedRate(rate=40.0, limit=30.0))
    assert limiter.rate == pytest.approx(28.5)
    assert limiter.learned().limit == 30.0


def test_a_resumed_limiter_without_a_limit_goes_on_from_its_rate(
    clock: ManualClock,
) -> None:
    """No 429 seen yet: the rate reached is where the next client starts."""
    limiter = AdaptiveLimiter(AdaptivePolicy(), clock)
    limiter.resume_from(LearnedRate(rate=400.0))
    assert (limiter.rate, limiter.used) == (400.0, False)
