"""Translation of Iterable answers into the error taxonomy (style §5)."""

from __future__ import annotations

import httpx
import pytest

from audiencesync.errors import (
    FatalError,
    ListGoneError,
    RetryableError,
    SplittableError,
)
from audiencesync.iterable import (
    BatchTooLargeError,
    Endpoint,
    ForbiddenError,
    InvalidDataError,
    InvalidKeyError,
    IterableError,
    ListNotFoundError,
    ListNotReadyError,
    PoisonBatchError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    Subscriber,
)
from audiencesync.iterable.responses import CallContext, error_for
from tests.iterable.conftest import MakeClient
from tests.iterable.fakes import FakeIterable, fail, ok

SUBSCRIBE = CallContext(Endpoint.SUBSCRIBE, items=10)
SINGLE = CallContext(Endpoint.SUBSCRIBE, items=1)
UPDATE = CallContext(Endpoint.UPDATE_USER)


def _json(status: int, code: str, msg: str = "") -> tuple[int, bytes]:
    response = fail(status, code, msg)
    return status, response.content


MAPPING = [
    # status, body, context, expected class, expected branch
    (
        *_json(401, "BadApiKey", "Invalid API key"),
        SUBSCRIBE,
        InvalidKeyError,
        FatalError,
    ),
    (*_json(403, "Forbidden"), SUBSCRIBE, ForbiddenError, FatalError),
    (*_json(400, "BadParams"), SUBSCRIBE, RequestRejectedError, FatalError),
    (*_json(400, "BadJsonBody"), SUBSCRIBE, RequestRejectedError, FatalError),
    (
        404,
        b"<html>Action not found</html>",
        SUBSCRIBE,
        RequestRejectedError,
        FatalError,
    ),
    (
        *_json(409, "GenericError", "List is in use"),
        SUBSCRIBE,
        RequestRejectedError,
        FatalError,
    ),
    (*_json(422, "Whatever"), SUBSCRIBE, RequestRejectedError, FatalError),
    (*_json(429, "RateLimitExceeded"), SUBSCRIBE, RateLimitedError, RetryableError),
    (
        429,
        b"Rate limit exceeded. Please try again later.",
        SUBSCRIBE,
        RateLimitedError,
        RetryableError,
    ),
    (
        *_json(500, "Error", "Internal Server Error"),
        SUBSCRIBE,
        ServerError,
        RetryableError,
    ),
    (502, b"<html>bad gateway</html>", SUBSCRIBE, ServerError, RetryableError),
    (503, b"Request timeout. Try again later.", SUBSCRIBE, ServerError, RetryableError),
    (504, b"", SUBSCRIBE, ServerError, RetryableError),
    (413, b"too large", SUBSCRIBE, BatchTooLargeError, SplittableError),
    (*_json(400, "BatchTooLarge"), SUBSCRIBE, BatchTooLargeError, SplittableError),
    (
        *_json(400, "RequestFieldsTypesMismatched"),
        SUBSCRIBE,
        PoisonBatchError,
        SplittableError,
    ),
    (*_json(400, "RequestFieldsTypesMismatched"), SINGLE, InvalidDataError, FatalError),
    (*_json(400, "RequestFieldsTypesMismatched"), UPDATE, InvalidDataError, FatalError),
    (*_json(200, "RateLimitExceeded"), SUBSCRIBE, RateLimitedError, RetryableError),
    (*_json(200, "BadApiKey"), SUBSCRIBE, InvalidKeyError, FatalError),
    (*_json(200, "BadParams"), SUBSCRIBE, RequestRejectedError, FatalError),
    (
        *_json(400, "Success", "error.lists.invalidListId(9)"),
        SUBSCRIBE,
        ListNotFoundError,
        ListGoneError,
    ),
    (
        *_json(500, "Error", "error.lists.invalidListId(9)"),
        SUBSCRIBE,
        ListNotFoundError,
        ListGoneError,
    ),
]
MAPPING_IDS = [
    "401",
    "403",
    "400-badparams",
    "400-badjson",
    "404-html",
    "409",
    "422",
    "429-json",
    "429-text",
    "500",
    "502-html",
    "503-text",
    "504-empty",
    "413",
    "400-batchtoolarge",
    "400-poison-bulk",
    "400-poison-single",
    "400-poison-update",
    "200-ratelimit-code",
    "200-badapikey-code",
    "200-badparams-code",
    "400-invalidlist-success-code",
    "500-invalidlist",
]


