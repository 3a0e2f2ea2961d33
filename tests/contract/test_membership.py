"""Contract: subscribe and unsubscribe per project type, and every rejection bucket."""

from __future__ import annotations

import pytest

from audiencesync.iterable import (
    IterableClient,
    RejectBucket,
    Rejection,
    Subscriber,
)

from .conftest import HYBRID_KEY, USER_ID_KEY, Target, by_email, emails

pytestmark = pytest.mark.anyio


def buckets(rejected: tuple[Rejection, ...]) -> dict[str, RejectBucket]:
    """Identifier → bucket of each rejection."""
    return {r.identifier: r.bucket for r in rejected}


async def test_subscribe_accepts_valid_emails_and_lowercases_them(
    iterable: Target, client: IterableClient
) -> None:
    """Mixed-case emails are accepted as sent and stored lowercased."""
    list_id = await client.create_list("case")
    result = await client.subscribe(list_id, by_email(["Ana@Example.COM", "bob@x.io"]))
    assert result.accepted == ("Ana@Example.COM", "bob@x.io")
    assert result.rejected == ()
    assert result.success_count == 2
    assert iterable.emulator.list_members(list_id) == {"ana@example.com", "bob@x.io"}


async def test_malformed_emails_land_in_the_invalid_bucket(
    client: IterableClient,
) -> None:
    """Malformed emails are rejected one by one; the rest of the batch goes in."""
    list_id = await client.create_list("invalid")
    sent = ["ok@example.com", "user @example.com", "bad@@example", "not-an-email"]
    result = await client.subscribe(list_id, by_email(sent))
    assert result.accepted == ("ok@example.com",)
    assert buckets(result.rejected) == {
        "user @example.com": RejectBucket.INVALID,
        "bad@@example": RejectBucket.INVALID,
        "not-an-email": RejectBucket.INVALID,
    }
    assert result.fail_count == 3


async def test_forgotten_users_land_in_the_forgotten_bucket(
    iterable: Target, client: IterableClient
) -> None:
    """A GDPR-forgotten user is refused on subscribe and not re-created."""
    list_id = await client.create_list("forgotten")
    await client.subscribe(list_id, by_email(["gone@example.com"]))
    await client.forget_user(email="gone@example.com")
    result = await client.subscribe(list_id, by_email(["gone@example.com"]))
    assert buckets(result.rejected) == {"gone@example.com": RejectBucket.FORGOTTEN}
    assert iterable.emulator.list_members(list_id) == frozenset()
    assert await client.get_user(email="gone@example.com") is None


async def test_unsubscribe_removes_members_and_reports_strangers_as_not_found(
    iterable: Target, client: IterableClient
) -> None:
    """Unsubscribe removes members; non-members come back as not found."""
    list_id = await client.create_list("leavers")
    await client.subscribe(list_id, by_email(emails(3)))
    result = await client.unsubscribe(
        list_id, by_email(["user0@example.com", "x@y.io"])
    )
    assert result.accepted == ("user0@example.com",)
    assert buckets(result.rejected) == {"x@y.io": RejectBucket.NOT_FOUND}
    assert iterable.emulator.list_members(list_id) == set(emails(3)[1:])


async def test_unsubscribe_never_unsubscribes_from_the_channel(
    iterable: Target, client: IterableClient
) -> None:
    """The user stays a known, subscribable profile after leaving a list."""
    list_id = await client.create_list("channel")
    await client.subscribe(list_id, by_email(["stay@example.com"]))
    await client.unsubscribe(list_id, by_email(["stay@example.com"]))
    profile = await client.get_user(email="stay@example.com")
    assert profile is not None
    assert profile.data_fields.get("unsubscribedChannelIds", []) == []


async def test_email_project_refuses_unknown_user_id_without_prefer_user_id(
    client: IterableClient,
) -> None:
    """Email project: an unknown userId alone is not found."""
    list_id = await client.create_list("ids")
    result = await client.subscribe(list_id, [Subscriber(user_id="u-1")])
    assert buckets(result.rejected) == {"u-1": RejectBucket.NOT_FOUND}


