"""Run summaries, the rejects report, and bindings with their lists."""

from __future__ import annotations

from sqlalchemy import select

from audiencesync.store import Binding
from audiencesync.sync.bindings import add_final, ensure_binding, set_list
from audiencesync.sync.checkpoints import (
    Reject,
    checkpoint,
    record_drift,
    record_list,
)
from audiencesync.sync.history import list_runs, run_info
from audiencesync.sync.reject_list import rejects
from audiencesync.sync.statuses import RunStatus
from tests.sync.runs.conftest import Place

BAD = Reject("bad@example.com", "invalid", "invalidEmails")


def test_run_info_shows_each_segment(place: Place) -> None:
    """A run's summary lists its segments with list, counts and drift."""
    run = place.new_run(segments=2)
    with place.database.session() as session:
        record_list(session, run.segment, list_id=77, action="created")
        record_drift(session, run.segment, expected=10, actual=9)
        checkpoint(session, run.segment, 0, "subscribe", 2, rejects=[BAD])
    with place.database.session() as session:
        info = run_info(session, run.id)
    first = info.segments[0]
    assert (info.export_name, info.status, len(info.segments)) == (
        "Newsletter",
        RunStatus.QUEUED,
        2,
    )
    assert (first.list_id, first.list_action, first.drift) == (77, "created", -1)
    assert (first.added, first.rejected, info.counts["rejected"]) == (
        1,
        {"invalid": 1},
        1,
    )


def test_runs_are_listed_newest_first(place: Place) -> None:
    """list_runs returns the latest runs first, with their segments."""
    ids = [place.new_run().id for _ in range(3)]
    with place.database.session() as session:
        listed = list_runs(session, export_id=place.export_id, limit=2)
    assert [info.id for info in listed] == ids[:0:-1]
    assert all(len(info.segments) == 1 for info in listed)


def test_rejects_stream_every_row_of_the_run(place: Place) -> None:
    """The report gives each reject with its segment, batch and bucket."""
    run = place.new_run(segments=2)
    gone = Reject("gone@example.com", "forgotten", "forgottenEmails", False)
    with place.database.session() as session:
        checkpoint(session, run.segments[0], 0, "subscribe", 1, rejects=[BAD])
        checkpoint(session, run.segments[1], 3, "subscribe", 1, rejects=[gone])
    with place.database.session() as session:
        rows = [
            (row.segment_name, row.batch, row.identifier, row.bucket, row.retryable)
            for row in rejects(session, run.id)
        ]
    first, second = (f"Segment {segment_id}" for segment_id in place.segment_ids)
    assert rows == [
        (first, 0, "bad@example.com", "invalid", True),
        (second, 3, "gone@example.com", "forgotten", False),
    ]


def test_a_binding_is_made_once(place: Place) -> None:
    """ensure_binding returns the same binding for the same pair."""
    segment_id = place.segment_ids[0]
    with place.database.session() as session:
        first = ensure_binding(session, place.export_id, segment_id).id
    with place.database.session() as session:
        again = ensure_binding(session, place.export_id, segment_id).id
    assert first == again


def test_a_binding_keeps_its_list(place: Place) -> None:
    """set_list stores the list id and the name it was created with."""
    with place.database.session() as session:
        binding = ensure_binding(session, place.export_id, place.segment_ids[0])
        set_list(binding, list_id=4242, list_name="VIP")
    with place.database.session() as session:
        stored = session.scalars(select(Binding)).one()
    assert (stored.list_id, stored.list_name) == (4242, "VIP")


def test_final_rejects_are_never_duplicated(place: Place) -> None:
    """add_final skips identifiers already final and repeated in its input."""
    run = place.new_run()
    gone = Reject("gone@example.com", "forgotten", "", False)
    other = Reject("other@example.com", "forgotten", "", False)
    with place.database.session() as session:
        binding = ensure_binding(session, place.export_id, place.segment_ids[0])
        assert add_final(session, binding.id, [gone, gone], run_id=run.id) == 1
    with place.database.session() as session:
        assert add_final(session, binding.id, [gone, other], run_id=run.id) == 1
