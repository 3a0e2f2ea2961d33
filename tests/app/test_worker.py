"""The run worker: executes queued runs, one per export at a time, and stops cleanly."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from audiencesync.app.views.runs import RunView
from audiencesync.app.worker import RunWorker
from audiencesync.cli import app
from audiencesync.store.destinations import Export
from audiencesync.sync.lock import acquire, release
from audiencesync.sync.records import take_queued_action
from tests.app.stage import EXPORT, FRANCE, Stage, interrupted_run

pytestmark = pytest.mark.socket


def test_a_poll_executes_the_waiting_run(staged: Stage) -> None:
    """poll_once() runs the queued run as its requester; the list is the segment."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)

    (ended,) = RunWorker(staged.context).poll_once()

    assert (ended.id, ended.requested_by) == (queued.id, "contributor")
    assert staged.members(ended) == FRANCE


def test_one_run_per_export_per_poll(staged: Stage) -> None:
    """Two queued runs of one export: the older first, the newer at the next poll."""
    with staged.workspace() as workspace:
        first = workspace.runs.request(EXPORT)
        second = workspace.runs.request(EXPORT)
    worker = RunWorker(staged.context)

    assert [run.id for run in worker.poll_once()] == [first.id]
    assert [run.id for run in worker.poll_once()] == [second.id]
    assert worker.poll_once() == []


def test_the_background_thread_runs_queued_runs_and_stops(staged: Stage) -> None:
    """start() polls in a thread; stop() ends it once the run in progress ended."""
    worker = RunWorker(staged.context, poll_seconds=0.05)
    worker.start()
    try:
        with staged.workspace() as workspace:
            queued = workspace.runs.request(EXPORT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with staged.workspace() as workspace:
                status = workspace.runs.show(queued.id).status
            if status not in {"Queued", "Running"}:
                break
            time.sleep(0.05)
    finally:
        worker.stop(timeout=60)

    assert status.startswith("Succeeded")
    assert not worker.is_running


def test_a_refused_run_does_not_stop_the_worker(staged: Stage) -> None:
    """A requester removed meanwhile: that run ends Failed; the worker goes on."""
    with staged.workspace("contributor") as workspace:
        refused = workspace.runs.request(EXPORT)
    with staged.workspace() as workspace:
        workspace.users.remove("contributor")

    worker = RunWorker(staged.context)
    (ended,) = worker.poll_once()

    assert (ended.id, ended.status) == (refused.id, "Failed (permanent)")
    assert worker.poll_once() == []


def test_a_queued_resume_waits_while_another_run_holds_the_export(
    staged: Stage,
) -> None:
    """The export is busy: the resume stays queued, and runs once it is free."""
    stopped = interrupted_run(staged)
    with staged.workspace() as workspace:
        workspace.runs.request_resume(stopped.id)
        other = workspace.runs.request(EXPORT)
    with staged.context.database.session() as session:
        query = select(Export.id).where(Export.name == EXPORT)
        export_id = session.scalars(query).one()
    lease = acquire(staged.context.database, export_id, other.id, holder="elsewhere:1")
    worker = RunWorker(staged.context)

    assert worker.poll_once() == []
    with staged.workspace() as workspace:
        assert workspace.runs.show(stopped.id).queued_action == "resume"
    release(staged.context.database, lease)
    (ended,) = worker.poll_once()

    assert (ended.id, ended.queued_action) == (stopped.id, None)
    assert ended.status == "Succeeded with rejects"


def test_the_command_line_shows_a_queued_resume(staged: Stage) -> None:
    """``runs show`` says the resume waits for ``serve``, and who asked for it."""
    stopped = interrupted_run(staged)
    with staged.workspace("contributor") as workspace:
        workspace.runs.request_resume(stopped.id)

    shown = CliRunner().invoke(
        app,
        ["runs", "show", str(stopped.id)],
        env={"AUDIENCESYNC_HOME": str(staged.context.settings.home), "COLUMNS": "200"},
    )

    assert shown.exit_code == 0, shown.output
    assert "Its resume is queued (asked by contributor)" in shown.stdout


def _claimed_resume(staged: Stage) -> tuple[RunView, tuple[str, str] | None]:
    """An interrupted run whose resume an administrator queued and a worker claimed."""
    stopped = interrupted_run(staged)
    with staged.workspace() as workspace:
        workspace.runs.request_resume(stopped.id)
    with staged.context.database.session() as session:
        return stopped, take_queued_action(session, stopped.id)


def test_a_claimed_resume_reads_as_underway_until_its_pass_starts(
    staged: Stage,
) -> None:
    """Claimed by a worker, the resume stays on the run: nobody reads it as stopped."""
    stopped, claimed_by = _claimed_resume(staged)
    assert claimed_by == ("resume", "admin")
    with staged.workspace() as workspace:
        claimed = workspace.runs.show(stopped.id)

    assert (claimed.queued_action, claimed.queued_by) == ("resume", None)
    assert not claimed.is_over


def test_a_claimed_resume_whose_worker_died_can_be_asked_again(
    staged: Stage,
) -> None:
    """A claim whose pass never started does not block the next request."""
    stopped, _ = _claimed_resume(staged)  # and the worker's process ends here

    with staged.workspace("contributor") as workspace:
        again = workspace.runs.request_resume(stopped.id)
    (ended,) = RunWorker(staged.context).poll_once()

    assert (again.queued_action, again.queued_by) == ("resume", "contributor")
    assert (ended.id, ended.queued_action) == (stopped.id, None)
    assert ended.status == "Succeeded with rejects"


def test_a_starting_worker_drops_a_claim_whose_worker_died(staged: Stage) -> None:
    """The next ``serve`` takes the dead claim off the run and says so on it."""
    stopped, _ = _claimed_resume(staged)  # and the worker's process ends here
    worker = RunWorker(staged.context, poll_seconds=3600)

    worker.start()
    worker.stop(timeout=30)

    with staged.workspace() as workspace:
        shown = workspace.runs.show(stopped.id)
    assert (shown.queued_action, shown.status) == (None, stopped.status)
    assert "did not start" in (shown.error or "")


def test_a_starting_worker_leaves_waiting_passes_queued(staged: Stage) -> None:
    """An approval or resume nobody claimed yet is not touched at start."""
    stopped = interrupted_run(staged)
    with staged.workspace("contributor") as workspace:
        workspace.runs.request_resume(stopped.id)
    with staged.workspace() as workspace:
        released = workspace.runs.release_abandoned_claims()
        shown = workspace.runs.show(stopped.id)

    assert released == []
    assert (shown.queued_action, shown.queued_by) == ("resume", "contributor")


def test_a_queued_pass_that_cannot_happen_leaves_the_run_stopped(
    staged: Stage,
) -> None:
    """Its asker removed: not carried out, said on the run, nothing left queued."""
    stopped = interrupted_run(staged)
    with staged.workspace("contributor") as workspace:
        workspace.runs.request_resume(stopped.id)
    with staged.workspace() as workspace:
        workspace.users.remove("contributor")

    (ended,) = RunWorker(staged.context).poll_once()

    assert ended.queued_action is None
    assert ended.is_over
    assert "was not carried out" in (ended.error or "")