async def test_email_project_creates_placeholder_user_with_prefer_user_id(
    iterable: Target, client: IterableClient
) -> None:
    """Email project: preferUserId creates the user with a placeholder email."""
    list_id = await client.create_list("ids")
    result = await client.subscribe(
        list_id, [Subscriber(user_id="u-1", prefer_user_id=True)]
    )
    assert result.accepted == ("u-1",)
    [member] = iterable.emulator.list_members(list_id)
    assert member.endswith("@placeholder.email")


async def test_user_id_project_skips_unknown_users_when_told_to(
    iterable: Target,
) -> None:
    """userId project: updateExistingUsersOnly turns unknown users into not found."""
    async with iterable.client(USER_ID_KEY) as client:
        list_id = await client.create_list("existing only")
        result = await client.subscribe(
            list_id, [Subscriber(user_id="new-1")], update_existing_users_only=True
        )
        assert buckets(result.rejected) == {"new-1": RejectBucket.NOT_FOUND}
        created = await client.subscribe(list_id, [Subscriber(user_id="new-1")])
        assert created.accepted == ("new-1",)
        assert iterable.emulator.list_members(list_id) == {"new-1"}


async def test_user_id_project_lists_membership_as_user_list_ids(
    iterable: Target,
) -> None:
    """userId project: a member's profile carries userListIds, not emailListIds."""
    async with iterable.client(USER_ID_KEY) as client:
        list_id = await client.create_list("members")
        await client.subscribe(list_id, [Subscriber(user_id="u-7")])
        profile = await client.get_user(user_id="u-7")
        assert profile is not None
        assert profile.data_fields["userListIds"] == [list_id]
        assert "emailListIds" not in profile.data_fields


async def test_email_project_lists_membership_as_email_list_ids(
    client: IterableClient,
) -> None:
    """Email project: a member's profile carries emailListIds."""
    list_id = await client.create_list("members")
    await client.subscribe(list_id, by_email(["ana@example.com"]))
    profile = await client.get_user(email="ana@example.com")
    assert profile is not None
    assert profile.data_fields["emailListIds"] == [list_id]


async def test_hybrid_project_reports_identity_conflicts(iterable: Target) -> None:
    """Hybrid project: an email and a userId of two different users conflict."""
    async with iterable.client(HYBRID_KEY) as client:
        list_id = await client.create_list("hybrid")
        await client.subscribe(
            list_id,
            [Subscriber(email="a@example.com"), Subscriber(user_id="u-b")],
        )
        result = await client.subscribe(
            list_id, [Subscriber(email="a@example.com", user_id="u-b")]
        )
        assert result.accepted == ()
        assert {r.bucket for r in result.rejected} == {RejectBucket.CONFLICT}


async def test_poison_row_is_isolated_into_the_invalid_data_bucket(
    iterable: Target, client: IterableClient
) -> None:
    """A row whose field type clashes is bisected out; every other row is delivered."""
    await client.update_user(
        Subscriber(email="seed@example.com", data_fields={"ltv": 5})
    )
    list_id = await client.create_list("poison")
    good = emails(99)
    rows = [Subscriber(email=e, data_fields={"ltv": n}) for n, e in enumerate(good)]
    rows.insert(42, Subscriber(email="poison@example.com", data_fields={"ltv": "x"}))
    outcomes = [o async for o in client.subscribe_all(list_id, rows)]
    rejected = [r for o in outcomes for r in o.result.rejected]
    assert [(r.identifier, r.bucket) for r in rejected] == [
        ("poison@example.com", RejectBucket.INVALID_DATA)
    ]
    assert iterable.emulator.list_members(list_id) == set(good)
    assert sum(o.attempts for o in outcomes) <= 2 * 7 + 1


async def test_oversized_field_value_lands_in_the_invalid_data_bucket(
    iterable: Target, client: IterableClient
) -> None:
    """Iterable's own invalidDataEmails (a value over 32k characters) is per row."""
    list_id = await client.create_list("big values")
    rows = [
        Subscriber(email="ok@example.com", data_fields={"note": "short"}),
        Subscriber(email="big@example.com", data_fields={"note": "x" * 40_000}),
    ]
    result = await client.subscribe(list_id, rows)
    assert result.accepted == ("ok@example.com",)
    assert buckets(result.rejected) == {"big@example.com": RejectBucket.INVALID_DATA}
    assert iterable.emulator.list_members(list_id) == {"ok@example.com"}
