"""The key and identifiers never reach a repr, a log line or an exception (T14)."""

from __future__ import annotations

import logging

import httpx
import pytest

from audiencesync.iterable import (
    ApiKey,
    BatchPolicy,
    IterableError,
    RetryPolicy,
    Subscriber,
)
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import CANARY_KEY, FakeIterable, bulk_ok, fail, ok

CANARY_EMAIL = "Canary.Person+leak@Example.com"
CANARY_USER_ID = "canary-user-4242"
CANARIES = (
    CANARY_KEY,
    CANARY_KEY[:8],
    CANARY_EMAIL,
    CANARY_EMAIL.lower(),
    CANARY_USER_ID,
)


def _assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text


@pytest.mark.anyio
async def test_reprs_mask_key_and_identifiers(make_client: MakeClient) -> None:
    """Client, key and subscriber reprs show no secret and no identifier."""
    user = Subscriber(
        CANARY_EMAIL, user_id=CANARY_USER_ID, data_fields={"x": CANARY_EMAIL}
    )
    client = make_client(retry=RetryPolicy(), batch=BatchPolicy())
    for text in (
        repr(client),
        str(client),
        repr(ApiKey(CANARY_KEY)),
        str(ApiKey(CANARY_KEY)),
        repr(user),
    ):
        _assert_clean(text)
    assert "****" in repr(client)


def test_key_is_revealed_only_on_purpose() -> None:
    """The key is revealed only on purpose (for the Api-Key header)."""
    assert ApiKey(f"  {CANARY_KEY} ").reveal() == CANARY_KEY


@pytest.mark.anyio
async def test_canaries_absent_from_logs_and_errors(
    make_client: MakeClient, fake: FakeIterable, caplog: pytest.LogCaptureFixture
) -> None:
    """A run through retries, rejections and errors leaks nothing (DEBUG logs)."""
    unrelated = f"bad {CANARY_EMAIL} key {CANARY_KEY}"  # the userId was not sent
    echo = f"bad user {CANARY_EMAIL} / {CANARY_USER_ID} key {CANARY_KEY}"
    fake.script(
        "POST",
        "/api/lists/subscribe",
        fail(503, "Error", echo),
        fail(429, "RateLimitExceeded", echo, **{"Retry-After": "1"}),
        httpx.ConnectError(echo),
    )
    fake.route(
        "GET",
        f"/api/users/{CANARY_EMAIL}",
        lambda _: fail(400, "InvalidEmailAddressError", unrelated),
    )
    fake.route("GET", "/api/users/byUserId/" + CANARY_USER_ID, lambda _: ok({}))
    fake.route(
        "POST", "/api/users/update", lambda _: fail(409, "GenericError", unrelated)
    )
    fake.route("GET", "/api/lists", lambda _: fail(401, "BadApiKey", unrelated))
    errors: list[str] = []
    users = [Subscriber(CANARY_EMAIL), Subscriber(user_id=CANARY_USER_ID)]
    with caplog.at_level(logging.DEBUG):
        client = make_client()
        errors.extend([repr(o) async for o in client.subscribe_all(1, users)])
        await client.get_user(user_id=CANARY_USER_ID)
        for call in (
            client.get_user(email=CANARY_EMAIL),
            client.update_user(users[0]),
            client.list_lists(),
        ):
            try:
                await call
            except IterableError as exc:
                errors.extend((str(exc), repr(exc), str(exc.args)))
    assert len(errors) == 1 + 3 * 3
    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "HTTP Request" in logged
    _assert_clean(logged)
    for text in errors:
        _assert_clean(text)


@pytest.mark.anyio
async def test_httpx_request_log_keeps_non_user_paths(
    make_client: MakeClient, fake: FakeIterable, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx's request lines still name list paths; only user identifiers go."""
    fake.route("POST", "/api/lists/subscribe", bulk_ok)
    with caplog.at_level(logging.INFO, logger="httpx"):
        await make_client().subscribe(1, [Subscriber(CANARY_EMAIL)])
    assert any("/api/lists/subscribe" in r.getMessage() for r in caplog.records)
