"""Parsing of bodies into results: modern, legacy, odd and broken shapes."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audiencesync.iterable import (
    IdentifierKind,
    ListType,
    MalformedResponseError,
    RejectBucket,
    Subscriber,
)
from audiencesync.iterable.responses import (
    load_json,
    parse_bulk_result,
    parse_lines,
    parse_lists,
    parse_size,
    parse_user,
)
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import FakeIterable, ok

SENT = [
    Subscriber("Ana@Example.com"),
    Subscriber("bad@@example"),
    Subscriber(user_id="ghost-user"),
    Subscriber("Gone@Example.com"),
    Subscriber("clash@example.com", user_id="u-9"),
    Subscriber("typed@example.com"),
    Subscriber(user_id="u-ok"),
]

MODERN = {
    "successCount": 2,
    "failCount": 5,
    "invalidEmails": ["bad@@example"],
    "invalidUserIds": [],
    "failedUpdates": {
        "invalidEmails": ["bad@@example"],
        "invalidUserIds": [],
        "notFoundEmails": [],
        "notFoundUserIds": ["ghost-user"],
        "forgottenEmails": ["gone@example.com"],
        "forgottenUserIds": [],
        "conflictEmails": [],
        "conflictUserIds": ["u-9"],
        "invalidDataEmails": ["typed@example.com"],
        "invalidDataUserIds": [],
    },
    "createdFields": ["tier"],
    "filteredOutFields": ["junk"],
    "someFutureField": {"ignored": True},
}


def test_modern_response_sorts_every_user_into_its_bucket() -> None:
    """The full modern shape gives accepted ids and one bucket per rejected user."""
    result = parse_bulk_result(MODERN, SENT)
    assert result is not None
    assert result.accepted == ("Ana@Example.com", "u-ok")
    buckets = {(r.identifier, r.kind, r.bucket) for r in result.rejected}
    assert buckets == {
        ("bad@@example", IdentifierKind.EMAIL, RejectBucket.INVALID),
        ("ghost-user", IdentifierKind.USER_ID, RejectBucket.NOT_FOUND),
        ("Gone@Example.com", IdentifierKind.EMAIL, RejectBucket.FORGOTTEN),
        ("u-9", IdentifierKind.USER_ID, RejectBucket.CONFLICT),
        ("typed@example.com", IdentifierKind.EMAIL, RejectBucket.INVALID_DATA),
    }
    assert (result.success_count, result.fail_count) == (2, 5)
    assert result.created_fields == ("tier",)
    assert result.filtered_out_fields == ("junk",)


def test_legacy_2021_shape_uses_top_level_invalid_arrays() -> None:
    """Without failedUpdates, the deprecated top-level arrays are honoured."""
    body = {
        "successCount": 1,
        "failCount": 1,
        "invalidEmails": ["BAD@@EXAMPLE"],
        "invalidUserIds": [],
    }
    result = parse_bulk_result(body, SENT[:2])
    assert result is not None
    assert result.accepted == ("Ana@Example.com",)
    assert [(r.identifier, r.bucket) for r in result.rejected] == [
        ("bad@@example", RejectBucket.INVALID)
    ]


def test_lowercased_emails_match_back_to_what_was_sent() -> None:
    """Iterable's lowercased failure emails map to the caller's spelling."""
    body = {
        "successCount": 0,
        "failCount": 1,
        "failedUpdates": {"forgottenEmails": ["ana@example.com"]},
    }
    result = parse_bulk_result(body, [Subscriber("ANA@Example.COM")])
    assert result is not None
    assert result.rejected[0].identifier == "ANA@Example.COM"


def test_user_ids_match_case_sensitively() -> None:
    """userIds are case-sensitive: a differently cased failure is someone else."""
    body = {
        "successCount": 1,
        "failCount": 1,
        "failedUpdates": {"invalidUserIds": ["U-1"]},
    }
    result = parse_bulk_result(body, [Subscriber(user_id="u-1")])
    assert result is not None
    assert result.accepted == ("u-1",)


@pytest.mark.parametrize(
    "body",
    [
        {"successCount": 2, "failCount": 0},
        {"successCount": 2, "failCount": 0, "failedUpdates": None},
        {"successCount": 2, "failCount": 0, "failedUpdates": {"invalidEmails": None}},
        {
            "successCount": 2,
            "failCount": 0,
            "failedUpdates": {"invalidEmails": [1, None]},
        },
        {"successCount": 2, "failCount": 0, "invalidEmails": "not-a-list"},
    ],
    ids=["no-arrays", "null-failed", "null-array", "wrong-item-types", "wrong-type"],
)
def test_missing_or_odd_arrays_mean_no_rejections(body: dict[str, object]) -> None:
    """Every failure array is optional; wrong types are ignored, never fatal."""
    result = parse_bulk_result(body, SENT[:2])
    assert result is not None
    assert result.accepted == ("Ana@Example.com", "bad@@example")
    assert result.rejected == ()


@pytest.mark.parametrize(
    "data",
    [None, [], "text", 3, {}, {"lists": []}],
    ids=["not-json", "array", "string", "number", "empty", "other-shape"],
)
def test_bulk_body_without_counts_is_unreadable(data: object) -> None:
    """A body that is not a bulk answer is reported as unreadable, not as acks."""
    assert parse_bulk_result(data, SENT[:1]) is None


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>oops</html>", b'{"successCount": 1', b"\xff\xfe\x00"],
    ids=["empty", "html", "truncated", "binary"],
)
@pytest.mark.anyio
async def test_garbage_2xx_body_is_retried_then_raised(
    make_client: MakeClient, fake: FakeIterable, body: bytes
) -> None:
    """An unreadable 2xx is a MalformedResponseError after the bounded retries."""
    fake.route(
        "POST", "/api/lists/subscribe", lambda _: ok(None).__class__(200, content=body)
    )
    client = make_client()
    with pytest.raises(MalformedResponseError, match="unreadable"):
        await client.subscribe(1, SENT[:1])
    assert len(fake.requests) == client.retry.attempts


@given(st.binary(max_size=300))
def test_parsers_never_crash_on_random_bytes(body: bytes) -> None:
    """No parser raises on arbitrary bytes."""
    data = load_json(body)
    parse_bulk_result(data, SENT)
    parse_lists(data)
    parse_user(data)
    parse_lines(body)
    parse_size(body)


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from([*sorted(MODERN), "failedUpdates"]),
                children,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_bulk_parser_never_crashes_on_random_json(data: object) -> None:
    """parse_bulk_result survives any JSON value in any field."""
    parse_bulk_result(orjson.loads(orjson.dumps(data)), SENT)


def test_lists_parse_types_and_skip_broken_entries() -> None:
    """GET /api/lists entries become IterableList; broken entries are skipped."""
    body = {
        "lists": [
            {"id": 1, "name": "A", "createdAt": 1617047266524, "listType": "Standard"},
            {"id": 2, "name": "B", "listType": "Brand-new-type", "description": "d"},
            {"id": "3", "name": "C"},
            "junk",
        ]
    }
    lists = parse_lists(body)
    assert lists is not None
    assert [(x.id, x.list_type) for x in lists] == [
        (1, ListType.STANDARD),
        (2, ListType.UNKNOWN),
    ]
    assert lists[0].created_at_ms == 1617047266524


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a@x.com\nb@x.com\n", ["a@x.com", "b@x.com"]),
        (b"", []),
        (b"a\r\n\r\nb", ["a", "b"]),
    ],
    ids=["lines", "empty", "crlf-blank"],
)
def test_get_users_lines(body: bytes, expected: list[str]) -> None:
    """getUsers' text/plain body is one identifier per line."""
    assert parse_lines(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b"1523", 1523), (b" 7\n", 7), (b'"12"', 12), (b"{}", None), (b"-1", None)],
    ids=["bare", "spaces", "quoted", "json", "negative"],
)
def test_list_size_is_a_bare_number(body: bytes, expected: int | None) -> None:
    """The size endpoint answers a bare number; anything else is unreadable."""
    assert parse_size(body) == expected


@pytest.mark.anyio
async def test_unknown_user_is_none(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """GET of an unknown user answers 200 {} and the client returns None."""
    fake.route("GET", "/api/users/nobody@example.com", lambda _: ok({}))
    assert await make_client().get_user(email="nobody@example.com") is None


@pytest.mark.anyio
async def test_known_user_is_parsed(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """A user lookup returns email, userId and data fields."""
    user = {"email": "a@x.com", "userId": "u-1", "dataFields": {"tier": "gold"}}
    fake.route("GET", "/api/users/byUserId/u-1", lambda _: ok({"user": user}))
    profile = await make_client().get_user(user_id="u-1")
    assert profile is not None
    assert (profile.email, profile.user_id, profile.data_fields) == (
        "a@x.com",
        "u-1",
        {"tier": "gold"},
    )
