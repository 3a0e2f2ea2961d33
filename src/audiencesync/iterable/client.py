"""The Iterable client: typed async calls over httpx, one send seam.

Every call goes through :meth:`IterableClient._call`: the endpoint's rate
limiter, one HTTP request, classification of the answer into a result or an
exception from :mod:`audiencesync.iterable.errors`, and stamina retries of the
retryable ones. The body is parsed inside the retry loop, so an unreadable 2xx
is retried like any transient failure.
"""

from __future__ import annotations

import functools
import logging
import re
import ssl
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Self, TypeVar
from urllib.parse import quote

import httpx
import orjson
import stamina

from audiencesync import __version__
from audiencesync.core.clock import Clock, SystemClock
from audiencesync.iterable.batching import (
    Batcher,
    BatchPolicy,
    BodyFrame,
    Encoder,
    aiter_batches,
    encode_identity,
    encode_subscriber,
    subscriber_row,
)
from audiencesync.iterable.credentials import ApiKey, ApiKeyAuth
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.errors import (
    ClientSetupError,
    MalformedResponseError,
    NetworkError,
    RateLimitedError,
)
from audiencesync.iterable.limits import (
    AdaptiveLimiter,
    LearnedRate,
    Limiter,
    Limits,
    build_limiters,
)
from audiencesync.iterable.models import (
    BulkResult,
    IterableList,
    ListType,
    Subscriber,
    UserProfile,
)
from audiencesync.iterable.redaction import guard_httpx_logs, redact_url
from audiencesync.iterable.regions import Region, resolve_base_url
from audiencesync.iterable.responses import (
    CallContext,
    error_for,
    load_json,
    parse_bulk_result,
    parse_clean_bulk,
    parse_fields,
    parse_lines,
    parse_list_id,
    parse_lists,
    parse_size,
    parse_user,
)
from audiencesync.iterable.retry import (
    RetryDecider,
    RetryPolicy,
    may_have_applied,
    parse_retry_after,
)
from audiencesync.iterable.sending import (
    BatchOutcome,
    Identity,
    RequestTally,
    send_all,
    send_bisected,
)
from audiencesync.iterable.stats import EndpointStats

T = TypeVar("T")
logger = logging.getLogger("audiencesync.iterable")
# Each retry is logged by RetryDecider.log_retry (endpoint, attempt, status, wait,
# nothing personal); stamina's own retry log would say it twice, less precisely.
stamina.instrumentation.set_on_retry_hooks([])

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_RETRY = RetryPolicy()
DEFAULT_BATCH = BatchPolicy()
DEFAULT_LIMITS = Limits()
# Calls one client keeps in flight at most (the emulator keeps up with 8; design 8).
MAX_IN_FLIGHT = 8
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9._+@-]+$")
_RETRYABLE_TRANSPORT = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one (loading the CA store) takes 45 ms.

    The fast-start launcher builds it before it forks, so warm commands share it.
    """
    return httpx.create_ssl_context()


@dataclass(frozen=True, slots=True)
class _Request:
    endpoint: Endpoint
    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: bytes | None = None
    items: int = 1
    list_id: int | None = None
    secrets: tuple[str, ...] | Callable[[], tuple[str, ...]] = field(
        default=(), repr=False
    )

    def secret_values(self) -> tuple[str, ...]:
        """The identifiers to scrub from Iterable's messages (computed on demand)."""
        return self.secrets() if callable(self.secrets) else self.secrets


