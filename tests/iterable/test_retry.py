"""Retries: which failures, how many times, and how long to wait."""

from __future__ import annotations

import logging
from email.utils import formatdate

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.iterable import (
    Endpoint,
    NetworkError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    Subscriber,
    parse_retry_after,
)
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import FakeIterable, bulk_ok, fail

NOW = 1_767_225_600.0
ANA = [Subscriber("a@x.com")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        (" 0.5 ", 0.5),
        ("0", 0.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),
        ("100000", 120.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("-5", 0.0),
        ("Wed, 99 Foo 2026 99:99:99", None),
    ],
    ids=[
        "seconds",
        "fraction",
        "zero",
        "date",
        "past-date",
        "capped",
        "absent",
        "empty",
        "garbage",
        "nan",
        "negative",
        "garbage-date",
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    """Retry-After is seconds or an HTTP-date, capped; garbage is ignored."""
    assert parse_retry_after(header, now_wall=NOW, cap=120.0) == expected


@pytest.mark.anyio
async def test_retries_are_bounded(make_client: MakeClient, fake: FakeIterable) -> None:
    """An endpoint that always fails is tried exactly `attempts` times."""
    fake.route("POST", "/api/lists/subscribe", lambda _: fail(503, "", "down"))
    client = make_client(retry=RetryPolicy(attempts=4))
    with pytest.raises(ServerError):
        await client.subscribe(1, ANA)
    assert len(fake.requests) == 4
    assert client.stats[Endpoint.SUBSCRIBE].retries == 3


@pytest.mark.anyio
async def test_5xx_burst_then_success(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """A burst of 500/502/503/504 is ridden out and the batch lands."""
    fake.script(
        "POST",
        "/api/lists/subscribe",
        fail(500, "Error"),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(503, text="Request timeout. Try again later."),
        httpx.Response(504),
    )
    result = await make_client().subscribe(1, ANA)
    assert result.accepted == ("a@x.com",)
    assert len(fake.requests) == 5


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("peer closed connection without response"),
        httpx.ReadError("connection reset"),
    ],
    ids=["read-timeout", "connect-timeout", "refused", "dropped-mid-response", "reset"],
)
@pytest.mark.anyio
async def test_transport_errors_are_retried(
    make_client: MakeClient, fake: FakeIterable, exc: Exception
) -> None:
    """Timeouts and connection errors are retried, then the call succeeds."""
    fake.script("POST", "/api/lists/subscribe", exc, exc)
    result = await make_client().subscribe(1, ANA)
    assert result.accepted == ("a@x.com",)
    assert len(fake.requests) == 3


@pytest.mark.anyio
async def test_transport_errors_exhausted_raise_network_error(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """When retries run out on a dead connection, a NetworkError is raised."""
    fake.script("POST", "/api/lists/subscribe", *[httpx.ConnectError("x")] * 3)
    with pytest.raises(NetworkError) as caught:
        await make_client(retry=RetryPolicy(attempts=3)).subscribe(1, ANA)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    "header",
    ["2", formatdate(NOW + 2, usegmt=True)],
    ids=["seconds", "http-date"],
)
@pytest.mark.anyio
async def test_no_request_before_retry_after_elapsed(
    make_client: MakeClient, fake: FakeIterable, clock: ManualClock, header: str
) -> None:
    """After a 429 with Retry-After, the endpoint sends nothing until it elapsed."""
    clock.advance(NOW - clock.wall())
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now())
        if len(sent_at) == 1:
            return fail(
                429, "RateLimitExceeded", "slow down", **{"Retry-After": header}
            )
        return bulk_ok(request)

    fake.route("POST", "/api/lists/subscribe", handler)
    client = make_client()
    await client.subscribe(1, ANA)
    assert len(sent_at) == 2
    assert sent_at[1] - sent_at[0] >= 2.0 - 1e-9


@pytest.mark.anyio
async def test_429_without_retry_after_is_retried(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """A plain-text 429 without Retry-After is retried with backoff and counted."""
    fake.script(
        "POST", "/api/lists/subscribe", httpx.Response(429, text="Too Many Requests")
    )
    client = make_client()
    await client.subscribe(1, ANA)
    stats = client.stats[Endpoint.SUBSCRIBE]
    assert (stats.calls, stats.rate_limited, stats.retries) == (2, 1, 1)


@pytest.mark.anyio
async def test_rate_limited_exhausted_raises_with_retry_after(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """When 429s outlast the attempts, the last RateLimitedError is raised."""
    fake.route(
        "POST",
        "/api/lists/subscribe",
        lambda _: fail(429, "RateLimitExceeded", **{"Retry-After": "1"}),
    )
    with pytest.raises(RateLimitedError) as caught:
        await make_client(retry=RetryPolicy(attempts=2)).subscribe(1, ANA)
    assert caught.value.retry_after == 1.0


@pytest.mark.anyio
async def test_each_retry_is_logged_without_identifiers(
    make_client: MakeClient, fake: FakeIterable, caplog: pytest.LogCaptureFixture
) -> None:
    """A retry logs endpoint, attempt, status, code and wait, and no identifier."""
    fake.script("POST", "/api/lists/subscribe", fail(503, "Error", "a@x.com broke"))
    with caplog.at_level(logging.INFO, logger="audiencesync.iterable"):
        await make_client().subscribe(1, ANA)
    (line,) = [
        r.getMessage() for r in caplog.records if r.name == "audiencesync.iterable"
    ]
    assert "POST /api/lists/subscribe" in line
    assert "attempt 2" in line
    assert "status 503" in line
    assert "code Error" in line
    assert "a@x.com" not in line


@pytest.mark.anyio
async def test_a_retry_is_logged_once_by_the_client_alone(
    make_client: MakeClient, fake: FakeIterable, caplog: pytest.LogCaptureFixture
) -> None:
    """stamina's own retry log stays silent: the client's line says it all."""
    fake.script("POST", "/api/lists/subscribe", fail(503, "Error", "broke"))
    with caplog.at_level(logging.DEBUG):
        await make_client().subscribe(1, ANA)
    retries = [r.name for r in caplog.records if "retry" in r.getMessage().lower()]
    assert retries == ["audiencesync.iterable"]
