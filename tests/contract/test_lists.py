"""Contract: list endpoints, client against emulator."""

from __future__ import annotations

import pytest

from audiencesync.iterable import IterableClient, ListType

from .conftest import Target, by_email, emails

pytestmark = pytest.mark.anyio


async def test_created_list_is_listed_as_a_standard_list(
    client: IterableClient,
) -> None:
    """POST /api/lists returns an id that GET /api/lists then describes."""
    list_id = await client.create_list("High value (FR)", description="LTV > 1000")
    [listed] = [item for item in await client.list_lists() if item.id == list_id]
    assert listed.name == "High value (FR)"
    assert listed.description == "LTV > 1000"
    assert listed.list_type is ListType.STANDARD
    assert listed.created_at_ms is not None


async def test_lists_come_back_newest_first(client: IterableClient) -> None:
    """GET /api/lists orders lists by creation, newest first."""
    first = await client.create_list("first")
    second = await client.create_list("second")
    assert [item.id for item in await client.list_lists()][:2] == [second, first]


async def test_deleted_list_is_no_longer_listed(client: IterableClient) -> None:
    """DELETE /api/lists/{listId} removes the list."""
    list_id = await client.create_list("temporary")
    await client.delete_list(list_id)
    assert list_id not in {item.id for item in await client.list_lists()}


async def test_members_size_and_preview_agree_with_the_emulator(
    iterable: Target, client: IterableClient
) -> None:
    """getUsers, size and previewUsers all describe the same membership."""
    list_id = await client.create_list("members")
    await client.subscribe(list_id, by_email(emails(25)))
    members = await client.get_list_users(list_id)
    assert set(members) == iterable.emulator.list_members(list_id) == set(emails(25))
    assert await client.get_list_size(list_id) == 25
    preview = await client.preview_list_users(list_id, size=10)
    assert len(preview) == 10
    assert set(preview) <= set(members)


async def test_empty_list_has_no_members(client: IterableClient) -> None:
    """An empty list reads back as no identifiers and size zero."""
    list_id = await client.create_list("empty")
    assert await client.get_list_users(list_id) == []
    assert await client.get_list_size(list_id) == 0