class IterableClient:
    """Async client for one Iterable project (one key, one data center)."""

    def __init__(
        self,
        api_key: str | ApiKey,
        *,
        region: Region = Region.US,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        batch: BatchPolicy = DEFAULT_BATCH,
        limits: Limits = DEFAULT_LIMITS,
        max_in_flight: int = MAX_IN_FLIGHT,
        clock: Clock | None = None,
        list_ready_window: float = 30.0,
    ) -> None:
        self._key = api_key if isinstance(api_key, ApiKey) else ApiKey(api_key)
        self.base_url = resolve_base_url(region, base_url)
        self.region = region
        self.retry = retry
        self.batch = batch
        self.max_in_flight = max_in_flight
        self.list_ready_window = list_ready_window
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._limiters = build_limiters(limits, self._clock)
        self._stats = {endpoint: EndpointStats() for endpoint in Endpoint}
        self._created_lists: dict[int, float] = {}
        self._listed: dict[int, float | None] = {}  # list id: created (wall s)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            verify=tls_context(),
            timeout=timeout,
            auth=ApiKeyAuth(self._key),
            headers={"Accept": "application/json", "User-Agent": _USER_AGENT},
        )
        guard_httpx_logs(self.base_url.host)

    def __repr__(self) -> str:
        return f"IterableClient(base_url={str(self.base_url)!r}, key={self._key!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def stats(self) -> Mapping[Endpoint, EndpointStats]:
        """Calls, 429s, retries and bytes per endpoint, live."""
        return MappingProxyType(self._stats)

    def limiter(self, endpoint: Endpoint) -> Limiter:
        """The rate limiter of ``endpoint`` (for progress and ETA displays)."""
        return self._limiters[endpoint]

    def learned_rates(self) -> dict[Endpoint, LearnedRate]:
        """What the adaptive limiters that were used learnt about Iterable's limits."""
        return {
            endpoint: limiter.learned()
            for endpoint, limiter in self._limiters.items()
            if isinstance(limiter, AdaptiveLimiter) and limiter.used
        }

    def resume_rates(self, learned: Mapping[Endpoint, LearnedRate]) -> None:
        """Start the adaptive limiters from what an earlier client learnt.

        Subscribe and unsubscribe are list-membership writes: one that learnt
        nothing yet starts from what the other learnt.
        """
        for endpoint, limiter in self._limiters.items():
            known = learned.get(endpoint)
            sibling = _SIBLING.get(endpoint)
            if known is None and sibling is not None:
                known = learned.get(sibling)
            if isinstance(limiter, AdaptiveLimiter) and known is not None:
                limiter.resume_from(known)

    # --- lists -----------------------------------------------------------------

    async def list_lists(self) -> list[IterableList]:
        """Every list of the project (``GET /api/lists``); also checks the key."""
        request = _Request(Endpoint.LIST_LISTS, "GET", "api/lists")
        return await self._call(request, _from_json(parse_lists))

    async def create_list(
        self,
        name: str,
        *,
        description: str | None = None,
        known: Collection[int] = (),
    ) -> int:
        """Create a static list and return its id (``POST /api/lists``), once.

        A create whose answer was lost after it was sent (a timeout, a dropped
        connection, a 5xx, an unreadable answer) may have been applied. Before
        sending it again, the project's lists are read: a standard list named
        exactly ``name`` whose id is not in ``known`` (the ids the caller saw
        before this create) is the one made, and is returned.
        """
        payload: dict[str, object] = {"name": name}
        if description is not None:
            payload["description"] = description
        request = _Request(
            Endpoint.CREATE_LIST, "POST", "api/lists", body=orjson.dumps(payload)
        )

        async def made_meanwhile() -> int | None:
            made = [
                found.id
                for found in await self.list_lists()
                if found.name == name
                and found.list_type is ListType.STANDARD
                and found.id not in known
            ]
            return min(made) if made else None

        list_id = await self._call(
            request, _from_json(parse_list_id), recover=made_meanwhile
        )
        self._created_lists[list_id] = self._clock.now()
        return list_id

    def note_listed(self, found: IterableList) -> None:
        """Iterable lists ``found``: invalidListId for it means not ready, not gone.

        Such answers are retried (waiting as long as the list is young) instead
        of raising :class:`~audiencesync.iterable.errors.ListNotFoundError`.
        """
        created = found.created_at_ms / 1000 if found.created_at_ms else None
        self._listed[found.id] = created

    async def delete_list(self, list_id: int) -> None:
        """Delete a list (``DELETE /api/lists/{listId}``)."""
        path = f"api/lists/{int(list_id)}"
        request = _Request(Endpoint.DELETE_LIST, "DELETE", path, list_id=list_id)
        await self._call(request, _ignore)

    async def get_list_users(
        self, list_id: int, *, prefer_user_id: bool = False
    ) -> list[str]:
        """Every member's identifier (``GET /api/lists/getUsers``, 5 per minute)."""
        params = {"listId": str(int(list_id))}
        if prefer_user_id:
            params["preferUserId"] = "true"
        request = _Request(
            Endpoint.GET_LIST_USERS,
            "GET",
            "api/lists/getUsers",
            params,
            list_id=list_id,
        )
        return await self._call(request, lambda r: parse_lines(r.content))

    async def preview_list_users(
        self, list_id: int, *, prefer_user_id: bool = False, size: int | None = None
    ) -> list[str]:
        """A random sample of members (``GET /api/lists/previewUsers``)."""
        params = {"listId": str(int(list_id))}
        if prefer_user_id:
            params["preferUserId"] = "true"
        if size is not None:
            params["size"] = str(int(size))
        path = "api/lists/previewUsers"
        request = _Request(
            Endpoint.PREVIEW_LIST_USERS, "GET", path, params, list_id=list_id
        )
        return await self._call(request, lambda r: parse_lines(r.content))

    async def get_list_size(self, list_id: int) -> int:
        """The member count (``GET /api/lists/{listId}/size``, 5 per minute)."""
        path = f"api/lists/{int(list_id)}/size"
        request = _Request(Endpoint.LIST_SIZE, "GET", path, list_id=list_id)
        return await self._call(request, lambda r: _need(parse_size(r.content)))

    # --- list membership ---------------------------------------------------------

    async def subscribe(
        self,
        list_id: int,
        subscribers: Sequence[Subscriber],
        *,
        update_existing_users_only: bool = False,
        merge_nested_objects: bool = False,
    ) -> BulkResult:
        """Add users to a static list in one call (``POST /api/lists/subscribe``)."""
        frame = _subscribe_frame(list_id, update_existing_users_only)
        rows = [
            encode_subscriber(s, merge_nested=merge_nested_objects) for s in subscribers
        ]
        return await self._bulk(
            Endpoint.SUBSCRIBE,
            frame,
            subscribers,
            rows,
            tally=RequestTally(),
            list_id=list_id,
        )

    async def unsubscribe(
        self,
        list_id: int,
        subscribers: Sequence[Subscriber],
        *,
        campaign_id: int | None = None,
        channel_unsubscribe: bool = False,
    ) -> BulkResult:
        """Remove users from a list (``POST /api/lists/unsubscribe``).

        ``channelUnsubscribe`` is always sent, ``false`` unless asked: true would
        unsubscribe the users from the whole channel.
        """
        frame = _unsubscribe_frame(list_id, campaign_id, channel_unsubscribe)
        rows = [encode_identity(s) for s in subscribers]
        return await self._bulk(
            Endpoint.UNSUBSCRIBE,
            frame,
            subscribers,
            rows,
            tally=RequestTally(),
            list_id=list_id,
        )

    async def subscribe_rows(
        self,
        list_id: int,
        rows: Sequence[bytes],
        identities: Sequence[Identity],
        tally: RequestTally | None = None,
    ) -> BulkResult:
        """Subscribe users already encoded as JSON rows, in one call.

        The sync engine's fast path: ``rows[i]`` is the encoded subscriber whose
        email and userId are ``identities[i]``. No :class:`Subscriber` is built
        unless Iterable refuses someone. ``tally`` counts this batch's requests
        and retries.
        """
        frame = _subscribe_frame(list_id, False)
        return await self._bulk_split(Endpoint.SUBSCRIBE, frame, rows, identities,
                                      list_id=list_id, tally=tally)  # fmt: skip

    async def unsubscribe_rows(
        self,
        list_id: int,
        rows: Sequence[bytes],
        identities: Sequence[Identity],
        tally: RequestTally | None = None,
    ) -> BulkResult:
        """Remove users already encoded as identity rows, ``channelUnsubscribe`` off."""
        frame = _unsubscribe_frame(list_id, None, False)
        return await self._bulk_split(Endpoint.UNSUBSCRIBE, frame, rows, identities,
                                      list_id=list_id, tally=tally)  # fmt: skip

    def subscribe_all(
        self,
        list_id: int,
        subscribers: Iterable[Subscriber] | AsyncIterable[Subscriber],
        *,
        update_existing_users_only: bool = False,
        merge_nested_objects: bool = False,
    ) -> AsyncIterator[BatchOutcome]:
        """Subscribe any number of users in batches; outcomes as batches finish."""
        frame = _subscribe_frame(list_id, update_existing_users_only)

        def encode(subscriber: Subscriber) -> bytes:
            return encode_subscriber(subscriber, merge_nested=merge_nested_objects)

        return self._send_all(Endpoint.SUBSCRIBE, frame, encode, subscribers, list_id)

    def unsubscribe_all(
        self,
        list_id: int,
        subscribers: Iterable[Subscriber] | AsyncIterable[Subscriber],
        *,
        campaign_id: int | None = None,
        channel_unsubscribe: bool = False,
    ) -> AsyncIterator[BatchOutcome]:
        """Unsubscribe any number of users in batches; outcomes as batches finish."""
        frame = _unsubscribe_frame(list_id, campaign_id, channel_unsubscribe)
        return self._send_all(
            Endpoint.UNSUBSCRIBE, frame, encode_identity, subscribers, list_id
        )

    # --- users -----------------------------------------------------------------

    async def update_user(
        self,
        user: Subscriber,
        *,
        merge_nested_objects: bool = False,
        create_new_fields: bool | None = None,
    ) -> None:
        """Upsert one profile (``POST /api/users/update``); ``None`` clears a field."""
        payload = subscriber_row(user, merge_nested=merge_nested_objects)
        if create_new_fields is not None:
            payload["createNewFields"] = create_new_fields
        request = _Request(
            Endpoint.UPDATE_USER,
            "POST",
            "api/users/update",
            body=orjson.dumps(payload),
            secrets=_identifiers([user]),
        )
        await self._call(request, _ignore)

    async def bulk_update_users(
        self,
        users: Sequence[Subscriber],
        *,
        create_new_fields: bool | None = None,
        merge_nested_objects: bool = False,
    ) -> BulkResult:
        """Upsert many profiles in one call (``POST /api/users/bulkUpdate``)."""
        frame = _bulk_update_frame(create_new_fields)
        rows = [encode_subscriber(u, merge_nested=merge_nested_objects) for u in users]
        return await self._bulk(
            Endpoint.BULK_UPDATE_USERS,
            frame,
            users,
            rows,
            tally=RequestTally(),
            list_id=None,
        )

    def bulk_update_all(
        self,
        users: Iterable[Subscriber] | AsyncIterable[Subscriber],
        *,
        create_new_fields: bool | None = None,
        merge_nested_objects: bool = False,
    ) -> AsyncIterator[BatchOutcome]:
        """Upsert any number of profiles in batches; outcomes as batches finish."""

        def encode(subscriber: Subscriber) -> bytes:
            return encode_subscriber(subscriber, merge_nested=merge_nested_objects)

        frame = _bulk_update_frame(create_new_fields)
        return self._send_all(Endpoint.BULK_UPDATE_USERS, frame, encode, users, None)

    async def get_user(
        self, *, email: str | None = None, user_id: str | None = None
    ) -> UserProfile | None:
        """One profile by email or userId; ``None`` when Iterable does not know it."""
        path, params = _user_location(email, user_id, lookup=True)
        request = _Request(
            Endpoint.GET_USER, "GET", path, params, secrets=_given(email, user_id)
        )
        return await self._call(request, _read_user)

    async def delete_user(
        self, *, email: str | None = None, user_id: str | None = None
    ) -> None:
        """Delete a profile (``DELETE /api/users/{email}`` or ``byUserId/{userId}``)."""
        path, _ = _user_location(email, user_id, lookup=False)
        request = _Request(
            Endpoint.DELETE_USER, "DELETE", path, secrets=_given(email, user_id)
        )
        await self._call(request, _ignore)

    async def get_fields(self) -> dict[str, str]:
        """The project's user fields and their types (``GET /api/users/getFields``)."""
        request = _Request(Endpoint.GET_FIELDS, "GET", "api/users/getFields")
        return await self._call(request, _from_json(parse_fields))

    async def forget_user(
        self, *, email: str | None = None, user_id: str | None = None
    ) -> None:
        """GDPR-forget a user (``POST /api/users/forget``)."""
        _one_identifier(email, user_id)
        payload = {"email": email} if email is not None else {"userId": user_id}
        request = _Request(
            Endpoint.FORGET_USER,
            "POST",
            "api/users/forget",
            body=orjson.dumps(payload),
            secrets=_given(email, user_id),
        )
        await self._call(request, _ignore)

    # --- the send seam -----------------------------------------------------------

    def _send_all(
        self,
        endpoint: Endpoint,
        frame: BodyFrame,
        encode: Encoder,
        subscribers: Iterable[Subscriber] | AsyncIterable[Subscriber],
        list_id: int | None,
    ) -> AsyncIterator[BatchOutcome]:
        batcher = Batcher(self.batch, frame=frame, encode=encode)

        async def send(
            part: Sequence[Subscriber], rows: Sequence[bytes], tally: RequestTally
        ) -> BulkResult:
            return await self._bulk(
                endpoint, frame, part, rows, tally=tally, list_id=list_id
            )

        items = aiter_batches(subscribers, batcher)
        return send_all(items, send, max_in_flight=self.max_in_flight)

    async def _bulk(
        self,
        endpoint: Endpoint,
        frame: BodyFrame,
        subscribers: Sequence[Subscriber],
        rows: Sequence[bytes],
        *,
        tally: RequestTally,
        list_id: int | None,
    ) -> BulkResult:
        path = _BULK_PATHS[endpoint]
        request = _Request(
            endpoint,
            "POST",
            path,
            body=frame.wrap(rows),
            items=len(subscribers),
            list_id=list_id,
            secrets=_identifiers(subscribers),
        )

        def parse(response: httpx.Response) -> BulkResult:
            data = load_json(response.content)
            return _need(parse_bulk_result(data, subscribers))

        return await self._call(request, parse, tally)

    async def _bulk_split(
        self,
        endpoint: Endpoint,
        frame: BodyFrame,
        rows: Sequence[bytes],
        identities: Sequence[Identity],
        *,
        list_id: int,
        tally: RequestTally | None,
    ) -> BulkResult:
        """One call; bisected while Iterable refuses the rows as a whole."""
        counted = tally if tally is not None else RequestTally()

        async def send(part: Sequence[bytes], who: Sequence[Identity]) -> BulkResult:
            return await self._bulk_rows(
                endpoint, frame, part, who, list_id=list_id, tally=counted
            )

        result, _ = await send_bisected(rows, identities, send)
        return result

    async def _bulk_rows(
        self,
        endpoint: Endpoint,
        frame: BodyFrame,
        rows: Sequence[bytes],
        identities: Sequence[Identity],
        *,
        list_id: int,
        tally: RequestTally,
    ) -> BulkResult:
        request = _Request(
            endpoint,
            "POST",
            _BULK_PATHS[endpoint],
            body=frame.wrap(rows),
            items=len(rows),
            list_id=list_id,
            secrets=lambda: _identity_values(identities),
        )

        def parse(response: httpx.Response) -> BulkResult:
            data = load_json(response.content)
            clean = parse_clean_bulk(data, len(identities))
            if clean is not None:
                return clean
            sent = [Subscriber(email=email, user_id=user_id)
                    for email, user_id in identities]  # fmt: skip
            return _need(parse_bulk_result(data, sent))

        return await self._call(request, parse, tally)

    async def _call(
        self,
        request: _Request,
        parse: Callable[[httpx.Response], T],
        tally: RequestTally | None = None,
        *,
        recover: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """Send ``request`` with retries; its parsed answer.

        ``recover`` is for a request that must not be applied twice: once an
        attempt failed in a way that may have applied it, each retry first asks
        ``recover`` for the result it had, and resends only when it has none.
        """
        decider = RetryDecider(request.endpoint, self.retry)
        stats = self._stats[request.endpoint]
        maybe_applied = False
        async for attempt in stamina.retry_context(
            on=decider,
            attempts=self.retry.attempts,
            timeout=self.retry.timeout,
            wait_initial=self.retry.wait_initial,
            wait_max=self.retry.wait_max,
            wait_jitter=self.retry.wait_jitter,
        ):
            with attempt:
                if attempt.num > 1:
                    stats.retries += 1
                    if tally is not None:
                        tally.retries += 1
                    decider.log_retry(attempt.num)
                    found = await recover() if recover and maybe_applied else None
                    if found is not None:
                        return found
                try:
                    response = await self._send_once(request, stats, tally)
                    return _parse(request.endpoint, response, parse)
                except Exception as exc:
                    maybe_applied = maybe_applied or may_have_applied(exc)
                    raise
        msg = "unreachable: stamina either returns or raises"
        raise AssertionError(msg)

    async def _send_once(
        self, request: _Request, stats: EndpointStats, tally: RequestTally | None
    ) -> httpx.Response:
        limiter = self._limiters[request.endpoint]
        ticket = await limiter.acquire()
        stats.calls += 1
        stats.bytes_sent += len(request.body or b"")
        if tally is not None:
            tally.requests += 1
        began = self._clock.now()
        response = await self._transmit(request)
        if tally is not None:
            tally.seconds += self._clock.now() - began
        stats.bytes_received += len(response.content)
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"),
            now_wall=self._clock.wall(),
            cap=self.retry.retry_after_max,
        )
        error = error_for(
            response.status_code,
            response.content,
            self._context(request),
            retry_after=retry_after,
        )
        if error is None:
            limiter.on_success(ticket)
            return response
        # The error's own wait: the server's Retry-After, or ours for a new list.
        wait = getattr(error, "retry_after", None)
        if isinstance(error, RateLimitedError):
            stats.rate_limited += 1
            limiter.on_rate_limited(ticket, wait)
        elif wait is not None:
            limiter.pause(wait)
        raise error

    async def _transmit(self, request: _Request) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if request.body else None
        try:
            return await self._http.request(
                request.method,
                request.path,
                params=request.params,
                content=request.body,
                headers=headers,
            )
        except _RETRYABLE_TRANSPORT as exc:
            msg = f"{type(exc).__name__} on {request.endpoint}; retrying"
            raise NetworkError(msg, endpoint=request.endpoint) from exc
        except httpx.TransportError as exc:
            url = redact_url(self.base_url)
            msg = f"cannot send {request.endpoint} to {url}: {type(exc).__name__}"
            raise ClientSetupError(msg, endpoint=request.endpoint) from exc

    def _context(self, request: _Request) -> CallContext:
        list_id = request.list_id or -1
        created = self._created_lists.get(list_id)
        age = None if created is None else self._clock.now() - created
        listed = list_id in self._listed
        if age is None and self._listed.get(list_id) is not None:
            age = max(self._clock.wall() - (self._listed[list_id] or 0.0), 0.0)
        return CallContext(
            endpoint=request.endpoint,
            items=request.items,
            list_age=age,
            list_listed=listed,
            list_ready_window=self.list_ready_window,
            secrets=_Secrets(self._key.reveal(), request),
            region_hint=f" ({self.base_url.host})",
        )


