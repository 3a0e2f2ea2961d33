"""A run's life beyond the happy path: brake, cancel, resume, lost lists, locks."""

from __future__ import annotations

import asyncio
import functools
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audiencesync.app.running import (
    approve_run,
    cancel_run,
    discard_run,
    resume_run,
    run_export,
)
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.audit import list_events
from audiencesync.emulator import ScriptedFault
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable import BatchPolicy
from audiencesync.iterable.client import MAX_IN_FLIGHT, IterableClient
from audiencesync.segments.where import parse_where
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Run
from audiencesync.sync import runner
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.history import RunInfo, run_info
from audiencesync.sync.lock import (
    DEFAULT_LEASE,
    Lease,
    LeaseLostError,
    RunInProgressError,
    acquire,
    holder_of,
)
from audiencesync.sync.outcomes import SegmentOutcome
from audiencesync.sync.records import create_run, start
from audiencesync.sync.runner import RunFailedError
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import (
    CROWD,
    EXPORT,
    FRANCE,
    GERMANY,
    HEADER,
    MANY,
    OnBatch,
    Place,
    make_place,
)

pytestmark = pytest.mark.socket

LARGE = 12_500  # French members: 13 batches, more than a window holds

# ben and eve leave France for Germany: 2 of France's 3 members go (over 50 %).
EXODUS = HEADER + (
    "C1,ana@example.com,FR,gold\n"
    "C2,ben@example.com,DE,free\n"
    "C3,cleo@example.com,DE,gold\n"
    "C4,dan@example.com,DE,free\n"
    "C7,eve@example.com,DE,free\n"
)


def _running_id(workspace: Workspace) -> int:
    with workspace.database.session() as session:
        return int(session.scalars(select(func.max(Run.id))).one())


def _info(place: Place, run_id: int) -> RunInfo:
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        return run_info(session, run_id)


def test_brake_holds_mass_removals_and_approve_sends_them(place: Place) -> None:
    """Removals over the brake are held (additions go out) until approved."""
    place.run()
    place.reimport(EXODUS)
    place.emulator.reset_requests()

    held = place.run()

    assert held.status is RunStatus.HELD
    assert place.sent_items() == {"lists/subscribe": 2}  # ben, eve join Germany
    assert place.members(held)["France"] == FRANCE
    with open_workspace(place.settings) as workspace:
        approved = approve_run(workspace, held.id)
    assert approved.status is RunStatus.SUCCEEDED
    assert place.members(approved)["France"] == {"ana@example.com"}
    assert place.sent_items() == {"lists/subscribe": 2, "lists/unsubscribe": 2}


def test_discarded_removals_are_not_sent_and_held_again(place: Place) -> None:
    """Discard ends the run without removals; the next run holds them again."""
    place.run()
    place.reimport(EXODUS)
    held = place.run()

    with open_workspace(place.settings) as workspace:
        discarded = discard_run(workspace, held.id)
    again = place.run()

    assert discarded.status is RunStatus.DISCARDED  # not "Succeeded": say what happened
    assert {s.status for s in discarded.segments} >= {RunStatus.DISCARDED}
    assert "discarded by admin" in (discarded.error or "")
    assert place.members(discarded)["France"] == FRANCE
    assert again.status is RunStatus.HELD


def test_a_list_deleted_in_iterable_is_recreated_and_refilled(place: Place) -> None:
    """The stored list is gone: a new one is made and gets the whole segment."""
    first = place.run()
    france_list = first.segments[0].list_id or 0

    async def delete() -> None:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            await client.delete_list(france_list)

    asyncio.run(delete())
    place.emulator.reset_requests()

    run = place.run()

    france = run.segments[0]
    assert (france.list_action, france.added) == ("recreated", len(FRANCE))
    assert france.list_id != france_list
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}
    assert place.sent_items() == {"lists/subscribe": len(FRANCE)}


def test_a_renamed_segment_keeps_its_list(place: Place) -> None:
    """Renaming a segment changes nothing in Iterable: the same list is used."""
    first = place.run()
    with open_workspace(place.settings) as workspace:
        workspace.segments.update("France", new_name="France (all)")

    run = place.run()

    assert run.segments[0].segment_name == "France (all)"
    assert run.segments[0].list_id == first.segments[0].list_id
    assert run.segments[0].list_action == "existing"


