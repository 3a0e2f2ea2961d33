"""Contract: user endpoints, client against emulator."""

from __future__ import annotations

import pytest

from audiencesync.iterable import InvalidDataError, IterableClient, Subscriber

pytestmark = pytest.mark.anyio


async def test_update_merges_fields_and_null_clears_one(client: IterableClient) -> None:
    """users/update keeps fields not sent and removes a field sent as null."""
    await client.update_user(
        Subscriber(email="ana@example.com", data_fields={"tier": "gold", "ltv": 10})
    )
    await client.update_user(
        Subscriber(email="ana@example.com", data_fields={"tier": None, "city": "Lyon"})
    )
    profile = await client.get_user(email="ana@example.com")
    assert profile is not None
    assert profile.data_fields["ltv"] == 10
    assert profile.data_fields["city"] == "Lyon"
    assert "tier" not in profile.data_fields


async def test_field_types_are_locked_project_wide(client: IterableClient) -> None:
    """A value of another type for an existing field is refused with a clear error."""
    await client.update_user(Subscriber(email="a@example.com", data_fields={"ltv": 1}))
    with pytest.raises(InvalidDataError, match="RequestFieldsTypesMismatched") as info:
        await client.update_user(
            Subscriber(email="b@example.com", data_fields={"ltv": "lots"})
        )
    assert "lots" not in str(info.value)
    assert "b@example.com" not in str(info.value)


async def test_get_fields_reports_each_field_type(client: IterableClient) -> None:
    """getFields names every field written so far with its locked type."""
    await client.update_user(
        Subscriber(email="a@example.com", data_fields={"ltv": 2.5, "vip": True})
    )
    fields = await client.get_fields()
    assert fields["ltv"] == "double"
    assert fields["vip"] == "boolean"


async def test_unknown_user_reads_as_none(client: IterableClient) -> None:
    """GET of an unknown user is 200 {} at Iterable, None here."""
    assert await client.get_user(email="nobody@example.com") is None
    assert await client.get_user(user_id="nobody") is None


async def test_user_with_a_slash_in_the_email_is_found(client: IterableClient) -> None:
    """Emails with special characters are looked up through the query form."""
    await client.update_user(Subscriber(email="a/b@example.com", data_fields={"x": 1}))
    profile = await client.get_user(email="a/b@example.com")
    assert profile is not None
    assert profile.email == "a/b@example.com"


async def test_deleted_user_is_gone(client: IterableClient) -> None:
    """DELETE /api/users/{email} removes the profile."""
    await client.update_user(Subscriber(email="del@example.com", data_fields={"x": 1}))
    await client.delete_user(email="del@example.com")
    assert await client.get_user(email="del@example.com") is None


async def test_bulk_update_reports_per_user_failures(client: IterableClient) -> None:
    """bulkUpdate accepts good users and rejects malformed emails individually."""
    result = await client.bulk_update_users(
        [
            Subscriber(email="ok@example.com", data_fields={"tier": "gold"}),
            Subscriber(email="bad@@example", data_fields={"tier": "gold"}),
        ]
    )
    assert result.accepted == ("ok@example.com",)
    assert [r.identifier for r in result.rejected] == ["bad@@example"]
    profile = await client.get_user(email="ok@example.com")
    assert profile is not None
    assert profile.data_fields["tier"] == "gold"
