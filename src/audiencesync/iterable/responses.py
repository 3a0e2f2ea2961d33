"""Pure parsing: response bodies into results, error responses into exceptions.

Nothing here sends or waits. Parsers never raise on a malformed body: they
return ``None`` (the client turns that into :class:`MalformedResponseError`) or
skip entries of the wrong type. Unknown fields are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import orjson

from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.errors import (
    BatchTooLargeError,
    ForbiddenError,
    InvalidDataError,
    InvalidKeyError,
    IterableError,
    IterableRetryableError,
    ListNotFoundError,
    ListNotReadyError,
    PoisonBatchError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)
from audiencesync.iterable.models import (
    BulkResult,
    IdentifierKind,
    IterableList,
    ListType,
    RejectBucket,
    Rejection,
    Subscriber,
    UserProfile,
)
from audiencesync.iterable.redaction import redact_text

INVALID_LIST_MARKER = "error.lists.invalidListId"

# (failedUpdates key prefix, bucket), in the order a user's bucket is decided.
_BUCKETS = (
    ("forgotten", RejectBucket.FORGOTTEN),
    ("invalid", RejectBucket.INVALID),
    ("invalidData", RejectBucket.INVALID_DATA),
    ("conflict", RejectBucket.CONFLICT),
    ("notFound", RejectBucket.NOT_FOUND),
)


def load_json(body: bytes) -> object | None:
    """The decoded JSON body, or ``None`` when it is not JSON."""
    try:
        data: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _int(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return default


# --- bulk results ---------------------------------------------------------


def parse_bulk_result(data: object, sent: Sequence[Subscriber]) -> BulkResult | None:
    """Iterable's per-identifier answer matched back to the users ``sent``."""
    if not isinstance(data, dict) or not _has_counts(data):
        return None
    buckets = _bucket_sets(data)
    accepted: list[str] = []
    rejected: list[Rejection] = []
    for subscriber in sent:
        rejection = _rejection_for(subscriber, buckets)
        if rejection is None:
            accepted.append(subscriber.identifier)
        else:
            rejected.append(rejection)
    return BulkResult(
        accepted=tuple(accepted),
        rejected=tuple(rejected),
        success_count=_int(data.get("successCount"), len(accepted)),
        fail_count=_int(data.get("failCount"), len(rejected)),
        created_fields=_strings(data.get("createdFields")),
        filtered_out_fields=_strings(data.get("filteredOutFields")),
    )


def parse_clean_bulk(data: object, sent: int) -> BulkResult | None:
    """The answer of a bulk call that refused nobody, or None when it did.

    ``accepted`` is left empty: the caller knows whom it sent. Anything short of
    counts with no failure at all (a refusal, a malformed answer) gives None,
    and the full :func:`parse_bulk_result` takes over.
    """
    if not isinstance(data, dict) or not _has_counts(data):
        return None
    if _int(data.get("failCount"), 0) != 0 or _bucket_sets(data):
        return None
    return BulkResult(
        accepted=(),
        rejected=(),
        success_count=_int(data.get("successCount"), sent),
        fail_count=0,
        created_fields=_strings(data.get("createdFields")),
        filtered_out_fields=_strings(data.get("filteredOutFields")),
    )


def _has_counts(data: Mapping[str, object]) -> bool:
    """A bulk answer carries its counts; without them nothing is acknowledged."""
    return any(_int(data.get(key), -1) >= 0 for key in ("successCount", "failCount"))


_Buckets = list[tuple[RejectBucket, frozenset[str], frozenset[str]]]


def _bucket_sets(data: Mapping[str, object]) -> _Buckets:
    """(bucket, lowercased emails, userIds) for every failure array present."""
    failed = data.get("failedUpdates")
    if not isinstance(failed, dict):
        failed = {
            "invalidEmails": data.get("invalidEmails"),
            "invalidUserIds": data.get("invalidUserIds"),
        }
    sets: _Buckets = []
    for prefix, bucket in _BUCKETS:
        emails = frozenset(e.lower() for e in _strings(failed.get(f"{prefix}Emails")))
        user_ids = frozenset(_strings(failed.get(f"{prefix}UserIds")))
        if emails or user_ids:
            sets.append((bucket, emails, user_ids))
    return sets


def _rejection_for(subscriber: Subscriber, buckets: _Buckets) -> Rejection | None:
    email = subscriber.email.lower() if subscriber.email else None
    for bucket, emails, user_ids in buckets:
        if subscriber.user_id is not None and subscriber.user_id in user_ids:
            reason = bucket_reason(bucket, IdentifierKind.USER_ID)
            return Rejection(subscriber.user_id, IdentifierKind.USER_ID, bucket, reason)
        if email is not None and email in emails:
            reason = bucket_reason(bucket, IdentifierKind.EMAIL)
            identifier = subscriber.email or ""
            return Rejection(identifier, IdentifierKind.EMAIL, bucket, reason)
    return None


