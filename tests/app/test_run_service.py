"""The run service: runs queued now and executed later, as the user who asked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audiencesync.auth.roles import Role
from audiencesync.errors import AccessDeniedError, ConflictError, NotFoundError
from audiencesync.store.accounts import AuditEvent
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.lock import RunInProgressError, acquire, release, this_process
from audiencesync.sync.statuses import RunStatus
from tests.app.stage import EXPORT, FRANCE, Stage

pytestmark = pytest.mark.socket


def _actions(staged: Stage) -> list[tuple[str, str]]:
    with staged.context.database.session() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(row.actor, row.action) for row in rows]


def test_a_request_queues_a_run_and_sends_nothing(staged: Stage) -> None:
    """request() answers at once with a Queued run (trigger api); nothing is sent."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)
        waiting = workspace.runs.waiting()

    assert (queued.status, queued.trigger, queued.requested_by) == (
        "Queued", "api", "contributor",
    )  # fmt: skip
    assert waiting == [queued.id]
    assert staged.emulator.requests == []
    assert ("contributor", "run.request") in _actions(staged)


def test_executing_a_queued_run_fills_the_list_with_the_segment(staged: Stage) -> None:
    """execute_queued() runs it to its end: the list equals the segment."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)
    with staged.workspace() as workspace:
        ran = workspace.runs.execute_queued(queued.id)
        waiting = workspace.runs.waiting()

    assert ran.id == queued.id
    assert ran.status == "Succeeded with rejects"
    assert ran.requested_by == "contributor"
    assert staged.members(ran) == FRANCE
    assert waiting == []


def test_a_viewer_is_refused_at_request_time(staged: Stage) -> None:
    """Viewers may not run exports: refused at once, no run recorded."""
    with staged.workspace("viewer") as workspace:
        with pytest.raises(AccessDeniedError):
            workspace.runs.request(EXPORT)
        assert workspace.runs.list().total == 0


def test_an_unknown_export_is_refused_at_request_time(staged: Stage) -> None:
    """A request names an export that exists, or is refused at once."""
    with staged.workspace() as workspace, pytest.raises(NotFoundError):
        workspace.runs.request("Nothing")


def test_a_removed_requester_is_never_replaced(staged: Stage) -> None:
    """The requester was removed meanwhile: Failed (permanent), nothing sent."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)
    with staged.workspace() as workspace:
        workspace.users.remove("contributor")
        ended = workspace.runs.execute_queued(queued.id)

    assert ended.status == "Failed (permanent)"
    assert ended.error is not None
    assert "contributor" in ended.error
    assert "did not start" in ended.error
    assert staged.emulator.requests == []


def test_a_demoted_requester_is_refused(staged: Stage) -> None:
    """The requester became a viewer meanwhile: refused, honestly recorded."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)
    with staged.workspace() as workspace:
        workspace.users.set_role("contributor", Role.VIEWER)
        ended = workspace.runs.execute_queued(queued.id)

    assert ended.status == "Failed (permanent)"
    assert ended.error is not None
    assert "cannot run exports" in ended.error
    assert staged.emulator.requests == []
    assert ("notifier", "export.notify_state") in _actions(staged)  # admins alerted


def test_a_queued_run_of_a_removed_export_ends_canceled(staged: Stage) -> None:
    """Its export was removed before it ran: Canceled, not waiting forever."""
    with staged.workspace() as workspace:
        queued = workspace.runs.request(EXPORT)
        workspace.exports.remove(EXPORT)
        assert workspace.runs.waiting() == [queued.id]
        ended = workspace.runs.execute_queued(queued.id)
        waiting = workspace.runs.waiting()

    assert ended.status == "Canceled"
    assert ended.export_removed
    assert waiting == []


def test_a_queued_run_waits_while_another_holds_the_export(staged: Stage) -> None:
    """The export's lock is held elsewhere: the run stays Queued, tried later."""
    database = staged.context.database
    with staged.workspace() as workspace:
        first = workspace.runs.run(EXPORT)
        queued = workspace.runs.request(EXPORT)
    with database.session() as session:
        export_id = find_export(session, EXPORT).id
    lease = acquire(database, export_id, first.id, holder=this_process())
    try:
        with staged.workspace() as workspace, pytest.raises(RunInProgressError):
            workspace.runs.execute_queued(queued.id)
    finally:
        release(staged.context.database, lease)
    with staged.workspace() as workspace:
        assert workspace.runs.show(queued.id).status == "Queued"
        assert workspace.runs.execute_queued(queued.id).status.startswith("Succeeded")


def test_only_a_queued_run_is_executed(staged: Stage) -> None:
    """A run that is not Queued (here: canceled) is not executed."""
    with staged.workspace() as workspace:
        queued = workspace.runs.request(EXPORT)
        canceled = workspace.runs.cancel(queued.id)
        with pytest.raises(ConflictError):
            workspace.runs.execute_queued(queued.id)

    assert canceled.status == "Canceled"
    assert ("admin", "run.cancel") in _actions(staged)


def test_a_queued_dry_run_plans_and_sends_nothing(staged: Stage) -> None:
    """A queued dry run ends with the plan's counts; nothing is subscribed."""
    with staged.workspace() as workspace:
        queued = workspace.runs.request(EXPORT, dry_run=True)
        ran = workspace.runs.execute_queued(queued.id)

    assert ran.dry_run
    assert ran.segments[0].planned_add == len(FRANCE)
    assert all(
        request.endpoint != "lists/subscribe" for request in staged.emulator.requests
    )


def test_list_pages_and_filters_by_status(staged: Stage) -> None:
    """list() pages newest first and keeps the asked status only."""
    with staged.workspace() as workspace:
        first = workspace.runs.run(EXPORT)
        queued = workspace.runs.request(EXPORT)
        page = workspace.runs.list(limit=1)
        waiting = workspace.runs.list(status=RunStatus.QUEUED)

    assert (page.total, [run.id for run in page.items]) == (2, [queued.id])
    assert [run.id for run in waiting.items] == [queued.id]
    assert first.id < queued.id
