"""The sync engine's fast path: ``subscribe_rows`` and ``unsubscribe_rows``."""

from __future__ import annotations

import httpx
import orjson
import pytest

from audiencesync.iterable import Endpoint, IdentifierKind, RejectBucket
from audiencesync.iterable.errors import RequestRejectedError
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import FakeIterable, fail, ok

ANA = (
    b'{"email":"ana@example.com","dataFields":{"tier":"gold"}}',
    ("ana@example.com", None),
)
BEN = (b'{"email":"ben@example.com","userId":"u-2"}', ("ben@example.com", "u-2"))


@pytest.mark.anyio
async def test_rows_are_sent_as_given_inside_the_frame(
    fake: FakeIterable, make_client: MakeClient
) -> None:
    """The body is the subscribe frame around the rows, byte for byte."""
    client = make_client()
    result = await client.subscribe_rows(7, [ANA[0], BEN[0]], [ANA[1], BEN[1]])
    [call] = fake.calls("POST", "/api/lists/subscribe")
    body = orjson.loads(call.content)
    assert body["listId"] == 7
    assert body["updateExistingUsersOnly"] is False
    assert body["subscribers"] == [orjson.loads(ANA[0]), orjson.loads(BEN[0])]
    assert (result.rejected, result.success_count) == ((), 2)


@pytest.mark.anyio
async def test_refusals_are_matched_back_to_their_identity(
    fake: FakeIterable, make_client: MakeClient
) -> None:
    """A userId Iterable refuses comes back as that user's rejection."""
    answer = {"successCount": 1, "failCount": 1,
              "failedUpdates": {"conflictUserIds": ["u-2"]}}  # fmt: skip
    fake.route("POST", "/api/lists/subscribe", lambda _: ok(answer))
    client = make_client()
    result = await client.subscribe_rows(7, [ANA[0], BEN[0]], [ANA[1], BEN[1]])
    [rejection] = result.rejected
    assert (rejection.identifier, rejection.kind) == ("u-2", IdentifierKind.USER_ID)
    assert rejection.bucket is RejectBucket.CONFLICT


@pytest.mark.anyio
async def test_unsubscribe_rows_never_unsubscribe_from_the_channel(
    fake: FakeIterable, make_client: MakeClient
) -> None:
    """``channelUnsubscribe`` is always false on the fast path."""
    client = make_client()
    await client.unsubscribe_rows(7, [b'{"email":"ana@example.com"}'], [ANA[1]])
    [call] = fake.calls("POST", "/api/lists/unsubscribe")
    assert orjson.loads(call.content)["channelUnsubscribe"] is False


@pytest.mark.anyio
async def test_an_error_message_is_scrubbed_of_the_rows_identifiers(
    fake: FakeIterable, make_client: MakeClient
) -> None:
    """Iterable quoting an address in its message: the address never surfaces."""

    def refuse(_: httpx.Request) -> httpx.Response:
        return fail(400, "BadParams", "bad subscriber ben@example.com (u-2)")

    fake.route("POST", "/api/lists/subscribe", refuse)
    client = make_client()
    with pytest.raises(RequestRejectedError) as caught:
        await client.subscribe_rows(7, [BEN[0]], [BEN[1]])
    assert "ben@example.com" not in str(caught.value)
    assert "u-2" not in str(caught.value)


@pytest.mark.anyio
async def test_learnt_rates_cover_used_endpoints_and_pass_to_siblings(
    make_client: MakeClient,
) -> None:
    """A client that only subscribed reports that; a new one reuses it for both."""
    first = make_client()
    await first.subscribe_rows(7, [ANA[0]], [ANA[1]])
    learned = first.learned_rates()
    assert set(learned) == {Endpoint.SUBSCRIBE}

    second = make_client()
    second.resume_rates(learned)
    rate = learned[Endpoint.SUBSCRIBE].rate
    assert getattr(second.limiter(Endpoint.UNSUBSCRIBE), "rate", None) == rate