# What Iterable's API contract says each failedUpdates array means.
_MEANINGS = {
    RejectBucket.FORGOTTEN: "the user was forgotten in Iterable (GDPR)",
    RejectBucket.INVALID: "Iterable found the identifier malformed",
    RejectBucket.INVALID_DATA: "Iterable refused a value in dataFields",
    RejectBucket.CONFLICT: (
        "an existing email or userId prevented the identity update (they belong"
        " to two users)"
    ),
    RejectBucket.NOT_FOUND: "no such user in the Iterable project",
}
_PREFIXES = {bucket: prefix for prefix, bucket in _BUCKETS}


def bucket_reason(bucket: RejectBucket, kind: IdentifierKind) -> str:
    """Iterable's failedUpdates array that named the user, and what it means."""
    suffix = "UserIds" if kind is IdentifierKind.USER_ID else "Emails"
    array = f"failedUpdates.{_PREFIXES[bucket]}{suffix}"
    return f"{array}: {_MEANINGS[bucket]}"


# --- other bodies -----------------------------------------------------------


def parse_lists(data: object) -> list[IterableList] | None:
    """The lists of ``GET /api/lists``; entries without an id or name are skipped."""
    if not isinstance(data, dict) or not isinstance(data.get("lists"), list):
        return None
    lists = []
    for item in data["lists"]:
        if not isinstance(item, dict):
            continue
        list_id, name = item.get("id"), item.get("name")
        if not isinstance(list_id, int) or not isinstance(name, str):
            continue
        description = item.get("description")
        lists.append(
            IterableList(
                id=list_id,
                name=name,
                list_type=_list_type(item.get("listType")),
                created_at_ms=_int(item.get("createdAt"), 0) or None,
                description=description if isinstance(description, str) else None,
            )
        )
    return lists


def _list_type(value: object) -> ListType:
    if isinstance(value, str) and value in _LIST_TYPES:
        return ListType(value)
    return ListType.UNKNOWN


_LIST_TYPES = frozenset(member.value for member in ListType)


def parse_list_id(data: object) -> int | None:
    """The ``listId`` of a create-list answer."""
    if isinstance(data, dict):
        list_id = data.get("listId")
        if isinstance(list_id, int) and not isinstance(list_id, bool):
            return list_id
    return None


def parse_lines(body: bytes) -> list[str]:
    """One identifier per line (getUsers, previewUsers); blank lines dropped."""
    text = body.decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_size(body: bytes) -> int | None:
    """The bare number of ``GET /api/lists/{listId}/size``."""
    text = body.decode("utf-8", errors="replace").strip().strip('"')
    return int(text) if text.isdecimal() else None


def parse_user(data: object) -> UserProfile | None:
    """The profile of a user lookup; ``None`` for an unknown user's ``{}``."""
    if not isinstance(data, dict):
        return None
    user = data.get("user")
    if not isinstance(user, dict):
        return None
    email, user_id = user.get("email"), user.get("userId")
    fields = user.get("dataFields")
    profile = UserProfile(
        email=email if isinstance(email, str) and email else None,
        user_id=user_id if isinstance(user_id, str) and user_id else None,
        data_fields=fields if isinstance(fields, dict) else {},
    )
    if profile.email is None and profile.user_id is None:
        return None
    return profile


def parse_fields(data: object) -> dict[str, str] | None:
    """Field name → Iterable type, from ``GET /api/users/getFields``."""
    if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
        return None
    return {k: v for k, v in data["fields"].items() if isinstance(v, str)}


# --- errors -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the client knows about a request when it reads the answer."""

    endpoint: Endpoint
    items: int = 1
    list_age: float | None = None  # seconds since the list was created
    list_listed: bool = False  # a fresh GET /api/lists showed the list
    list_ready_window: float = 30.0
    secrets: Iterable[str] = ()  # read only when a message must be scrubbed
    region_hint: str = ""


def error_for(
    status: int, body: bytes, ctx: CallContext, *, retry_after: float | None = None
) -> IterableError | None:
    """The exception an answer means, or ``None`` when it is a success.

    HTTP status decides first: any status of 400 and up is an error whatever
    its ``code`` (an unknown list comes back as 400 with code ``Success``).
    A 2xx is an error only when its JSON ``code`` names one.
    """
    data = load_json(body)
    code = _code(data)
    if status < 400 and code in {None, "Success"}:
        return None
    msg = _message(data, ctx)
    if INVALID_LIST_MARKER in msg:
        return _list_error(status, code, msg, ctx)
    if status < 400:
        status = _STATUS_OF_CODE.get(code or "", 400)
    return _error_by_status(status, code, msg, ctx, retry_after)


