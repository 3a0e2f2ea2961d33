"""Concurrent sending of batches, with split-and-retry for refused batches.

:func:`send_all` keeps at most ``max_in_flight`` batches in flight and reads the
source only as slots free up. A batch refused as a whole
(:class:`~audiencesync.errors.SplittableError`) is bisected until the offending
row stands alone; that row becomes a rejection and every other row is delivered,
at a cost of at most ``2·⌈log2 B⌉ + 1`` requests per poison row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from audiencesync.errors import SplittableError
from audiencesync.iterable.batching import Batch, Unsendable
from audiencesync.iterable.errors import BatchTooLargeError, InvalidDataError
from audiencesync.iterable.models import BulkResult, RejectBucket, Rejection, Subscriber


@dataclass(slots=True)
class RequestTally:
    """HTTP requests made for one batch, retries and split halves included.

    ``retries`` counts the attempts after the first of each call, so concurrent
    batches each know their own (the endpoint's stats add up all of them);
    ``seconds`` is the time spent waiting for answers, the limiter's waits left
    out (the round trip the sync engine sizes its in-flight window by).
    """

    requests: int = 0
    retries: int = 0
    seconds: float = 0.0


SendPart = Callable[
    [Sequence[Subscriber], Sequence[bytes], RequestTally], Awaitable[BulkResult]
]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What happened to one batch: its users, Iterable's answer, and the cost."""

    number: int
    subscribers: tuple[Subscriber, ...] = field(repr=False)
    result: BulkResult
    attempts: int
    splits: int


async def send_batch(batch: Batch, send: SendPart) -> BatchOutcome:
    """Send one batch, bisecting it while Iterable refuses it as a whole."""
    tally = RequestTally()

    async def part(rows: Sequence[bytes], who: Sequence[Subscriber]) -> BulkResult:
        return await send(who, rows, tally)

    result, splits = await bisect(batch.rows, batch.subscribers, part, _refused)
    return BatchOutcome(batch.number, batch.subscribers, result, tally.requests, splits)


W = TypeVar("W")


async def bisect(
    rows: Sequence[bytes],
    who: Sequence[W],
    send: Callable[[Sequence[bytes], Sequence[W]], Awaitable[BulkResult]],
    refuse: Callable[[W, Exception], BulkResult],
) -> tuple[BulkResult, int]:
    """Send ``rows`` (``who[i]`` is row i's user); split while refused as a whole.

    A row refused alone becomes ``refuse(user, error)``; every other row is
    delivered. Both halves of a split are sent in turn, so a poison row costs
    at most ``2·⌈log2 B⌉`` requests after the first. Returns the merged result
    and the number of splits.
    """
    try:
        return await send(rows, who), 0
    except (SplittableError, InvalidDataError) as exc:
        if len(rows) == 1:
            return refuse(who[0], exc), 0
        if isinstance(exc, InvalidDataError):
            raise
    middle = len(rows) // 2
    left, left_splits = await bisect(rows[:middle], who[:middle], send, refuse)
    right, right_splits = await bisect(rows[middle:], who[middle:], send, refuse)
    return left.merge(right), 1 + left_splits + right_splits


def _refused(subscriber: Subscriber, exc: Exception) -> BulkResult:
    too_large = isinstance(exc, BatchTooLargeError)
    bucket = RejectBucket.TOO_LARGE if too_large else RejectBucket.INVALID_DATA
    return _rejected(subscriber, bucket, refusal_reason(exc))


def refusal_reason(exc: Exception) -> str:
    """Iterable's code and own message for a row it refused alone."""
    code = getattr(exc, "iterable_code", None) or type(exc).__name__
    detail = getattr(exc, "detail", "")
    return f"{code}: {detail}" if detail else str(code)


Identity = tuple[str | None, str | None]
"""A user's (email, userId), at least one of them set."""

SendRows = Callable[[Sequence[bytes], Sequence[Identity]], Awaitable[BulkResult]]


async def send_bisected(
    rows: Sequence[bytes], identities: Sequence[Identity], send: SendRows
) -> tuple[BulkResult, int]:
    """:func:`bisect` for rows known by (email, userId): the sync engine's path."""
    return await bisect(rows, identities, send, _refused_identity)


def _refused_identity(identity: Identity, exc: Exception) -> BulkResult:
    email, user_id = identity
    subscriber = Subscriber(email=email, user_id=user_id)
    return _refused(subscriber, exc)


def _rejected(subscriber: Subscriber, bucket: RejectBucket, reason: str) -> BulkResult:
    rejection = Rejection(subscriber.identifier, subscriber.kind, bucket, reason)
    return BulkResult(rejected=(rejection,), fail_count=1)


def unsendable_outcome(item: Unsendable) -> BatchOutcome:
    """The outcome of a user refused before sending."""
    result = _rejected(item.subscriber, item.bucket, item.reason)
    return BatchOutcome(item.number, (item.subscriber,), result, 0, 0)


async def send_all(
    items: AsyncIterator[Batch | Unsendable],
    send: SendPart,
    *,
    max_in_flight: int,
) -> AsyncIterator[BatchOutcome]:
    """Outcomes of all batches, in completion order, with bounded concurrency.

    On the first error (list gone, fatal, retries exhausted) no new batch
    starts, the outcomes already finished are yielded, batches still in flight
    are cancelled, and the error is raised.
    """
    if max_in_flight < 1:
        msg = f"max_in_flight must be at least 1, got {max_in_flight}"
        raise ValueError(msg)
    pending: _Pending = {}
    exhausted = False
    try:
        while True:
            if not exhausted:
                ready, exhausted = await _fill(items, send, pending, max_in_flight)
                for outcome in ready:
                    yield outcome
            if not pending:
                if exhausted:
                    return
                continue
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finished, failure = _collect(done, pending)
            for outcome in finished:
                yield outcome
            if failure is not None:
                raise failure
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


_Pending = dict[asyncio.Task[BatchOutcome], int]


async def _fill(
    items: AsyncIterator[Batch | Unsendable],
    send: SendPart,
    pending: _Pending,
    max_in_flight: int,
) -> tuple[list[BatchOutcome], bool]:
    """Start batches until the window is full; also return unsendable outcomes."""
    ready: list[BatchOutcome] = []
    while len(pending) < max_in_flight and len(ready) < max_in_flight:
        item = await anext(items, None)
        if item is None:
            return ready, True
        if isinstance(item, Unsendable):
            ready.append(unsendable_outcome(item))
        else:
            pending[asyncio.create_task(send_batch(item, send))] = item.number
    return ready, False


def _collect(
    done: set[asyncio.Task[BatchOutcome]], pending: _Pending
) -> tuple[list[BatchOutcome], BaseException | None]:
    """Outcomes of finished tasks in batch order, and the first error, if any."""
    finished: list[BatchOutcome] = []
    failure: BaseException | None = None
    for task in sorted(done, key=pending.__getitem__):
        del pending[task]
        error = task.exception()
        if error is None:
            finished.append(task.result())
        elif failure is None:
            failure = error
    return finished, failure
