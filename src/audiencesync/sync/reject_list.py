"""A run's rejects as the rejects CSV and pages list them, segment by segment.

Per segment, the rejects found before sending (invalid in the source, kept as
one stored file: :mod:`audiencesync.sync.reject_files`) come first, in profile
key order, then ``run_rejects`` rows (Iterable's refusals of its batches, and
every reject of runs recorded before the files existed), in recorded order.
Rows carry identifiers: see :mod:`audiencesync.sync.history` on who may read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audiencesync.store.runs import RejectFile, RunReject, RunSegment
from audiencesync.sync.checkpoints import RejectBucket
from audiencesync.sync.history import STREAM_CHUNK, RejectRow
from audiencesync.sync.reject_files import invalid_rows

_INVALID = str(RejectBucket.INVALID_IN_SOURCE)


def rejects(
    session: Session, run_id: int, *, limit: int | None = None, offset: int = 0
) -> Iterator[RejectRow]:
    """Every reject of the run (or one page), segment by segment, streamed in chunks.

    A segment's rejects found before sending come first (in profile key
    order), then those of its batches, in the order they were recorded.
    """
    skip, left = offset, limit
    for source in _reject_sources(session, run_id):
        if left is not None and left <= 0:
            return
        size = source.size(session)
        if skip >= size:
            skip -= size
            continue
        take = None if left is None else min(left, size - skip)
        yield from source.rows(session, offset=skip, limit=take)
        skip = 0
        if left is not None and take is not None:
            left -= take


def count_rejects(session: Session, run_id: int) -> int:
    """How many rejects the run has."""
    return sum(source.size(session) for source in _reject_sources(session, run_id))


@dataclass(frozen=True, slots=True)
class _InvalidFile:
    """A run segment's rejects found before sending, kept as one stored file."""

    segment: str
    digest: str
    count: int

    def size(self, session: Session) -> int:
        del session
        return self.count

    def rows(
        self, session: Session, *, offset: int, limit: int | None
    ) -> Iterator[RejectRow]:
        for key, email, reason in invalid_rows(
            session, self.digest, offset=offset, limit=limit
        ):
            yield RejectRow(self.segment, None, email, _INVALID, reason, False,
                            profile_key=key)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _StoredRejects:
    """A run segment's ``run_rejects`` rows (its batches', and older runs' all)."""

    segment: str
    part_id: int

    def size(self, session: Session) -> int:
        query = select(func.count(RunReject.id)).where(
            RunReject.run_segment_id == self.part_id
        )
        return session.scalar(query) or 0

    def rows(
        self, session: Session, *, offset: int, limit: int | None
    ) -> Iterator[RejectRow]:
        query = (
            select(RunReject)
            .where(RunReject.run_segment_id == self.part_id)
            .order_by(RunReject.id)
            .offset(offset)
            .limit(limit)
            .execution_options(yield_per=STREAM_CHUNK)
        )
        result = session.scalars(query)
        try:
            for row in result:
                yield RejectRow(
                    self.segment, row.batch, row.identifier, row.bucket, row.reason,
                    row.retryable, profile_key=row.profile_key,
                )  # fmt: skip
        finally:
            result.close()  # a consumer that stops early frees the server cursor


def _reject_sources(
    session: Session, run_id: int
) -> list[_InvalidFile | _StoredRejects]:
    """Where the run's rejects are, segment by segment, in the order shown."""
    parts = session.execute(
        select(
            RunSegment.id,
            RunSegment.segment_name,
            RunSegment.invalid_file,
            RejectFile.rows,
        )
        .outerjoin(RejectFile, RejectFile.digest == RunSegment.invalid_file)
        .where(RunSegment.run_id == run_id)
        .order_by(RunSegment.id)
    ).all()
    sources: list[_InvalidFile | _StoredRejects] = []
    for part_id, name, digest, count in parts:
        if digest is not None:
            sources.append(_InvalidFile(name, digest, int(count or 0)))
        sources.append(_StoredRejects(name, part_id))
    return sources