_USER_AGENT = f"audiencesync/{__version__}"
_SIBLING: Mapping[Endpoint, Endpoint] = {
    Endpoint.SUBSCRIBE: Endpoint.UNSUBSCRIBE,
    Endpoint.UNSUBSCRIBE: Endpoint.SUBSCRIBE,
}
_BULK_PATHS = {
    Endpoint.SUBSCRIBE: "api/lists/subscribe",
    Endpoint.UNSUBSCRIBE: "api/lists/unsubscribe",
    Endpoint.BULK_UPDATE_USERS: "api/users/bulkUpdate",
}


class _UnreadableBodyError(ValueError):
    """A 2xx body that is not what the endpoint promises."""


def _need(value: T | None) -> T:
    if value is None:
        raise _UnreadableBodyError
    return value


def _from_json(parse: Callable[[object], T | None]) -> Callable[[httpx.Response], T]:
    def read(response: httpx.Response) -> T:
        return _need(parse(load_json(response.content)))

    return read


def _ignore(response: httpx.Response) -> None:
    del response


def _read_user(response: httpx.Response) -> UserProfile | None:
    data = load_json(response.content)
    if not isinstance(data, dict):
        raise _UnreadableBodyError
    return parse_user(data)


def _parse(
    endpoint: Endpoint,
    response: httpx.Response,
    parse: Callable[[httpx.Response], T],
) -> T:
    try:
        return parse(response)
    except _UnreadableBodyError as exc:
        status = response.status_code
        msg = f"Iterable answered {status} to {endpoint} with an unreadable body"
        raise MalformedResponseError(msg, endpoint=endpoint, status=status) from exc


