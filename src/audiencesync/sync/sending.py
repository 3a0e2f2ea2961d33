"""Send a persisted plan to one Iterable list, checkpointing every acked batch.

Each batch is sent, then its answer is stored in one transaction: the batch is
marked acknowledged together with its rejects and counters (see
:func:`audiencesync.sync.checkpoints.checkpoint`), and the run's heart beats.
Only batches the plan holds and the run segment has not acknowledged are sent.
Identifiers stay in the plan, the database and the rejected file; none is
logged.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.models import IdentifierKind
from audiencesync.store.runs import RunReject
from audiencesync.sync.batches import (
    Action,
    DataFields,
    PlannedBatch,
    read_plan_batches,
)
from audiencesync.sync.checkpoints import (
    FINAL_BUCKETS,
    Reject,
    RejectBucket,
    acked_batches,
    add_rejects,
    checkpoint,
)
from audiencesync.sync.files import read_relation
from audiencesync.sync.outcomes import RunCanceledError
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE
from audiencesync.sync.records import heartbeat

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from audiencesync.iterable.client import IterableClient
    from audiencesync.iterable.models import BulkResult
    from audiencesync.store.database import Database

REJECTED_FILE = "rejected.parquet"
INVALID_CHUNK = 1000  # invalid-in-source rows stored per insert
_ENDPOINTS = {"subscribe": Endpoint.SUBSCRIBE, "unsubscribe": Endpoint.UNSUBSCRIBE}


@dataclass(frozen=True, slots=True)
class PartRef:
    """The run and run segment a plan is sent for."""

    run_id: int
    part_id: int


ALL_ACTIONS: frozenset[Action] = frozenset({"subscribe", "unsubscribe"})


def write_emails(path: Path, emails: Collection[str]) -> Path:
    """A Parquet file with one ``email`` column (the planner's retry/final input)."""
    pq.write_table(pa.table({"email": pa.array(sorted(emails), pa.string())}), path)
    return path


def invalid_rejects(session: Session, run_segment_id: int, out: Path) -> int:
    """Store the plan's invalid-in-source rows as rejects (batch None); their count."""
    stored = 0
    source = pq.ParquetFile(out / INVALID_FILE)
    for chunk in source.iter_batches(batch_size=INVALID_CHUNK):
        keys, emails, reasons = (chunk.column(i).to_pylist() for i in range(3))
        rejects = [
            Reject(
                identifier=email or str(key),
                bucket=RejectBucket.INVALID_IN_SOURCE,
                reason=str(reason),
                retryable=False,
            )
            for key, email, reason in zip(keys, emails, reasons, strict=True)
        ]
        add_rejects(session, run_segment_id, rejects, batch=None)
        stored += len(rejects)
    return stored


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
    after_batch: Callable[[PlannedBatch], None] | None = None,
) -> frozenset[int]:
    """Send the unacknowledged ``actions`` batches of the plan in ``out``.

    Each acknowledged batch is checkpointed with its rejects, its retries and the
    run's heartbeat in one transaction, then ``after_batch`` is called. A cancel
    asked for meanwhile raises RunCanceledError right after that checkpoint.
    Returns the numbers of every acknowledged batch of the segment.
    """
    with database.session() as session:
        done = acked_batches(session, part.part_id)
    updates = _updates_by_batch(out / PLAN_FILE, state)
    for batch in read_plan_batches(out, skip=done):
        if batch.action not in actions:
            continue
        stats = client.stats[_ENDPOINTS[batch.action]]
        before = stats.retries
        result = await _send(client, list_id, batch)
        rejects = _rejects(batch, result)
        refused = {reject.identifier for reject in rejects}
        updated = len(updates.get(batch.number, set()) - refused)
        with database.session() as session:
            checkpoint(
                session,
                part.part_id,
                batch.number,
                batch.action,
                len(batch.rows),
                rejects=rejects,
                retries=stats.retries - before,
                updated=updated,
                now=now(),
            )
            canceled = heartbeat(session, part.run_id, now=now())
        done.add(batch.number)
        if after_batch is not None:
            after_batch(batch)
        if canceled:
            raise RunCanceledError(part.run_id)
    return frozenset(done)


def write_rejected(session: Session, part_id: int, path: Path) -> Path:
    """The identifiers Iterable refused in the segment's acked batches, as Parquet."""
    rows = session.execute(
        select(RunReject.batch, RunReject.identifier).where(
            RunReject.run_segment_id == part_id, RunReject.batch.is_not(None)
        )
    ).all()
    pq.write_table(
        pa.table(
            {
                "batch": pa.array([row[0] for row in rows], pa.int64()),
                "email": pa.array([row[1] for row in rows], pa.string()),
            }
        ),
        path,
    )
    return path


async def _send(
    client: IterableClient, list_id: int, batch: PlannedBatch
) -> BulkResult:
    if batch.action == "subscribe":
        identities = [(email, user_id) for email, user_id, _ in batch.rows]
        rows = [_subscribe_row(*row) for row in batch.rows]
        return await client.subscribe_rows(list_id, rows, identities)
    leavers = [(email, None) for email, _, _ in batch.rows]  # by email alone
    rows = [orjson.dumps({"email": email}) for email, _ in leavers]
    return await client.unsubscribe_rows(list_id, rows, leavers)


def _subscribe_row(email: str, user_id: str | None, fields: DataFields | None) -> bytes:
    """One planned member as a subscribe row (the same JSON the client would make)."""
    row: dict[str, object] = {"email": email}
    if user_id is not None:
        row["userId"] = user_id
    if fields:
        row["dataFields"] = fields
    return orjson.dumps(row)


def _rejects(batch: PlannedBatch, result: BulkResult) -> list[Reject]:
    """Iterable's refusals as rejects keyed by email; one per row at most.

    Of an unsubscribe, "not found" means the user is not on the list any more:
    the removal is done, so it is no reject.
    """
    by_user_id = {user_id: email for email, user_id, _ in batch.rows if user_id}
    emails = {email for email, _, _ in batch.rows}
    found: dict[str, Reject] = {}
    for rejection in result.rejected:
        bucket = RejectBucket(str(rejection.bucket))
        if batch.action == "unsubscribe" and bucket is RejectBucket.NOT_FOUND:
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


def _updates_by_batch(plan: Path, state: Path) -> dict[int, set[str]]:
    """Per subscribe batch, the emails already in the state (updates, not adds)."""
    if not state.exists():
        return {}
    with duckdb.connect() as con:
        rows = con.execute(f"""
            SELECT p.batch, p.email FROM ({read_relation(plan, empty="")}) p
            JOIN ({read_relation(state, empty="")}) s ON s.email = p.email
            WHERE p.action = 'subscribe'
        """).fetchall()  # noqa: S608 -- quoted paths
    updates: dict[int, set[str]] = {}
    for number, email in rows:
        updates.setdefault(int(number), set()).add(str(email))
    return updates
