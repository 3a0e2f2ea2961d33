"""A run's life: queued, started, beating, canceled, interrupted, finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.sync import records
from audiencesync.sync.checkpoints import PlanSummary, checkpoint, record_plan
from audiencesync.sync.history import run_info
from audiencesync.sync.statuses import RunStatus, StatusTransitionError
from tests.sync.runs.conftest import Place

T0 = datetime(2026, 3, 1, 10, 2, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def status_of(place: Place, run_id: int) -> RunStatus:
    """The run's status, read in a fresh session."""
    with place.database.session() as session:
        return RunStatus.from_code(records.get_run(session, run_id).status)


def started(place: Place, *, at: datetime = T0) -> int:
    """The id of a new run, started at ``at``."""
    run = place.new_run()
    with place.database.session() as session:
        records.start(session, run.id, now=at)
    return run.id


def test_a_new_run_is_queued(place: Place) -> None:
    """create_run records a Queued run with no counts and no start."""
    run = place.new_run()
    with place.database.session() as session:
        info = run_info(session, run.id)
    assert (info.status, info.started_at, info.trigger) == (
        RunStatus.QUEUED,
        None,
        "manual",
    )


def test_start_sets_running_and_the_first_heartbeat(place: Place) -> None:
    """A started run is Running, with started_at and heartbeat_at at now."""
    run_id = started(place)
    with place.database.session() as session:
        run = records.get_run(session, run_id)
        assert (run.status, run.started_at, run.heartbeat_at) == ("running", T0, T0)


def test_a_running_run_cannot_start_again(place: Place) -> None:
    """Starting twice is an illegal move naming the run."""
    run_id = started(place)
    with (
        pytest.raises(StatusTransitionError, match=f"Run {run_id} that is Running"),
        place.database.session() as session,
    ):
        records.start(session, run_id)


def test_unknown_runs_are_not_found(place: Place) -> None:
    """A run id that does not exist gives NotFoundError with the way to list runs."""
    with (
        pytest.raises(NotFoundError, match="Run 999 does not exist"),
        place.database.session() as session,
    ):
        records.get_run(session, 999)


def test_heartbeat_records_the_time(place: Place) -> None:
    """heartbeat moves heartbeat_at and answers that nobody asked to cancel."""
    run_id = started(place)
    with place.database.session() as session:
        assert records.heartbeat(session, run_id, now=T0 + LEASE) is False
    with place.database.session() as session:
        assert records.get_run(session, run_id).heartbeat_at == T0 + LEASE


def test_heartbeat_of_a_run_no_longer_running_tells_it_to_stop(place: Place) -> None:
    """A runner whose run was marked Interrupted learns it must stop."""
    run_id = started(place)
    with place.database.session() as session:
        records.find_interrupted(session, stale_after=LEASE, now=T0 + 2 * LEASE)
    with (
        pytest.raises(ConflictError, match="its runner must stop"),
        place.database.session() as session,
    ):
        records.heartbeat(session, run_id)


def test_cancel_of_a_running_run_sets_the_flag(place: Place) -> None:
    """The run keeps Running; its next heartbeat answers True."""
    run_id = started(place)
    with place.database.session() as session:
        assert records.request_cancel(session, run_id) is RunStatus.RUNNING
    with place.database.session() as session:
        assert records.is_cancel_requested(session, run_id)
        assert records.heartbeat(session, run_id) is True


def test_cancel_of_a_queued_run_cancels_it_at_once(place: Place) -> None:
    """Nothing runs, so the run ends Canceled right away."""
    run = place.new_run()
    with place.database.session() as session:
        assert records.request_cancel(session, run.id) is RunStatus.CANCELED
    assert status_of(place, run.id) is RunStatus.CANCELED


def test_cancel_of_a_finished_run_is_refused(place: Place) -> None:
    """A run that is over cannot be canceled."""
    run_id = started(place)
    with place.database.session() as session:
        records.finish(session, run_id, RunStatus.SUCCEEDED)
    with (
        pytest.raises(ConflictError, match="already over \\(Succeeded\\)"),
        place.database.session() as session,
    ):
        records.request_cancel(session, run_id)


def test_silent_runs_become_interrupted(place: Place) -> None:
    """A Running run whose heartbeat is older than the lease is Interrupted."""
    stale, fresh = started(place, at=T0), started(place, at=T0 + LEASE)
    with place.database.session() as session:
        found = records.find_interrupted(
            session, stale_after=LEASE, now=T0 + LEASE + timedelta(seconds=1)
        )
    assert found == [stale]
    assert status_of(place, stale) is RunStatus.INTERRUPTED
    assert status_of(place, fresh) is RunStatus.RUNNING


def test_an_interrupted_run_says_how_to_resume(place: Place) -> None:
    """The interrupted run's error names the last heartbeat and the command."""
    run_id = started(place)
    with place.database.session() as session:
        records.find_interrupted(session, stale_after=LEASE, now=T0 + LEASE * 2)
        error = records.get_run(session, run_id).error
    assert error == (
        "The process running it stopped (last heartbeat 2026-03-01 10:02 UTC)."
        f" Resume run {run_id}, or run the export again: its next run continues it."
    )


def test_a_resumed_run_keeps_its_start(place: Place) -> None:
    """Resuming moves Interrupted back to Running and keeps started_at."""
    run_id = started(place)
    later = T0 + LEASE * 3
    with place.database.session() as session:
        records.find_interrupted(session, stale_after=LEASE, now=later)
    with place.database.session() as session:
        run = records.start(session, run_id, now=later)
        assert (run.status, run.started_at, run.heartbeat_at) == ("running", T0, later)


def test_finish_stores_the_totals(place: Place) -> None:
    """finish sums the segments' counts into the run and stamps finished_at."""
    run = place.new_run(segments=2)
    with place.database.session() as session:
        records.start(session, run.id, now=T0)
        for part in run.segments:
            record_plan(session, part, PlanSummary(add=3, batches=1))
            checkpoint(session, part, 0, "subscribe", 3, updated=1)
    with place.database.session() as session:
        records.finish(session, run.id, RunStatus.SUCCEEDED, now=T0 + LEASE)
    with place.database.session() as session:
        info = run_info(session, run.id)
    assert (info.counts["planned_add"], info.counts["added"]) == (6, 4)
    assert (info.counts["updated"], info.counts["batches_acked"]) == (2, 2)
    assert (info.finished_at, info.duration) == (T0 + LEASE, LEASE)