def test_cancel_stops_new_batches_and_keeps_those_in_flight(
    tmp_path: Path,
) -> None:
    """A cancel ends the run Canceled; the next run sends only what was not acked."""
    crowd = HEADER + "".join(f"P{i},p{i:05d}@example.com,FR,free\n"
                             for i in range(LARGE))  # fmt: skip
    with make_place(tmp_path, profiles=crowd) as place:
        with open_workspace(place.settings) as workspace:
            progress = OnBatch(1, lambda: cancel_run(workspace, _running_id(workspace)))
            canceled = run_export(workspace, EXPORT, progress=progress)
        place.emulator.reset_requests()

        rest = place.run()

    acked = canceled.segments[0].batches_acked
    assert canceled.status is RunStatus.CANCELED
    # The batches in flight when the cancel was seen were answered and kept.
    assert 2 <= acked <= 1 + MAX_IN_FLIGHT < LARGE // 1_000
    assert place.sent_items() == {"lists/subscribe": LARGE - acked * 1_000}
    assert len(place.members(rest)["France"]) == LARGE


def test_a_crashed_run_resumes_with_only_unacknowledged_batches(
    tmp_path: Path,
) -> None:
    """Killed after its first batch: the next run continues it, sending the rest."""
    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()
        place.emulator.reset_requests()

        caught_up = place.run()

        continued = _info(place, 1)
    assert continued.status is RunStatus.SUCCEEDED
    assert (caught_up.id, caught_up.status) == (2, RunStatus.SUCCEEDED)
    assert sum(part.added for part in caught_up.segments) == 0
    assert place.sent_items() == {"lists/subscribe": MANY - 1_000}
    assert len(place.members(caught_up)["France"]) == MANY


def test_changes_made_while_a_run_was_stopped_are_sent_after_it(
    tmp_path: Path,
) -> None:
    """The continued run sends its old plan; a new run then sends what changed."""
    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()
        place.reimport(CROWD + "Z1,zoe@example.com,FR,free\n")
        place.emulator.reset_requests()

        caught_up = place.run()

        continued = _info(place, 1)
    assert continued.status is RunStatus.SUCCEEDED
    assert caught_up.id == 2
    assert sum(part.added for part in caught_up.segments) == 1
    assert place.sent_items() == {"lists/subscribe": MANY - 1_000 + 1}
    assert "zoe@example.com" in place.members(caught_up)["France"]


def test_a_run_whose_plan_file_was_lost_is_planned_again_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed, its plan file deleted by hand: the next run sends every member."""
    small = functools.partial(IterableClient, batch=BatchPolicy(max_items=100))
    monkeypatch.setattr(runner, "IterableClient", small)
    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()
        for plan in (place.settings.home / "sync" / "runs").rglob("plan.parquet"):
            plan.unlink()

        caught_up = place.run()

        lists = place.members(caught_up)
    assert len(lists["France"]) == MANY


def test_runs_resume_continues_a_failed_retrying_run(place: Place) -> None:
    """Iterable down: Failed (retrying); `runs resume` then finishes the run."""
    place.emulator.script("lists/subscribe", ScriptedFault(status=503), times=50)
    failed = place.run()
    place.emulator.clear_scripts()

    assert failed.status is RunStatus.FAILED_RETRYING
    assert "resume" in (failed.error or "")
    with open_workspace(place.settings) as workspace:
        resumed = resume_run(workspace, failed.id)
    assert resumed.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert place.members(resumed) == {"France": FRANCE, "Germany": GERMANY}


def test_two_simultaneous_runs_of_one_export_one_is_refused(
    tmp_path: Path,
) -> None:
    """While a run sends, a second run of the export is refused and recorded."""
    with make_place(tmp_path, profiles=CROWD) as place:
        run = place.run_while_another_tries()
        refused = _info(place, 2)

    assert run.status is RunStatus.SUCCEEDED
    assert refused.status is RunStatus.CANCELED
    assert len(place.members(run)["France"]) == MANY


def test_the_lock_of_a_killed_holder_is_taken_over(place: Place) -> None:
    """A run whose process is gone (same host) is Interrupted and resumed at once."""
    dead = subprocess.Popen(["true"])  # noqa: S607 -- a process that is gone
    dead.wait()
    holder = holder_of(dead.pid)
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, EXPORT).id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        acquire(workspace.database, export_id, run_id, holder=holder)
        with workspace.database.session() as session:
            start(session, run_id)

        run = run_export(workspace, EXPORT)

    assert _info(place, run_id).status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert run.id == run_id + 1  # the catch-up run after it
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}


def test_an_expired_lock_of_another_host_is_taken_over(place: Place) -> None:
    """A holder on another host that stopped renewing loses the export."""
    long_ago = utc_now() - timedelta(hours=1)
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, EXPORT).id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        acquire(workspace.database, export_id, run_id, holder="elsewhere:1",
                now=long_ago)  # fmt: skip
        with workspace.database.session() as session:
            start(session, run_id, now=long_ago)

        run_export(workspace, EXPORT)

    assert _info(place, run_id).status is RunStatus.SUCCEEDED_WITH_REJECTS


def test_a_lease_ending_as_a_new_run_starts_lets_the_stopped_run_go_first(
    tmp_path: Path,
) -> None:
    """A dead holder's lease ends between the look for a stopped run and the lock."""
    ended = utc_now() - timedelta(minutes=1)
    times = iter([ended - timedelta(seconds=1)])  # the look: still held

    def clock() -> datetime:
        return next(times, ended + timedelta(seconds=1))  # the lock: expired

    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()  # run 1 Running, its first batch acknowledged
        with open_workspace(place.settings) as workspace:
            dead_since = ended - DEFAULT_LEASE  # its process, on another host
            acquire(workspace.database, 1, 1, holder="elsewhere:1:x", now=dead_since)
            place.emulator.reset_requests()
            with pytest.raises(RunInProgressError, match="run 1"):
                run_export(workspace, EXPORT, now=clock)
        refused, sent = _info(place, 2), place.sent_items()

        caught_up = place.run()

        continued = _info(place, 1)
    assert (refused.status, sent) == (RunStatus.CANCELED, {})  # no plan beside run 1's
    assert continued.status is RunStatus.SUCCEEDED
    assert caught_up.id == 3
    assert place.sent_items() == {"lists/subscribe": MANY - 1_000}


