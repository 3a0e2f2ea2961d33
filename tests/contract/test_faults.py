"""Fault contract: whatever the emulator throws, every good identifier lands once.

Each scenario ends by reading the list back through getUsers and comparing it
with what was sent. Backoff runs in virtual time (stamina's testing mode plus a
shared ManualClock); only the timeout scenario spends real time (fractions of a
second).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from itertools import pairwise
from typing import Any

import httpx
import pytest

from audiencesync.core.clock import ManualClock, SystemClock
from audiencesync.core.window import RateLimit
from audiencesync.emulator import Emulator, ScriptedFault, serve_in_thread
from audiencesync.iterable import (
    BatchOutcome,
    Endpoint,
    IterableClient,
    RejectBucket,
    RetryPolicy,
    Subscriber,
)

from .conftest import MakeIterable, Target, by_email, contract_config, emails

pytestmark = pytest.mark.anyio

ATTEMPTS = RetryPolicy().attempts


async def deliver(
    client: IterableClient, list_id: int, rows: list[Subscriber]
) -> list[BatchOutcome]:
    """Send ``rows`` with subscribe_all and collect every outcome."""
    return [outcome async for outcome in client.subscribe_all(list_id, rows)]


async def assert_delivered(
    client: IterableClient, list_id: int, sent: list[str]
) -> None:
    """getUsers shows exactly ``sent``."""
    assert sorted(await client.get_list_users(list_id)) == sorted(sent)


def bounded(outcomes: list[BatchOutcome]) -> bool:
    """No batch used more than the retry policy's attempts."""
    return all(o.attempts <= ATTEMPTS for o in outcomes)


@pytest.mark.parametrize("retry_after", ["none", "seconds", "date"])
async def test_429_storm_delivers_everything(
    make_iterable: MakeIterable, retry_after: str
) -> None:
    """A subscribe limit of 5 calls/s, with or without Retry-After, loses nobody."""
    rates = {"lists/subscribe": RateLimit(5, 1.0)}
    async with (
        make_iterable(rates=rates, retry_after=retry_after) as it,
        it.client() as client,
    ):
        list_id = await client.create_list("storm")
        sent = emails(30_000)
        outcomes = await deliver(client, list_id, by_email(sent))
        assert client.stats[Endpoint.SUBSCRIBE].rate_limited > 0
        assert bounded(outcomes)
        await assert_delivered(client, list_id, sent)


async def test_no_request_is_sent_before_retry_after_elapsed() -> None:
    """After a 429 with Retry-After, the endpoint stays quiet until that time."""
    clock = ManualClock()
    emulator = Emulator(
        contract_config(
            rates={"lists/subscribe": RateLimit(3, 2.0)}, retry_after="seconds"
        ),
        clock=clock,
    )
    timeline: list[tuple[float, int, str | None]] = []
    app = _timed(emulator, clock, timeline)
    async with IterableClient(
        "audiencesync-emulator-dev-key-01",
        base_url="http://iterable.test",
        transport=httpx.ASGITransport(app=app),
        clock=clock,
    ) as client:
        list_id = await client.create_list("patient")
        await deliver(client, list_id, by_email(emails(20_000)))
    subscribes = [(t, s, ra) for t, s, ra in timeline if s != 0]
    for (sent_at, status, header), (next_at, _, _) in pairwise(subscribes):
        if status == 429 and header is not None:
            assert next_at >= sent_at + float(header) - 1e-9
    assert any(status == 429 for _, status, _ in subscribes)


