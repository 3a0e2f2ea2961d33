"""Cut a stream of users into request bodies within Iterable's per-call limits.

Each user is encoded once (orjson); a batch keeps the encoded rows, so the body
is the rows joined inside a fixed :class:`BodyFrame`, and the halves of a
split batch are re-framed without encoding anything again.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field

import orjson

from audiencesync.iterable.models import RejectBucket, Subscriber

Encoder = Callable[[Subscriber], bytes]


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """At most ``max_items`` users and ``max_bytes`` of JSON body per call."""

    max_items: int = 1000
    max_bytes: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.max_bytes < 64:
            msg = f"batch policy needs max_items >= 1, max_bytes >= 64: {self}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class BodyFrame:
    """The fixed JSON around a bulk call's array of users."""

    prefix: bytes
    suffix: bytes

    @classmethod
    def around(
        cls,
        key: str,
        head: Mapping[str, object] | None = None,
        tail: Mapping[str, object] | None = None,
    ) -> BodyFrame:
        """A frame ``{**head, key: [...], **tail}``."""
        start = orjson.dumps(dict(head or {}))[:-1]
        prefix = start + (b"," if head else b"") + orjson.dumps(key) + b":["
        suffix = b"]" + (b"," + orjson.dumps(dict(tail))[1:] if tail else b"}")
        return cls(prefix, suffix)

    @property
    def overhead(self) -> int:
        """Bytes of the frame itself."""
        return len(self.prefix) + len(self.suffix)

    def wrap(self, rows: Iterable[bytes]) -> bytes:
        """The request body holding ``rows``."""
        return self.prefix + b",".join(rows) + self.suffix


@dataclass(frozen=True, slots=True)
class Batch:
    """Users sent in one call, with their encoded rows; numbered from 1."""

    number: int
    subscribers: tuple[Subscriber, ...] = field(repr=False)
    rows: tuple[bytes, ...] = field(repr=False)

    def __len__(self) -> int:
        return len(self.subscribers)


@dataclass(frozen=True, slots=True)
class Unsendable:
    """A user that cannot be sent at all: too large alone, or not encodable."""

    number: int
    subscriber: Subscriber = field(repr=False)
    bucket: RejectBucket
    reason: str


class Batcher:
    """Accumulates encoded users and cuts a batch when the next would not fit."""

    def __init__(self, policy: BatchPolicy, *, frame: BodyFrame, encode: Encoder):
        self.policy = policy
        self._frame = frame
        self._encode = encode
        self._number = 0
        self._subscribers: list[Subscriber] = []
        self._rows: list[bytes] = []
        self._size = frame.overhead

    def add(self, subscriber: Subscriber) -> list[Batch | Unsendable]:
        """Take one user; return what is ready to send (0, 1 or 2 items)."""
        try:
            row = self._encode(subscriber)
        except orjson.JSONEncodeError:
            reason = "data fields are not JSON-encodable"
            return [self._unsendable(subscriber, RejectBucket.INVALID_DATA, reason)]
        alone = self._frame.overhead + len(row)
        if alone > self.policy.max_bytes:
            reason = f"{alone} bytes alone exceed max_bytes {self.policy.max_bytes}"
            return [self._unsendable(subscriber, RejectBucket.TOO_LARGE, reason)]
        ready: list[Batch | Unsendable] = []
        if self._rows and not self._fits(len(row)):
            ready.append(self._cut())
        self._subscribers.append(subscriber)
        self._rows.append(row)
        self._size += len(row) + (1 if len(self._rows) > 1 else 0)
        return ready

    def flush(self) -> Batch | None:
        """The last, partial batch, if any."""
        return self._cut() if self._rows else None

    def _fits(self, row_size: int) -> bool:
        if len(self._rows) >= self.policy.max_items:
            return False
        return self._size + 1 + row_size <= self.policy.max_bytes

    def _cut(self) -> Batch:
        self._number += 1
        batch = Batch(self._number, tuple(self._subscribers), tuple(self._rows))
        self._subscribers, self._rows = [], []
        self._size = self._frame.overhead
        return batch

    def _unsendable(
        self, subscriber: Subscriber, bucket: RejectBucket, reason: str
    ) -> Unsendable:
        self._number += 1
        return Unsendable(self._number, subscriber, bucket, reason)


def iter_batches(
    subscribers: Iterable[Subscriber], batcher: Batcher
) -> Iterable[Batch | Unsendable]:
    """Batches (and unsendable users) of ``subscribers``, lazily."""
    for subscriber in subscribers:
        yield from batcher.add(subscriber)
    last = batcher.flush()
    if last is not None:
        yield last


async def aiter_batches(
    subscribers: Iterable[Subscriber] | AsyncIterable[Subscriber], batcher: Batcher
) -> AsyncIterator[Batch | Unsendable]:
    """:func:`iter_batches` for a sync or async source, read only as needed."""
    if isinstance(subscribers, AsyncIterable):
        async for subscriber in subscribers:
            for item in batcher.add(subscriber):
                yield item
    else:
        for subscriber in subscribers:
            for item in batcher.add(subscriber):
                yield item
    last = batcher.flush()
    if last is not None:
        yield last


def member_row(
    email: str | None, user_id: str | None, data_fields: Mapping[str, object] | None
) -> dict[str, object]:
    """A user's identifiers and fields as the JSON object bulk calls take."""
    row: dict[str, object] = {}
    if email is not None:
        row["email"] = email
    if user_id is not None:
        row["userId"] = user_id
    if data_fields:
        row["dataFields"] = data_fields
    return row


def subscriber_row(
    subscriber: Subscriber, *, merge_nested: bool = False
) -> dict[str, object]:
    """One user as a subscribe, users/update or bulkUpdate JSON object."""
    row = member_row(subscriber.email, subscriber.user_id, subscriber.data_fields)
    if subscriber.prefer_user_id:
        row["preferUserId"] = True
    if merge_nested:
        row["mergeNestedObjects"] = True
    return row


def encode_subscriber(subscriber: Subscriber, *, merge_nested: bool = False) -> bytes:
    """One user as an encoded subscribe or bulkUpdate row."""
    return orjson.dumps(subscriber_row(subscriber, merge_nested=merge_nested))


def encode_identity(subscriber: Subscriber) -> bytes:
    """One user as an unsubscribe row: identifiers only, never fields."""
    row: dict[str, object] = {}
    if subscriber.email is not None:
        row["email"] = subscriber.email
    if subscriber.user_id is not None:
        row["userId"] = subscriber.user_id
    return orjson.dumps(row)