def _code(data: object) -> str | None:
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, str) else None


def _message(data: object, ctx: CallContext) -> str:
    raw = data.get("msg") if isinstance(data, dict) else None
    return redact_text(raw, secrets=ctx.secrets) if isinstance(raw, str) else ""


_STATUS_OF_CODE = {
    "BadApiKey": 401,
    "BadAuthorizationHeader": 401,
    "Unauthorized": 401,
    "Forbidden": 403,
    "ForbiddenParamsError": 403,
    "BatchTooLarge": 413,
    "RateLimitExceeded": 429,
    "DatabaseError": 500,
    "GenericError": 500,
    "Error": 500,
}


def _describe(ctx: CallContext, status: int, code: str | None, msg: str) -> str:
    said = f" ({code}: {msg})" if msg else (f" ({code})" if code else "")
    return f"Iterable answered {status} to {ctx.endpoint}{said}"


def _list_error(
    status: int, code: str | None, msg: str, ctx: CallContext
) -> IterableError:
    where = _describe(ctx, status, code, msg)
    if ctx.list_age is not None and ctx.list_age <= ctx.list_ready_window:
        text = f"{where}: the list was created {ctx.list_age:.1f}s ago; retrying"
        return ListNotReadyError(
            text,
            endpoint=ctx.endpoint,
            status=status,
            iterable_code=code,
            retry_after=_list_ready_wait(ctx.list_age),
        )
    if ctx.list_listed:
        text = f"{where}: Iterable lists the list but does not take it yet; retrying"
        return ListNotReadyError(
            text,
            endpoint=ctx.endpoint,
            status=status,
            iterable_code=code,
            retry_after=_list_ready_wait(ctx.list_age or ctx.list_ready_window),
        )
    text = f"{where}: the list no longer exists in Iterable; recreate it and resend"
    return ListNotFoundError(
        text, endpoint=ctx.endpoint, status=status, iterable_code=code
    )


def _list_ready_wait(list_age: float) -> float:
    """Wait as long as the list is old (1 s to 8 s): exponential, keyed on its age.

    Given as a ``retry_after`` so the endpoint's limiter waits it out through the
    client's clock (virtual in tests), like a server-sent Retry-After.
    """
    return min(max(list_age, 1.0), 8.0)


def _error_by_status(
    status: int,
    code: str | None,
    msg: str,
    ctx: CallContext,
    retry_after: float | None,
) -> IterableError:
    error_class, advice = _pick_error(status, code, ctx)
    text = f"{_describe(ctx, status, code, msg)}: {advice}"
    if issubclass(error_class, IterableRetryableError):
        return error_class(
            text,
            endpoint=ctx.endpoint,
            status=status,
            iterable_code=code,
            retry_after=retry_after,
            detail=msg,
        )
    return error_class(
        text, endpoint=ctx.endpoint, status=status, iterable_code=code, detail=msg
    )


_BY_STATUS: dict[int, tuple[type[IterableError], str]] = {
    429: (RateLimitedError, "rate limited; waiting before the next call"),
    401: (InvalidKeyError, ""),
    403: (ForbiddenError, "the key may not call this endpoint"),
    413: (BatchTooLargeError, "the batch is too large; split it"),
}
_REFUSED = (RequestRejectedError, "the request was refused; fix it before resending")


def _pick_error(
    status: int, code: str | None, ctx: CallContext
) -> tuple[type[IterableError], str]:
    if code == "RateLimitExceeded":
        status = 429
    elif code == "BatchTooLarge" and status < 500:
        status = 413
    if status >= 500:
        return ServerError, "server error; retrying"
    if status == 401:
        return InvalidKeyError, _key_advice(ctx)
    if code == "RequestFieldsTypesMismatched" and status not in _BY_STATUS:
        if ctx.endpoint.is_bulk and ctx.items > 1:
            return PoisonBatchError, "a row's field types refused the batch; split it"
        return InvalidDataError, "a field's type does not match the project schema"
    return _BY_STATUS.get(status, _REFUSED)


def _key_advice(ctx: CallContext) -> str:
    return (
        "the API key was refused. Check that it is correct, that it is a "
        "server-side key (not read-only, JavaScript, mobile or web), and that its "
        f"project lives in the data center this client calls{ctx.region_hint}"
    )