@pytest.mark.parametrize(
    ("status", "body", "ctx", "error_class", "branch"), MAPPING, ids=MAPPING_IDS
)
def test_status_and_code_map_to_the_taxonomy(
    status: int,
    body: bytes,
    ctx: CallContext,
    error_class: type[IterableError],
    branch: type[Exception],
) -> None:
    """Every status class and special code lands on the right error branch."""
    error = error_for(status, body, ctx)
    assert type(error) is error_class
    assert isinstance(error, branch)
    assert error.endpoint == ctx.endpoint
    expected_status = status if status >= 400 else error.status
    assert error.status == expected_status


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b'{"msg":"","code":"Success","params":null}'),
        (200, b'{"successCount":1,"failCount":0}'),
        (200, b"not json at all"),
        (204, b""),
    ],
    ids=["envelope", "bulk", "text", "no-content"],
)
def test_success_is_decided_by_status_then_code(status: int, body: bytes) -> None:
    """2xx without an error code is success, whatever the body."""
    assert error_for(status, body, SUBSCRIBE) is None


def test_rate_limited_error_carries_retry_after() -> None:
    """The parsed Retry-After reaches the exception."""
    error = error_for(429, b"", SUBSCRIBE, retry_after=2.0)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 2.0


@pytest.mark.parametrize(
    ("age", "error_class"),
    [
        (None, ListNotFoundError),
        (0.0, ListNotReadyError),
        (29.9, ListNotReadyError),
        (30.1, ListNotFoundError),
    ],
    ids=["not-ours", "just-created", "end-of-window", "after-window"],
)
def test_invalid_list_id_depends_on_list_age(
    age: float | None, error_class: type[IterableError]
) -> None:
    """invalidListId is retryable only within the ready window after our create."""
    ctx = CallContext(Endpoint.SUBSCRIBE, list_age=age, list_ready_window=30.0)
    status, body = _json(400, "Success", "error.lists.invalidListId(9)")
    assert type(error_for(status, body, ctx)) is error_class


@pytest.mark.anyio
async def test_new_list_not_ready_is_retried_until_ready(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """A list this client just created is retried through invalidListId answers."""
    fake.route("POST", "/api/lists", lambda _: ok({"listId": 9}))
    invalid = fail(400, "Success", "error.lists.invalidListId(9)")
    fake.script("POST", "/api/lists/subscribe", invalid, invalid)
    client = make_client()
    list_id = await client.create_list("new")
    result = await client.subscribe(list_id, [Subscriber("a@x.com")])
    assert result.accepted == ("a@x.com",)
    assert len(fake.calls("POST", "/api/lists/subscribe")) == 3


@pytest.mark.anyio
async def test_old_list_gone_is_not_retried(
    make_client: MakeClient, fake: FakeIterable
) -> None:
    """invalidListId on a list this client did not just create: ListGoneError, once."""
    fake.script(
        "POST",
        "/api/lists/subscribe",
        fail(400, "Success", "error.lists.invalidListId(9)"),
    )
    with pytest.raises(ListNotFoundError, match="recreate"):
        await make_client().subscribe(9, [Subscriber("a@x.com")])
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("response", "error_class"),
    [
        (fail(401, "BadApiKey", "Invalid API key"), InvalidKeyError),
        (fail(403, "Forbidden"), ForbiddenError),
        (fail(400, "BadParams"), RequestRejectedError),
        (fail(400, "BadJsonBody"), RequestRejectedError),
    ],
    ids=["401", "403", "400-badparams", "400-badjson"],
)
@pytest.mark.anyio
async def test_fatal_errors_are_sent_once(
    make_client: MakeClient,
    fake: FakeIterable,
    response: httpx.Response,
    error_class: type[IterableError],
) -> None:
    """401/403/BadParams/BadJsonBody fail fast: exactly one attempt."""
    fake.route("POST", "/api/lists/subscribe", lambda _: response)
    with pytest.raises(error_class):
        await make_client().subscribe(1, [Subscriber("a@x.com")])
    assert len(fake.requests) == 1


def test_invalid_key_message_says_what_to_check() -> None:
    """A 401 names the three usual causes: wrong key, key type, region."""
    status, body = _json(401, "BadApiKey", "Invalid API key")
    error = error_for(
        status,
        body,
        CallContext(Endpoint.LIST_LISTS, region_hint=" (api.iterable.com)"),
    )
    text = str(error)
    assert "server-side key" in text
    assert "data center" in text
    assert "api.iterable.com" in text


def test_messages_redact_emails_and_sent_identifiers() -> None:
    """Iterable's msg is scrubbed of anything email-like and of what we sent."""
    status, body = _json(
        400,
        "InvalidEmailAddressError",
        "Invalid email: Ana.Secret@example.com for user u-secret-7",
    )
    error = error_for(
        status, body, CallContext(Endpoint.UPDATE_USER, secrets=("u-secret-7",))
    )
    text = str(error)
    assert "Ana.Secret" not in text
    assert "u-secret-7" not in text
    assert "<email>" in text