def test_a_segment_that_empties_holds_its_removals(place: Place) -> None:
    """Zero members while the list has ours: held, whatever the brake percent."""
    place.run()
    with open_workspace(place.settings) as workspace:
        workspace.segments.update("Germany", definition=parse_where("country = 'XX'"))
        workspace.exports.edit(EXPORT, removal_brake=100)

    held = place.run()

    assert held.status is RunStatus.HELD
    assert held.segments[1].held_removals
    assert place.members(held)["Germany"] == GERMANY


def test_a_permanent_failure_notifies_the_administrators(place: Place) -> None:
    """Failed (permanent): one audit event names the run and its administrators."""
    place.emulator.script("lists/subscribe", ScriptedFault(status=400))

    with pytest.raises(RunFailedError):
        place.run()

    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        events = [e for e in list_events(session) if e.action == "run.notify_failed"]
    assert [(e.target_type, e.target) for e in events] == [("run", "1")]


def test_a_runner_that_lost_its_lease_stops_without_touching_the_run(
    tmp_path: Path,
) -> None:
    """Another process took the export over: this runner stops, records nothing."""
    clock = [utc_now()]

    def take_over() -> None:
        clock[0] += timedelta(minutes=5)  # our lease is long expired
        with open_workspace(place.settings) as other:
            acquire(other.database, 1, 1, holder="elsewhere:7", now=clock[0])

    with (
        make_place(tmp_path, profiles=CROWD) as place,
        open_workspace(place.settings) as workspace,
    ):
        progress = OnBatch(1, take_over)
        run = run_export(workspace, EXPORT, progress=progress, now=lambda: clock[0])

    assert run.status is RunStatus.RUNNING  # left to the new holder
    assert run.segments[0].batches_acked == 2  # it stops after the batch in flight


@pytest.mark.anyio
async def test_the_lease_is_renewed_on_a_timer_and_its_loss_stops_the_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long call does not outlive the lease: losing it cancels the work."""
    monkeypatch.setattr(runner, "KEEP_ALIVE_SECONDS", 0.01)
    beats: list[int] = []

    def beat() -> None:
        beats.append(1)
        if len(beats) == 3:
            raise LeaseLostError(Lease(1, 1, "me:1", utc_now(), timedelta(minutes=2)))

    async def long_call() -> list[SegmentOutcome]:
        await asyncio.sleep(30)
        return []

    with pytest.raises(LeaseLostError):
        await runner._kept_alive(beat, long_call())
    assert len(beats) == 3