def _subscribe_frame(list_id: int, update_existing_users_only: bool) -> BodyFrame:
    return BodyFrame.around(
        "subscribers",
        {"listId": int(list_id)},
        {"updateExistingUsersOnly": update_existing_users_only},
    )


def _unsubscribe_frame(
    list_id: int, campaign_id: int | None, channel_unsubscribe: bool
) -> BodyFrame:
    tail: dict[str, object] = {"channelUnsubscribe": channel_unsubscribe}
    if campaign_id is not None:
        tail["campaignId"] = int(campaign_id)
    return BodyFrame.around("subscribers", {"listId": int(list_id)}, tail)


def _bulk_update_frame(create_new_fields: bool | None) -> BodyFrame:
    tail = None if create_new_fields is None else {"createNewFields": create_new_fields}
    return BodyFrame.around("users", None, tail)


class _Secrets:
    """The key and a request's identifiers, listed only when a message needs them."""

    def __init__(self, key: str, request: _Request) -> None:
        self._key, self._request = key, request

    def __iter__(self) -> Iterator[str]:
        yield self._key
        yield from self._request.secret_values()


def _identity_values(identities: Sequence[Identity]) -> tuple[str, ...]:
    return tuple(v for pair in identities for v in pair if v)


def _identifiers(subscribers: Iterable[Subscriber]) -> tuple[str, ...]:
    """Every identifier sent, so that Iterable's messages can be scrubbed of them."""
    found: list[str] = []
    for subscriber in subscribers:
        found.extend(v for v in (subscriber.email, subscriber.user_id) if v)
    return tuple(found)


def _given(email: str | None, user_id: str | None) -> tuple[str, ...]:
    return tuple(value for value in (email, user_id) if value)


def _one_identifier(email: str | None, user_id: str | None) -> None:
    if (email is None) == (user_id is None):
        msg = "pass exactly one of email= or user_id="
        raise ValueError(msg)


def _user_location(
    email: str | None, user_id: str | None, *, lookup: bool
) -> tuple[str, dict[str, str] | None]:
    """Path (and query) addressing one user; the query form for unusual characters.

    Lookups of identifiers outside ``[A-Za-z0-9._+@-]`` use ``getByEmail?email=``
    or ``byUserId?userId=``; path segments are always percent-encoded.
    """
    _one_identifier(email, user_id)
    if email is not None:
        if lookup and not _SAFE_SEGMENT.match(email):
            return "api/users/getByEmail", {"email": email}
        return f"api/users/{quote(email, safe='@')}", None
    assert user_id is not None  # noqa: S101 -- checked by _one_identifier
    if lookup and not _SAFE_SEGMENT.match(user_id):
        return "api/users/byUserId", {"userId": user_id}
    return f"api/users/byUserId/{quote(user_id, safe='')}", None
