"""Checkpoints: a batch is acknowledged together with its rejects, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from audiencesync.store import Database, FinalReject, RunBatch, RunReject, RunSegment
from audiencesync.sync import checkpoints
from audiencesync.sync.bindings import final_identifiers
from audiencesync.sync.checkpoints import (
    CleanBatch,
    PlanSummary,
    Reject,
    acked_batches,
    add_rejects,
    checkpoint,
    checkpoint_clean,
    record_plan,
)
from tests.sync.runs.conftest import Place

BAD = Reject("bad@example.com", "invalid", "invalidEmails", retryable=True)
GONE = Reject("gone@example.com", "forgotten", "forgottenEmails", retryable=False)


def count(database: Database, model: type[object]) -> int:
    """How many rows the table of ``model`` holds."""
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def segment(database: Database, run_segment_id: int) -> RunSegment:
    """The run segment, read in a fresh session."""
    with database.session() as session:
        part = session.get(RunSegment, run_segment_id)
        assert part is not None
        return part


def test_a_checkpoint_acks_the_batch_with_its_rejects(place: Place) -> None:
    """The batch row, its rejects and the counters land together."""
    part = place.new_run().segment
    with place.database.session() as session:
        assert checkpoint(session, part, 0, "subscribe", 10, rejects=[BAD], updated=2)
    stored = segment(place.database, part)
    assert (stored.added, stored.updated, stored.batches_acked) == (7, 2, 1)
    assert stored.rejected == {"invalid": 1}
    assert count(place.database, RunReject) == 1


def test_an_unsubscribe_batch_counts_removals(place: Place) -> None:
    """Accepted rows of an unsubscribe batch are removed members."""
    part = place.new_run().segment
    with place.database.session() as session:
        checkpoint(session, part, 0, "unsubscribe", 5, retries=2)
    stored = segment(place.database, part)
    assert (stored.removed, stored.added, stored.retries) == (5, 0, 2)


def test_a_second_checkpoint_of_a_batch_changes_nothing(place: Place) -> None:
    """A resumed run re-acking a batch neither duplicates rejects nor counts."""
    part = place.new_run().segment
    for expected in (True, False):
        with place.database.session() as session:
            acked = checkpoint(session, part, 0, "subscribe", 3, rejects=[BAD, GONE])
        assert acked is expected
    stored = segment(place.database, part)
    assert (stored.added, stored.batches_acked) == (1, 1)
    assert count(place.database, RunReject) == 2
    assert count(place.database, FinalReject) == 1


def test_a_failure_inside_the_checkpoint_leaves_nothing(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the rows were written but before commit loses them all."""
    part = place.new_run().segment

    def crash(*_args: object, **_kwargs: object) -> int:
        msg = "killed"
        raise RuntimeError(msg)

    monkeypatch.setattr(checkpoints, "add_final", crash)
    with pytest.raises(RuntimeError), place.database.session() as session:
        checkpoint(session, part, 0, "subscribe", 3, rejects=[BAD])
    assert count(place.database, RunBatch) == 0
    assert count(place.database, RunReject) == 0
    assert segment(place.database, part).added == 0


def test_clean_batches_are_acked_together_with_their_counts(place: Place) -> None:
    """Batches taken whole, checkpointed at once, count as one by one would."""
    part = place.new_run().segment
    batches = [
        CleanBatch(1, "subscribe", 10, retries=1, updated=4),
        CleanBatch(2, "subscribe", 7),
        CleanBatch(3, "unsubscribe", 5, retries=2),
    ]
    with place.database.session() as session:
        checkpoint_clean(session, part, batches)
    stored = segment(place.database, part)
    assert (stored.added, stored.updated, stored.removed) == (13, 4, 5)
    assert (stored.retries, stored.batches_acked) == (3, 3)
    with place.database.session() as session:
        assert acked_batches(session, part) == {1, 2, 3}
        attempts = session.scalars(select(RunBatch.attempts).order_by(RunBatch.batch))
        assert list(attempts) == [2, 1, 3]


def test_clean_batches_acked_before_are_not_counted_again(place: Place) -> None:
    """A batch already checkpointed keeps its counts; only the new one adds."""
    part = place.new_run().segment
    with place.database.session() as session:
        checkpoint(session, part, 1, "subscribe", 3, rejects=[BAD])
    again, new = CleanBatch(1, "subscribe", 3), CleanBatch(2, "subscribe", 4)
    with place.database.session() as session:
        checkpoint_clean(session, part, [again, new])
    stored = segment(place.database, part)
    assert (stored.added, stored.batches_acked) == (2 + 4, 2)
    assert count(place.database, RunReject) == 1


def test_clean_batches_with_more_updates_than_rows_are_refused(place: Place) -> None:
    """Updates are accepted rows: never more than the batch holds."""
    part = place.new_run().segment
    with pytest.raises(ValueError, match="updates"), place.database.session() as s:
        checkpoint_clean(s, part, [CleanBatch(1, "subscribe", 3, updated=4)])
    assert count(place.database, RunBatch) == 0


def test_acked_batches_survive_a_restart(place: Place, database_url: str) -> None:
    """A new process (a new Database) sees exactly the acknowledged batches."""
    part = place.new_run().segment
    for batch in (0, 2):
        with place.database.session() as session:
            checkpoint(session, part, batch, "subscribe", 1)
    place.database.close()
    with Database.open(database_url) as reopened, reopened.session() as session:
        assert acked_batches(session, part) == {0, 2}


@pytest.mark.parametrize(
    ("size", "rejects", "updated"),
    [(1, [BAD, GONE], 0), (3, [BAD], 3), (3, [], -1)],
    ids=["more-rejects-than-rows", "more-updates-than-accepted", "negative"],
)
def test_counts_that_do_not_add_up_are_refused(
    place: Place, size: int, rejects: list[Reject], updated: int
) -> None:
    """Accepted plus rejected must be the batch size."""
    part = place.new_run().segment
    with pytest.raises(ValueError, match="Batch 0"), place.database.session() as s:
        checkpoint(s, part, 0, "subscribe", size, rejects=rejects, updated=updated)


def test_forgotten_identifiers_become_final_once(place: Place) -> None:
    """A forgotten identifier rejected by two runs is one final reject."""
    for _ in range(2):
        part = place.new_run().segment
        with place.database.session() as session:
            checkpoint(session, part, 0, "subscribe", 2, rejects=[GONE, BAD])
    with place.database.session() as session:
        binding_id = session.get_one(RunSegment, part).binding_id
        assert binding_id is not None
        assert final_identifiers(session, binding_id) == {"gone@example.com"}
    assert count(place.database, FinalReject) == 1


def test_the_plan_and_source_rejects_are_recorded(place: Place) -> None:
    """record_plan keeps the counts; rejects caught before sending have no batch."""
    part = place.new_run().segment
    summary = PlanSummary(add=5, remove=2, unchanged=9, invalid_in_source=1, batches=2)
    with place.database.session() as session:
        record_plan(session, part, summary, plan_path="plans/1.parquet")
        add_rejects(session, part, [Reject("", "invalid_in_source", "empty")])
    stored = segment(place.database, part)
    assert (stored.planned_add, stored.planned_remove, stored.unchanged) == (5, 2, 9)
    assert (stored.batches_total, stored.plan_path) == (2, "plans/1.parquet")
    with place.database.session() as session:
        assert session.scalars(select(RunReject.batch)).all() == [None]


def test_a_reject_never_shows_its_identifier() -> None:
    """repr(Reject) leaves the email out, so it cannot reach a log line."""
    assert "bad@example.com" not in repr(BAD)
