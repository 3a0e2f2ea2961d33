"""Request shapes: method, path, query, headers and body of every call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest

from audiencesync.iterable import IterableClient, Region, Subscriber
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import CANARY_KEY, FakeIterable, ok

Call = Callable[[IterableClient], Awaitable[object]]

ANA = Subscriber("Ana@Example.com", data_fields={"tier": "gold"})
BOB = Subscriber(user_id="u-1", prefer_user_id=True)

# (call, route answer, method, path, query, body)
CASES: list[tuple[Call, Any, str, str, dict[str, str], Any]] = [
    (lambda c: c.list_lists(), {"lists": []}, "GET", "/api/lists", {}, None),
    (
        lambda c: c.create_list("High LTV", description="d"),
        {"listId": 7},
        "POST",
        "/api/lists",
        {},
        {"name": "High LTV", "description": "d"},
    ),
    (lambda c: c.delete_list(7), None, "DELETE", "/api/lists/7", {}, None),
    (
        lambda c: c.subscribe(7, [ANA, BOB]),
        {"successCount": 2, "failCount": 0},
        "POST",
        "/api/lists/subscribe",
        {},
        {
            "listId": 7,
            "subscribers": [
                {"email": "Ana@Example.com", "dataFields": {"tier": "gold"}},
                {"userId": "u-1", "preferUserId": True},
            ],
            "updateExistingUsersOnly": False,
        },
    ),
    (
        lambda c: c.unsubscribe(7, [ANA, BOB]),
        {"successCount": 2, "failCount": 0},
        "POST",
        "/api/lists/unsubscribe",
        {},
        {
            "listId": 7,
            "subscribers": [{"email": "Ana@Example.com"}, {"userId": "u-1"}],
            "channelUnsubscribe": False,
        },
    ),
    (
        lambda c: c.unsubscribe(7, [BOB], campaign_id=9),
        {"successCount": 1, "failCount": 0},
        "POST",
        "/api/lists/unsubscribe",
        {},
        {
            "listId": 7,
            "subscribers": [{"userId": "u-1"}],
            "channelUnsubscribe": False,
            "campaignId": 9,
        },
    ),
    (
        lambda c: c.get_list_users(7, prefer_user_id=True),
        b"a@x.com\n",
        "GET",
        "/api/lists/getUsers",
        {"listId": "7", "preferUserId": "true"},
        None,
    ),
    (
        lambda c: c.preview_list_users(7, size=50),
        b"a@x.com\n",
        "GET",
        "/api/lists/previewUsers",
        {"listId": "7", "size": "50"},
        None,
    ),
    (lambda c: c.get_list_size(7), b"12", "GET", "/api/lists/7/size", {}, None),
    (
        lambda c: c.update_user(ANA, create_new_fields=False),
        None,
        "POST",
        "/api/users/update",
        {},
        {
            "email": "Ana@Example.com",
            "dataFields": {"tier": "gold"},
            "createNewFields": False,
        },
    ),
    (
        lambda c: c.bulk_update_users([ANA], merge_nested_objects=True),
        {"successCount": 1, "failCount": 0},
        "POST",
        "/api/users/bulkUpdate",
        {},
        {
            "users": [
                {
                    "email": "Ana@Example.com",
                    "dataFields": {"tier": "gold"},
                    "mergeNestedObjects": True,
                }
            ]
        },
    ),
    (
        lambda c: c.get_user(email="ana@example.com"),
        {},
        "GET",
        "/api/users/ana@example.com",
        {},
        None,
    ),
    (
        lambda c: c.get_user(email="a/b@example.com"),
        {},
        "GET",
        "/api/users/getByEmail",
        {"email": "a/b@example.com"},
        None,
    ),
    (
        lambda c: c.get_user(user_id="u-1"),
        {},
        "GET",
        "/api/users/byUserId/u-1",
        {},
        None,
    ),
    (
        lambda c: c.get_user(user_id="u/1 x"),
        {},
        "GET",
        "/api/users/byUserId",
        {"userId": "u/1 x"},
        None,
    ),
    (
        lambda c: c.delete_user(email="ana@example.com"),
        None,
        "DELETE",
        "/api/users/ana@example.com",
        {},
        None,
    ),
    (
        lambda c: c.get_fields(),
        {"fields": {"email": "string"}},
        "GET",
        "/api/users/getFields",
        {},
        None,
    ),
    (
        lambda c: c.forget_user(email="ana@example.com"),
        None,
        "POST",
        "/api/users/forget",
        {},
        {"email": "ana@example.com"},
    ),
]
IDS = [
    "list_lists",
    "create_list",
    "delete_list",
    "subscribe",
    "unsubscribe",
    "unsubscribe_campaign",
    "get_list_users",
    "preview_list_users",
    "list_size",
    "update_user",
    "bulk_update",
    "get_user_email_path",
    "get_user_email_query",
    "get_user_id_path",
    "get_user_id_query",
    "delete_user",
    "get_fields",
    "forget",
]


def _answer(body: Any) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.Response(200, content=body, headers={"Content-Type": "text/plain"})
    return ok(body)


@pytest.mark.parametrize(
    ("call", "answer", "method", "path", "query", "body"), CASES, ids=IDS
)
@pytest.mark.anyio
async def test_request_shape(  # noqa: PLR0917 -- one argument per table column
    make_client: MakeClient,
    fake: FakeIterable,
    call: Call,
    answer: Any,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
) -> None:
    """Each call sends the documented method, path, query, headers and body."""
    fake.route(method, path, lambda _: _answer(answer))
    await call(make_client())
    (request,) = fake.requests
    assert (request.method, request.url.path) == (method, path)
    assert dict(request.url.params) == query
    assert request.headers["Api-Key"] == CANARY_KEY
    assert "api_key" not in str(request.url).lower()
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert orjson.loads(request.content) == body


@pytest.mark.parametrize(
    ("region", "base_url", "expected"),
    [
        (Region.US, None, "https://api.iterable.com/api/lists"),
        (Region.EU, None, "https://api.eu.iterable.com/api/lists"),
        (Region.US, "http://127.0.0.1:9009", "http://127.0.0.1:9009/api/lists"),
        (Region.US, "http://127.0.0.1:9009/eu", "http://127.0.0.1:9009/eu/api/lists"),
        (Region.US, "http://127.0.0.1:9009/eu/", "http://127.0.0.1:9009/eu/api/lists"),
    ],
    ids=["us", "eu", "emulator", "emulator-prefix", "emulator-prefix-slash"],
)
@pytest.mark.anyio
async def test_base_url_joins_paths(
    make_client: MakeClient,
    fake: FakeIterable,
    region: Region,
    base_url: str | None,
    expected: str,
) -> None:
    """Region or explicit base URL (with a path prefix) is joined with API paths."""
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok({"lists": []})

    client = make_client(
        region=region, base_url=base_url, transport=httpx.MockTransport(record)
    )
    await client.list_lists()
    assert seen == [expected]


@pytest.mark.anyio
async def test_channel_unsubscribe_only_when_asked(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """unsubscribe sends channelUnsubscribe true only when explicitly asked."""
    await make_client().unsubscribe(7, [ANA], channel_unsubscribe=True)
    assert orjson.loads(fake.requests[0].content)["channelUnsubscribe"] is True


def test_relative_base_url_is_refused() -> None:
    """A base URL without scheme and host is a ValueError, not a broken client."""
    with pytest.raises(ValueError, match="absolute"):
        IterableClient("k", base_url="localhost:9009")


@pytest.mark.parametrize(
    ("email", "user_id"),
    [(None, None), ("a@x.com", "u-1")],
    ids=["neither", "both"],
)
@pytest.mark.anyio
async def test_user_calls_need_exactly_one_identifier(
    make_client: MakeClient, email: str | None, user_id: str | None
) -> None:
    """get_user refuses calls without, or with both, identifiers."""
    with pytest.raises(ValueError, match="exactly one"):
        await make_client().get_user(email=email, user_id=user_id)
