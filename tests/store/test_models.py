"""Models round trip on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, StatementError

from audiencesync.store import Database, Segment, SegmentEvaluation

PARIS_SUMMER = timezone(timedelta(hours=2))


def new_segment(name: str = "VIP", **fields: object) -> Segment:
    """A valid segment; ``fields`` override its columns."""
    values: dict[str, object] = {
        "name": name,
        "name_key": name.casefold(),
        "kind": "where",
        "definition": {"where": "lifetime_value > 1000"},
    }
    return Segment(**(values | fields))


def evaluation(at: datetime, count: int | None = 10) -> SegmentEvaluation:
    """An evaluation at ``at``."""
    return SegmentEvaluation(
        evaluated_at=at, member_count=count, duration_ms=5, engine="duckdb"
    )


def test_datetimes_come_back_utc_aware_and_equal(database: Database) -> None:
    """A datetime stored with any offset is read back equal, in UTC."""
    stored = datetime(2025, 7, 1, 14, 30, 15, 123456, tzinfo=PARIS_SUMMER)
    with database.session() as session:
        session.add(new_segment(created_at=stored, updated_at=stored))
    with database.session() as session:
        created_at = session.scalars(select(Segment.created_at)).one()
    assert created_at == stored
    assert created_at.tzinfo == UTC


def test_naive_datetimes_are_refused(database: Database) -> None:
    """Storing a naive datetime is a programming error, not a silent guess."""
    naive = datetime(2025, 7, 1, 14, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime"), database.session() as s:
        s.add(new_segment(created_at=naive))


def test_timestamps_default_to_now(database: Database) -> None:
    """created_at and updated_at are filled in when not given."""
    before = datetime.now(UTC)
    with database.session() as session:
        session.add(new_segment())
    with database.session() as session:
        segment = session.scalars(select(Segment)).one()
    assert before <= segment.created_at <= datetime.now(UTC)
    assert segment.updated_at >= segment.created_at


def test_definition_round_trips_as_json(database: Database) -> None:
    """Nested rule definitions come back as the same structure."""
    rules = {"all": [{"field": "country", "op": "in", "value": ["FR", "DE"]}]}
    with database.session() as session:
        session.add(new_segment(kind="rules", definition=rules))
    with database.session() as session:
        assert session.scalars(select(Segment.definition)).one() == rules


def test_names_differing_only_in_case_clash(database: Database) -> None:
    """``VIP`` and ``vip`` share a name_key, so the second one is refused."""
    with database.session() as session:
        session.add(new_segment("VIP"))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(new_segment("vip"))


def test_unknown_kind_is_refused(database: Database) -> None:
    """Only ``rules`` and ``where`` segments can be stored."""
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(new_segment(kind="python"))


def test_deleting_a_segment_deletes_its_evaluations(database: Database) -> None:
    """The database cascades the delete, even without the ORM loading them."""
    now = datetime.now(UTC)
    with database.session() as session:
        session.add(new_segment(evaluations=[evaluation(now), evaluation(now)]))
    with database.session() as session:
        session.execute(delete(Segment))
    with database.session() as session:
        count = session.scalar(select(func.count()).select_from(SegmentEvaluation))
    assert count == 0


def test_evaluations_are_ordered_by_time(database: Database) -> None:
    """A segment's evaluations come oldest first, whatever the insert order."""
    now = datetime.now(UTC)
    later, earlier = evaluation(now, 2), evaluation(now - timedelta(hours=1), 1)
    with database.session() as session:
        session.add(new_segment(evaluations=[later, earlier]))
    with database.session() as session:
        segment = session.scalars(select(Segment)).one()
        assert [e.member_count for e in segment.evaluations] == [1, 2]


def test_a_failed_evaluation_has_no_count(database: Database) -> None:
    """member_count is null and the error is kept when an evaluation failed."""
    failed = evaluation(datetime.now(UTC), None)
    failed.error = "column lifetime_value does not exist"
    with database.session() as session:
        session.add(new_segment(evaluations=[failed]))
    with database.session() as session:
        stored = session.scalars(select(SegmentEvaluation)).one()
    assert (stored.member_count, stored.error) == (None, failed.error)
