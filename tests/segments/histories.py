"""Segments with counts histories written straight into the control plane, for tests.

Shared by the service's history tests and the segments pages' tests: both need
many segments with long histories fast, and both count the SQL statements a
read runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from audiencesync.store.database import Database
from audiencesync.store.models import Segment, SegmentEvaluation

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def seed_histories(
    database: Database, counts: Mapping[str, Sequence[int | None]]
) -> None:
    """Segments named as the keys, each evaluated an hour apart from START with
    these counts, oldest first; None is an evaluation that failed."""
    with database.session() as session:
        for name, history in counts.items():
            segment = Segment(
                name=name, name_key=name.casefold(), kind="where",
                definition={"kind": "where", "where": "country = 'FR'"},
                created_at=START, updated_at=START,
            )  # fmt: skip
            session.add(segment)
            session.flush()
            session.add_all(
                SegmentEvaluation(
                    segment_id=segment.id,
                    evaluated_at=START + timedelta(hours=hour),
                    member_count=count,
                    duration_ms=1,
                    engine="duckdb",
                    error=None if count is not None else "failed",
                )
                for hour, count in enumerate(history)
            )


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements run on ``database`` in the block."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
