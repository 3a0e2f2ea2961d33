"""Rejects found before sending (invalid in the source), kept once per content.

A messy source has tens of thousands of profiles with an empty, malformed or
duplicate email, and nearly the same ones every run. Each plan writes them to
its ``invalid.parquet``; the run segment keeps that file's bytes in the
``reject_files`` table, under their SHA-256, so consecutive runs that found the
same rejects share one row, and storing them costs one insert, not one per
profile. :func:`invalid_rows` reads them back for the rejects CSV and pages.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from audiencesync.core.parquet_facts import parquet_rows
from audiencesync.store.runs import RejectFile, RunSegment

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

READ_ROWS = 10_000  # rows decoded at a time when the file is read back

InvalidRow = tuple[str | None, str, str]
"""(profile key, email as the profile holds it, reason)."""


def keep_invalid(session: Session, run_segment_id: int, path: Path) -> int:
    """Make the plan's invalid rows at ``path`` the run segment's; their count."""
    rows = parquet_rows(path)
    part = session.get_one(RunSegment, run_segment_id)
    if rows == 0:
        part.invalid_file = None
        return 0
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if session.get(RejectFile, digest) is None:
        try:
            with session.begin_nested():
                session.add(RejectFile(digest=digest, rows=rows, data=data))
        except IntegrityError:
            pass  # another run stored the same rejects meanwhile: share them
    part.invalid_file = digest
    return rows


def invalid_rows(
    session: Session, digest: str, *, offset: int = 0, limit: int | None = None
) -> Iterator[InvalidRow]:
    """The rows of one stored file, from ``offset``, at most ``limit`` of them."""
    data = session.scalar(select(RejectFile.data).where(RejectFile.digest == digest))
    if data is None:
        return
    import pyarrow.parquet as pq  # noqa: PLC0415 - only to show stored rejects

    source = pq.ParquetFile(io.BytesIO(data))
    skip, left = offset, limit
    for chunk in source.iter_batches(batch_size=READ_ROWS):
        if skip >= chunk.num_rows:
            skip -= chunk.num_rows
            continue
        part = chunk.slice(skip, None if left is None else left)
        skip = 0
        keys, emails, reasons = (part.column(i).to_pylist() for i in range(3))
        for key, email, reason in zip(keys, emails, reasons, strict=True):
            yield (None if key is None else str(key)), email or "", str(reason)
        if left is not None:
            left -= part.num_rows
            if left <= 0:
                return


def drop_unused(session: Session) -> int:
    """Delete the files no run segment names any more; how many."""
    used = select(RunSegment.invalid_file).where(RunSegment.invalid_file.is_not(None))
    unused = list(
        session.scalars(select(RejectFile.digest).where(RejectFile.digest.not_in(used)))
    )
    if unused:
        session.execute(delete(RejectFile).where(RejectFile.digest.in_(unused)))
    return len(unused)
