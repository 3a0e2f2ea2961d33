"""Contract: each documented error body becomes the right client error."""

from __future__ import annotations

import pytest

from audiencesync.emulator import DEFAULT_API_KEY
from audiencesync.errors import FatalError, ListGoneError
from audiencesync.iterable import (
    InvalidKeyError,
    IterableClient,
    ListNotFoundError,
    RequestRejectedError,
    Subscriber,
)

from .conftest import CLIENT_SIDE_KEY, EU_KEY, READ_ONLY_KEY, Target, by_email

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("key", "eu"),
    [
        ("not-a-real-key-00000000000000000", False),
        (EU_KEY, False),
        (DEFAULT_API_KEY, True),
        (CLIENT_SIDE_KEY, False),
    ],
    ids=["unknown-key", "eu-key-on-us", "us-key-on-eu", "client-side-key"],
)
async def test_unusable_keys_fail_fast_without_echoing_the_key(
    iterable: Target, key: str, eu: bool
) -> None:
    """401 BadApiKey is fatal, sent once, and its message hides the key."""
    async with iterable.client(key, eu=eu) as client:
        with pytest.raises(InvalidKeyError) as info:
            await client.list_lists()
    assert isinstance(info.value, FatalError)
    assert info.value.status == 401
    assert info.value.iterable_code == "BadApiKey"
    assert key not in str(info.value)
    assert key[:8] not in str(info.value)
    assert len(iterable.emulator.requests) == 1


async def test_eu_key_works_against_the_eu_data_center(iterable: Target) -> None:
    """A key is valid in its own region."""
    async with iterable.client(EU_KEY, eu=True) as client:
        list_id = await client.create_list("eu list")
        assert list_id in {item.id for item in await client.list_lists()}


async def test_read_only_key_reads_lists_but_cannot_subscribe(iterable: Target) -> None:
    """A read-only key may GET /api/lists and is refused on writes."""
    async with iterable.client() as admin:
        list_id = await admin.create_list("ro")
    async with iterable.client(READ_ONLY_KEY) as client:
        assert list_id in {item.id for item in await client.list_lists()}
        assert await client.get_list_size(list_id) == 0
        with pytest.raises(InvalidKeyError):
            await client.subscribe(list_id, by_email(["a@example.com"]))


async def test_unknown_list_is_reported_as_gone(client: IterableClient) -> None:
    """400 invalidListId (with code "Success") on a list not just created: list gone."""
    with pytest.raises(ListNotFoundError) as info:
        await client.subscribe(987654321, by_email(["a@example.com"]))
    assert isinstance(info.value, ListGoneError)
    assert info.value.status == 400


async def test_deleted_list_is_reported_as_gone(client: IterableClient) -> None:
    """A list deleted in Iterable surfaces as list-gone on the next subscribe."""
    list_id = await client.create_list("doomed")
    await client.delete_list(list_id)
    client.list_ready_window = 0.0
    with pytest.raises(ListGoneError):
        await client.subscribe(list_id, by_email(["a@example.com"]))


async def test_list_without_a_name_is_a_bad_request(client: IterableClient) -> None:
    """400 BadParams is fatal and names Iterable's code."""
    with pytest.raises(RequestRejectedError, match="BadParams"):
        await client.create_list("")


async def test_forgotten_user_update_is_refused(client: IterableClient) -> None:
    """users/update of a forgotten user is a fatal 409 without the email in it."""
    await client.subscribe(await client.create_list("l"), by_email(["f@example.com"]))
    await client.forget_user(email="f@example.com")
    with pytest.raises(FatalError) as info:
        await client.update_user(
            Subscriber(email="f@example.com", data_fields={"a": 1})
        )
    assert "f@example.com" not in str(info.value)
