"""Send a persisted plan to one Iterable list, checkpointing every acked batch.

Several batches are in flight at once (:mod:`audiencesync.sync.inflight` sizes
the window from the limiter's rate and the round trip). Each answer is stored
as it comes: the batch is marked acknowledged together with its rejects and
counters (see :func:`audiencesync.sync.checkpoints.checkpoint`), and the run's
heart beats, in one transaction with any answers that came at the same time.
Only batches the plan holds and the run segment has not acknowledged are sent,
so a crash re-sends at most the batches that were in flight; subscribing and
unsubscribing are set operations, which Iterable applies idempotently.
A batch Iterable refuses as a whole for one row is split by the client until
the refused rows stand alone (they become rejects); it is checkpointed once,
after its last part was answered, so a crash meanwhile re-sends that batch only.
Rejects carry the profile key of their plan row, read only when there are any.
When Iterable refuses every row of the first batch sent for one reason, the
batch is checkpointed and the run stops (:class:`~.outcomes.BatchRefusedError`);
no other batch is in flight then, since the window opens after the first ack.
Identifiers stay in the plan, the database and the rejected file; none is
logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, overload

from sqlalchemy import select

from audiencesync.core.parquet_facts import small_work
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.models import IdentifierKind
from audiencesync.iterable.sending import RequestTally
from audiencesync.store.runs import RunReject
from audiencesync.sync.batches import (
    Action,
    EncodedBatch,
    Identity,
    batch_identities,
    batch_profile_keys,
    read_encoded_batches,
)
from audiencesync.sync.checkpoints import (
    FINAL_BUCKETS,
    CleanBatch,
    Reject,
    RejectBucket,
    acked_batches,
    checkpoint,
    checkpoint_clean,
)
from audiencesync.sync.files import read_relation, write_values
from audiencesync.sync.inflight import InFlightWindow
from audiencesync.sync.interrupt import Interrupted
from audiencesync.sync.outcomes import RunCanceledError, whole_refusal
from audiencesync.sync.plan import PLAN_FILE
from audiencesync.sync.records import heartbeat
from audiencesync.sync.scratch import STATE_MEMORY_LIMIT, open_scratch

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from audiencesync.iterable.client import IterableClient
    from audiencesync.iterable.models import BulkResult
    from audiencesync.store.database import Database

REJECTED_FILE = "rejected.parquet"
_ENDPOINTS = {"subscribe": Endpoint.SUBSCRIBE, "unsubscribe": Endpoint.UNSUBSCRIBE}


@dataclass(frozen=True, slots=True)
class PartRef:
    """The run and run segment a plan is sent for."""

    run_id: int
    part_id: int


ALL_ACTIONS: frozenset[Action] = frozenset({"subscribe", "unsubscribe"})


def write_emails(path: Path, emails: Collection[str]) -> Path:
    """A Parquet file with one ``email`` column (the planner's retry/final input)."""
    return write_values(path, {"email": ("VARCHAR", sorted(emails))})


async def send_batches(
    database: Database,
    client: IterableClient,
    *,
    list_id: int,
    part: PartRef,
    out: Path,
    state: Path,
    now: Callable[[], datetime],
    actions: Collection[Action] = ALL_ACTIONS,
    after_batch: Callable[[EncodedBatch], None] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> frozenset[int]:
    """Send the unacknowledged ``actions`` batches of the plan in ``out``.

    Batches go out several at a time, as many as :class:`~.inflight.InFlightWindow`
    allows (one until the segment's first is acknowledged). Answers are
    checkpointed as they come, each with its rejects, its retries and the run's
    heartbeat; answers that arrive together share one transaction. Then
    ``after_batch`` is called for each. A cancel asked for meanwhile, Ctrl-C
    (``stopping()`` true), a first batch refused as a whole or a batch that
    failed stops new batches from starting; those in flight are answered and
    checkpointed, then the cause is raised (RunCanceledError, Interrupted,
    BatchRefusedError or the failure). Returns the numbers of every
    acknowledged batch of the segment.
    """
    with database.session() as session:
        done = acked_batches(session, part.part_id)
    sender = _Sender(
        client,
        list_id=list_id,
        part=part,
        out=out,
        now=now,
        done=done,
        updates=updates_by_batch(out / PLAN_FILE, state),
        after_batch=after_batch,
        stopping=stopping,
    )
    ahead = _ReadAhead(
        batch
        for batch in read_encoded_batches(out, skip=done)
        if batch.action in actions
    )
    try:
        with database.steady_session() as session:
            await sender.run(session, ahead)
    finally:
        await ahead.aclose()
    return frozenset(done)


@dataclass(frozen=True, slots=True)
class _Answer:
    """Iterable's answer to one batch, with what its checkpoint needs."""

    batch: EncodedBatch
    rejects: list[Reject]
    retries: int
    seconds: float


class _Sender:
    """Keeps a segment's batches in flight and checkpoints their answers."""

    def __init__(
        self,
        client: IterableClient,
        *,
        list_id: int,
        part: PartRef,
        out: Path,
        now: Callable[[], datetime],
        done: set[int],
        updates: dict[int, set[str]],
        after_batch: Callable[[EncodedBatch], None] | None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self._client, self._list_id, self._part = client, list_id, part
        self._out, self._now, self._done, self._updates = out, now, done, updates
        self._after_batch, self._stopping = after_batch, stopping
        self._window = InFlightWindow(client.max_in_flight, probing=not done)
        self._flying: set[asyncio.Task[_Answer]] = set()
        self._action: Action = "subscribe"

    async def run(self, session: Session, batches: _ReadAhead) -> None:
        """Send every batch ``batches`` yields; raise what stopped the sending."""
        stop: BaseException | None = None
        try:
            while True:
                if stop is None:
                    await self._fill(batches)
                if not self._flying:
                    break
                finished, self._flying = await asyncio.wait(
                    self._flying, return_when=asyncio.FIRST_COMPLETED
                )
                answers, failure = _answers(finished)
                stopped = self._record(session, answers)
                stop = stop or failure or stopped
        finally:
            await self._abandon()
        if stop is not None:
            raise stop

    async def _fill(self, batches: _ReadAhead) -> None:
        """Start batches until the window is full or the plan is sent."""
        while len(self._flying) < self._window.size(self._rate()):
            batch = await batches.pull()
            if batch is None:
                return
            self._action = batch.action
            self._flying.add(asyncio.ensure_future(self._send(batch)))

    def _rate(self) -> float | None:
        """Calls per second the current action's limiter allows (None: no pace)."""
        limiter = self._client.limiter(_ENDPOINTS[self._action])
        rate = getattr(limiter, "rate", None)
        return float(rate) if isinstance(rate, int | float) else None

    async def _send(self, batch: EncodedBatch) -> _Answer:
        identities = _PlanIdentities(self._out, batch)
        tally = RequestTally()
        result = await _send(self._client, self._list_id, batch, identities, tally)
        rejects = _rejects(batch.action, identities, result)
        if rejects:
            rejects = _with_keys(rejects, self._out, batch.number)
        return _Answer(batch, rejects, tally.retries, tally.seconds)

    def _record(self, session: Session, answers: list[_Answer]) -> Exception | None:
        """Checkpoint ``answers`` in one transaction; a reason to stop, if any."""
        if not answers:
            return None
        first = not self._done
        with session.begin():
            clean = [self._clean(answer) for answer in answers if not answer.rejects]
            checkpoint_clean(session, self._part.part_id, clean, now=self._now())
            for answer in answers:
                if answer.rejects:
                    self._checkpoint(session, answer)
            canceled = heartbeat(session, self._part.run_id, now=self._now())
        refusal = None
        if first:
            batch = answers[0]
            refusal = whole_refusal(batch.batch, batch.rejects)
        for answer in answers:
            self._done.add(answer.batch.number)
            self._window.answered(answer.seconds)
            if self._after_batch is not None:
                self._after_batch(answer.batch)
        if refusal is not None:
            return refusal
        if canceled:
            return RunCanceledError(self._part.run_id)
        return Interrupted() if self._stopping and self._stopping() else None

    def _clean(self, answer: _Answer) -> CleanBatch:
        batch = answer.batch
        updated = len(self._updates.get(batch.number, ()))
        return CleanBatch(batch.number, batch.action, len(batch.rows),
                          retries=answer.retries, updated=updated)  # fmt: skip

    def _checkpoint(self, session: Session, answer: _Answer) -> None:
        batch = answer.batch
        refused = {reject.identifier for reject in answer.rejects}
        updated = len(self._updates.get(batch.number, set()) - refused)
        checkpoint(
            session,
            self._part.part_id,
            batch.number,
            batch.action,
            len(batch.rows),
            rejects=answer.rejects,
            retries=answer.retries,
            updated=updated,
            now=self._now(),
        )

    async def _abandon(self) -> None:
        """Cancel what is still in flight (only when the sending itself stops)."""
        for task in self._flying:
            task.cancel()
        await asyncio.gather(*self._flying, return_exceptions=True)
        self._flying = set()


def _answers(
    finished: set[asyncio.Task[_Answer]],
) -> tuple[list[_Answer], BaseException | None]:
    """The answers among ``finished`` in batch order, and the first failure."""
    answers: list[_Answer] = []
    failure: BaseException | None = None
    for task in finished:
        error = task.exception()
        if error is None:
            answers.append(task.result())
        elif failure is None:
            failure = error
    answers.sort(key=lambda answer: answer.batch.number)
    return answers, failure


class _PlanIdentities(Sequence[Identity]):
    """The (email, userId) of a batch's rows, read from the plan only if asked.

    The client asks when Iterable refused someone or an error message must be
    scrubbed of the identifiers sent; a clean batch never reads them.
    """

    def __init__(self, out: Path, batch: EncodedBatch) -> None:
        self._out, self._number, self._size = out, batch.number, len(batch.rows)
        self._rows: list[Identity] | None = None

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> Identity: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Identity]: ...
    def __getitem__(self, index: int | slice) -> Identity | Sequence[Identity]:
        if self._rows is None:
            self._rows = batch_identities(self._out, self._number)
        return self._rows[index]


class _ReadAhead:
    """Reads and encodes the next batch in a worker thread while others are sent.

    The overlap is between the waits for Iterable's answers and the reading of
    the next batch from the plan, which the thread does. The iterator is only
    ever advanced by one thread at a time.
    """

    def __init__(self, source: Iterator[EncodedBatch]) -> None:
        self._source = source
        self._next: asyncio.Future[EncodedBatch | None] | None = None
        self._ended = False

    def _pull(self) -> EncodedBatch | None:
        return next(self._source, None)

    async def pull(self) -> EncodedBatch | None:
        """The next batch, or None once the plan is read to its end."""
        if self._ended:
            return None
        future = self._next or asyncio.ensure_future(asyncio.to_thread(self._pull))
        current = await future
        if current is None:
            self._next, self._ended = None, True
            return None
        self._next = asyncio.ensure_future(asyncio.to_thread(self._pull))
        return current

    async def aclose(self) -> None:
        """Let a read in progress finish before the plan file is let go."""
        if self._next is not None:
            with contextlib.suppress(Exception):
                await self._next
            self._next = None


def write_rejected(session: Session, part_id: int, path: Path) -> Path:
    """The identifiers Iterable refused in the segment's acked batches, as Parquet."""
    rows = session.execute(
        select(RunReject.batch, RunReject.identifier).where(
            RunReject.run_segment_id == part_id, RunReject.batch.is_not(None)
        )
    ).all()
    batches, emails = [row[0] for row in rows], [row[1] for row in rows]
    return write_values(
        path, {"batch": ("BIGINT", batches), "email": ("VARCHAR", emails)}
    )


async def _send(
    client: IterableClient,
    list_id: int,
    batch: EncodedBatch,
    identities: Sequence[Identity],
    tally: RequestTally,
) -> BulkResult:
    if batch.action == "subscribe":
        return await client.subscribe_rows(list_id, batch.rows, identities, tally)
    return await client.unsubscribe_rows(list_id, batch.rows, identities, tally)


def _rejects(
    action: Action, identities: Sequence[Identity], result: BulkResult
) -> list[Reject]:
    """Iterable's refusals as rejects keyed by email; one per row at most.

    Of an unsubscribe, "not found" means the user is not on the list any more:
    the removal is done, so it is no reject.
    """
    if not result.rejected:
        return []
    by_user_id = {user_id: email for email, user_id in identities if user_id}
    emails = {email for email, _ in identities}
    found: dict[str, Reject] = {}
    for rejection in result.rejected:
        bucket = RejectBucket(str(rejection.bucket))
        if action == "unsubscribe" and bucket is RejectBucket.NOT_FOUND:
            continue
        if rejection.kind is IdentifierKind.USER_ID:
            email = by_user_id.get(rejection.identifier)
        else:
            email = rejection.identifier.strip().lower()
        if email is None or email not in emails:
            continue  # not one of ours: nothing to attribute it to
        found.setdefault(
            email,
            Reject(
                identifier=email,
                bucket=bucket,
                reason=rejection.reason,
                retryable=bucket not in FINAL_BUCKETS,
            ),
        )
    return list(found.values())


def _with_keys(rejects: list[Reject], out: Path, number: int) -> list[Reject]:
    """The rejects with the profile key of each (read only when there are any)."""
    keys = batch_profile_keys(out, number)
    return [replace(reject, profile_key=keys.get(reject.identifier))
            for reject in rejects]  # fmt: skip


def updates_by_batch(plan: Path, state: Path) -> dict[int, set[str]]:
    """Per subscribe batch, the emails already in the state (updates, not adds).

    A plan says so itself (``in_state``): the sync state is not read again. A
    plan written before it did is joined with the state.
    """
    if not state.exists():
        return {}
    source = read_relation(plan, empty="")
    with small_work() as con:
        head = con.execute(f"SELECT * FROM ({source}) LIMIT 0")  # noqa: S608 -- quoted
        if "in_state" in {column[0] for column in head.description or ()}:
            rows = con.execute(f"""
                SELECT batch, email FROM ({source})
                WHERE action = 'subscribe' AND in_state
            """).fetchall()  # noqa: S608 -- a quoted path
            return _grouped(rows)
    with open_scratch(plan.parent, memory_limit=STATE_MEMORY_LIMIT) as con:
        rows = con.execute(f"""
            SELECT p.batch, p.email FROM ({source}) p
            JOIN ({read_relation(state, empty="")}) s ON s.email = p.email
            WHERE p.action = 'subscribe'
        """).fetchall()  # noqa: S608 -- quoted paths
    return _grouped(rows)


def _grouped(rows: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    updates: dict[int, set[str]] = {}
    for number, email in rows:
        updates.setdefault(int(number), set()).add(str(email))
    return updates
