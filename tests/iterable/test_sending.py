"""Concurrent bulk sending: bounded in-flight, bisection of refused batches, stops."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from audiencesync.iterable import (
    BatchOutcome,
    BatchPolicy,
    InvalidKeyError,
    ListNotFoundError,
    RejectBucket,
    RetryPolicy,
    ServerError,
    Subscriber,
)
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import FakeIterable, bulk_ok, fail

POISON = "poison@example.com"


def _users(count: int) -> list[Subscriber]:
    return [Subscriber(f"user{i}@example.com") for i in range(count)]


def _emails(request: httpx.Request) -> list[str]:
    body = orjson.loads(request.content)
    return [s["email"] for s in body.get("subscribers", body.get("users", []))]


async def _collect(outcomes: AsyncIterator[BatchOutcome]) -> list[BatchOutcome]:
    return [outcome async for outcome in outcomes]


async def _collect_into(
    done: list[BatchOutcome], outcomes: AsyncIterator[BatchOutcome]
) -> None:
    async for outcome in outcomes:
        done.append(outcome)  # noqa: PERF401 -- keep what arrived before the error


def _refuse_poison(code: str, status: int = 400):
    def handler(request: httpx.Request) -> httpx.Response:
        emails = _emails(request)
        if POISON in emails and len(emails) > 1:
            return fail(status, code, "Field 'x' has a different type")
        if POISON in emails:
            return fail(status, code)
        return bulk_ok(request)

    return handler


@pytest.mark.parametrize("position", [0, 517, 999], ids=["first", "middle", "last"])
@pytest.mark.anyio
async def test_poison_row_is_isolated_and_good_rows_delivered(
    make_client: MakeClient, fake: FakeIterable, position: int
) -> None:
    """Bisection isolates the poison row within 2*ceil(log2 B)+1 requests."""
    fake.route(
        "POST", "/api/users/bulkUpdate", _refuse_poison("RequestFieldsTypesMismatched")
    )
    users = _users(1000)
    users[position] = Subscriber(POISON)
    (outcome,) = await _collect(make_client().bulk_update_all(users))
    assert len(outcome.result.accepted) == 999
    (rejection,) = outcome.result.rejected
    assert (rejection.identifier, rejection.bucket) == (
        POISON,
        RejectBucket.INVALID_DATA,
    )
    assert outcome.attempts <= 2 * math.ceil(math.log2(1000)) + 1
    assert len(fake.requests) == outcome.attempts
    delivered = {e for r in fake.requests if r.content for e in _emails(r)}
    assert delivered >= {u.email for u in users}


@pytest.mark.anyio
async def test_batch_too_large_is_split_until_it_fits(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """413/BatchTooLarge halves the batch until Iterable takes the parts."""

    def handler(request: httpx.Request) -> httpx.Response:
        if len(_emails(request)) > 300:
            return fail(400, "BatchTooLarge")
        return bulk_ok(request)

    fake.route("POST", "/api/lists/subscribe", handler)
    (outcome,) = await _collect(make_client().subscribe_all(1, _users(1000)))
    assert len(outcome.result.accepted) == 1000
    assert outcome.splits == 3
    assert outcome.attempts == 1 + 2 + 4


@pytest.mark.anyio
async def test_single_row_too_large_for_iterable_is_a_too_large_rejection(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """A lone row Iterable answers 413 for is rejected as too_large; others land."""
    fake.route("POST", "/api/lists/subscribe", _refuse_poison("", status=413))
    users = [*_users(3), Subscriber(POISON)]
    (outcome,) = await _collect(make_client().subscribe_all(1, users))
    assert [r.bucket for r in outcome.result.rejected] == [RejectBucket.TOO_LARGE]
    assert len(outcome.result.accepted) == 3


@pytest.mark.anyio
async def test_oversize_user_is_an_outcome_without_a_request(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """A user larger than max_bytes alone is reported, never sent."""
    users = [Subscriber("big@example.com", data_fields={"b": "x" * 5000}), *_users(2)]
    client = make_client(batch=BatchPolicy(max_bytes=1000))
    outcomes = await _collect(client.subscribe_all(1, users))
    by_attempts = {o.attempts: o for o in outcomes}
    assert by_attempts[0].result.rejected[0].bucket is RejectBucket.TOO_LARGE
    assert len(fake.requests) == 1


@pytest.mark.anyio
async def test_never_more_than_max_in_flight(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """With slow answers, at most max_in_flight requests are outstanding."""
    fake.delay_ticks = 20
    client = make_client(batch=BatchPolicy(max_items=10), max_in_flight=3)
    outcomes = await _collect(client.subscribe_all(1, _users(200)))
    assert fake.max_in_flight == 3
    assert sorted(o.number for o in outcomes) == list(range(1, 21))
    assert sum(len(o.result.accepted) for o in outcomes) == 200


@pytest.mark.anyio
async def test_source_is_read_only_as_slots_free_up(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """The input is not read ahead of the in-flight window."""
    read = 0

    async def source() -> AsyncIterator[Subscriber]:
        nonlocal read
        for user in _users(10_000):
            read += 1
            yield user

    client = make_client(batch=BatchPolicy(max_items=10), max_in_flight=2)
    outcomes = client.subscribe_all(1, source())
    await anext(outcomes)
    assert read <= 10 * (2 + 2) + 1
    await outcomes.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("response", "error_class"),
    [
        (fail(401, "BadApiKey"), InvalidKeyError),
        (fail(400, "Success", "error.lists.invalidListId(1)"), ListNotFoundError),
        (fail(503, "Error"), ServerError),
    ],
    ids=["fatal", "list-gone", "retries-exhausted"],
)
@pytest.mark.anyio
async def test_sending_stops_and_raises(
    make_client: MakeClient,
    fake: FakeIterable,
    response: httpx.Response,
    error_class: type[Exception],
) -> None:
    """Finished batches are yielded, then a fatal/gone/exhausted error stops all."""
    answers = iter([bulk_ok, bulk_ok])

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(answers, None)
        return step(request) if step else response

    fake.route("POST", "/api/lists/subscribe", handler)
    client = make_client(
        batch=BatchPolicy(max_items=10), max_in_flight=1, retry=RetryPolicy(attempts=2)
    )
    done: list[BatchOutcome] = []
    with pytest.raises(error_class):
        await _collect_into(done, client.subscribe_all(1, _users(100)))
    assert [o.number for o in done] == [1, 2]
    assert len(fake.requests) <= 2 + 2


@pytest.mark.anyio
async def test_unsubscribe_all_sends_identities_only(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """unsubscribe_all batches identifiers only, with channelUnsubscribe false."""
    users = [Subscriber("a@x.com", data_fields={"secret": 1})]
    outcomes = await _collect(make_client().unsubscribe_all(1, users))
    body = orjson.loads(fake.requests[0].content)
    assert body["subscribers"] == [{"email": "a@x.com"}]
    assert body["channelUnsubscribe"] is False
    assert outcomes[0].result.accepted == ("a@x.com",)
