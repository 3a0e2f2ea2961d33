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
import pyarrow as pa
import pyarrow.parquet as pq

from audiencesync.iterable.models import IdentifierKind, Subscriber
from audiencesync.sync.batches import PlannedBatch, read_plan_batches
from audiencesync.sync.checkpoints import (
    FINAL_BUCKETS,
    Reject,
    RejectBucket,
    acked_batches,
    add_rejects,
    checkpoint,
)
from audiencesync.sync.files import read_relation
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


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What sending a plan did: the acked batches and where the rejected rows are."""

    acked: frozenset[int]
    rejected: Path
    any_rejects: bool


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
    run_id: int,
    run_segment_id: int,
    out: Path,
    state: Path,
    now: Callable[[], datetime],
) -> SendOutcome:
    """Send the plan in ``out`` to ``list_id``; checkpoint each acknowledged batch."""
    with database.session() as session:
        done = acked_batches(session, run_segment_id)
    updates = _updates_by_batch(out / PLAN_FILE, state)
    rejected: list[tuple[int, str]] = []
    for batch in read_plan_batches(out, skip=done):
        result = await _send(client, list_id, batch)
        rejects = _rejects(batch, result)
        refused = {reject.identifier for reject in rejects}
        updated = len(updates.get(batch.number, set()) - refused)
        with database.session() as session:
            checkpoint(
                session,
                run_segment_id,
                batch.number,
                batch.action,
                len(batch.rows),
                rejects=rejects,
                updated=updated,
                now=now(),
            )
            heartbeat(session, run_id, now=now())
        rejected.extend((batch.number, identifier) for identifier in sorted(refused))
        done.add(batch.number)
    path = out / REJECTED_FILE
    pq.write_table(
        pa.table(
            {
                "batch": pa.array([b for b, _ in rejected], pa.int64()),
                "email": pa.array([e for _, e in rejected], pa.string()),
            }
        ),
        path,
    )
    return SendOutcome(frozenset(done), path, any_rejects=bool(rejected))


async def _send(
    client: IterableClient, list_id: int, batch: PlannedBatch
) -> BulkResult:
    if batch.action == "subscribe":
        subscribers = [
            Subscriber(email=email, user_id=user_id, data_fields=fields)
            for email, user_id, fields in batch.rows
        ]
        return await client.subscribe(list_id, subscribers)
    leavers = [Subscriber(email=email) for email, _, _ in batch.rows]
    return await client.unsubscribe(list_id, leavers, channel_unsubscribe=False)


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