def _timed(
    emulator: Emulator,
    clock: ManualClock,
    timeline: list[tuple[float, int, str | None]],
) -> Callable[..., Awaitable[None]]:
    """Wrap the emulator app to note (time, status, Retry-After) of subscribes."""

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/lists/subscribe"):
            await emulator.app(scope, receive, send)
            return
        started = clock.now()

        async def note(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                header = headers.get(b"retry-after")
                timeline.append(
                    (started, message["status"], header.decode() if header else None)
                )
            await send(message)

        await emulator.app(scope, receive, note)

    return app


async def test_5xx_bursts_are_retried_until_delivered(
    make_iterable: MakeIterable,
) -> None:
    """30 % of answers are 5xx (some not JSON); every batch still lands."""
    async with make_iterable(fault_rate=0.3, seed=7) as it, it.client() as client:
        list_id = await _create(client)
        sent = emails(20_000)
        outcomes = await deliver(client, list_id, by_email(sent))
        assert bounded(outcomes)
        assert any(r.status >= 500 for r in it.emulator.requests)
        it.emulator.config  # noqa: B018  (the emulator keeps faulting reads too)
        await assert_delivered(client, list_id, sent)


async def _create(client: IterableClient) -> int:
    """Create a list, riding out injected faults like any other call."""
    return await client.create_list("faulty")


async def test_dropped_connections_are_retried(make_iterable: MakeIterable) -> None:
    """A connection dropped mid-response (change applied) is retried safely."""
    async with make_iterable() as it:
        it.emulator.script("lists/subscribe", ScriptedFault(drop=True), times=3)
        async with it.client() as client:
            list_id = await client.create_list("dropped")
            sent = emails(5_000)
            outcomes = await deliver(client, list_id, by_email(sent))
            assert sum(o.attempts for o in outcomes) == 5 + 3
            await assert_delivered(client, list_id, sent)


async def test_timeouts_are_retried() -> None:
    """A subscribe that hangs past the client's timeout is sent again."""
    emulator = Emulator(contract_config(), clock=SystemClock())
    emulator.script("lists/subscribe", ScriptedFault(status=200, delay=2.0), times=2)
    with serve_in_thread(emulator) as base_url:
        async with IterableClient(
            "audiencesync-emulator-dev-key-01", base_url=base_url, timeout=1.0
        ) as client:
            list_id = await client.create_list("slow")
            sent = emails(1_000)
            [outcome] = await deliver(client, list_id, by_email(sent))
            assert outcome.attempts == 3
            assert client.stats[Endpoint.SUBSCRIBE].retries == 2
            assert emulator.list_members(list_id) == set(sent)


async def test_batch_too_large_is_split_until_it_fits(
    make_iterable: MakeIterable,
) -> None:
    """413 BatchTooLarge makes the client halve batches; everything lands."""
    async with (
        make_iterable(max_body_bytes={"lists/subscribe": 12_000}) as it,
        it.client() as client,
    ):
        list_id = await client.create_list("big")
        sent = emails(2_000)
        outcomes = await deliver(client, list_id, by_email(sent))
        assert any(o.splits > 0 for o in outcomes)
        assert any(r.status == 413 for r in it.emulator.requests)
        await assert_delivered(client, list_id, sent)


async def test_poison_row_costs_a_bounded_number_of_requests(
    iterable: Target, client: IterableClient
) -> None:
    """One clashing row in 1000: ≤ 2·⌈log2 1000⌉ + 1 requests, 999 rows delivered."""
    await client.update_user(Subscriber(email="seed@example.com", data_fields={"n": 1}))
    list_id = await client.create_list("poison")
    good = emails(999)
    rows = [Subscriber(email=e, data_fields={"n": i}) for i, e in enumerate(good)]
    rows.insert(500, Subscriber(email="poison@example.com", data_fields={"n": "x"}))
    [outcome] = await deliver(client, list_id, rows)
    assert outcome.attempts <= 2 * 10 + 1
    assert [(r.identifier, r.bucket) for r in outcome.result.rejected] == [
        ("poison@example.com", RejectBucket.INVALID_DATA)
    ]
    await assert_delivered(client, list_id, good)


async def test_new_list_not_ready_yet_is_waited_for(
    make_iterable: MakeIterable,
) -> None:
    """invalidListId right after creating a list is retried until the list is ready."""
    async with make_iterable(new_list_invalid_seconds=5.0) as it, it.client() as client:
        list_id = await client.create_list("fresh")
        sent = emails(3_000)
        outcomes = await deliver(client, list_id, by_email(sent))
        assert bounded(outcomes)
        assert any(r.status == 400 for r in it.emulator.requests)
        await assert_delivered(client, list_id, sent)
