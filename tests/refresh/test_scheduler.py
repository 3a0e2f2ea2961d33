"""The scheduler on virtual time: what fires, when, how often, and as whom."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from audiencesync.app.refresh_schedule import set_refresh_schedule
from audiencesync.app.running import run_export
from audiencesync.emulator import ScriptedFault
from audiencesync.scheduling.scheduler import Firing, Scheduler, serve_forever
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Run
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.history import run_info
from audiencesync.sync.lock import acquire, holder_of, release
from audiencesync.sync.records import create_run, start
from audiencesync.sync.statuses import RunStatus
from tests.refresh.conftest import Place

pytestmark = pytest.mark.socket

HOUR = timedelta(hours=1)


class VirtualTime:
    """A clock that moves only when told to (or when the scheduler waits on it)."""

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.waits: list[float] = []

    def now(self) -> datetime:
        """The virtual time."""
        return self.at

    def wait(self, seconds: float, *, stop_after: int) -> bool:
        """Jump ahead by ``seconds``; ask to stop after ``stop_after`` waits."""
        self.waits.append(seconds)
        self.at += timedelta(seconds=seconds)
        return len(self.waits) >= stop_after


def top_of_next_hour(moment: datetime) -> datetime:
    """The first "0 * * * *" slot after ``moment`` (UTC)."""
    return moment.replace(minute=0, second=0, microsecond=0) + HOUR


def started(place: Place) -> tuple[VirtualTime, datetime]:
    """Virtual time starting when the Hourly export was saved, and its first slot."""
    saved = place.saved_at("Hourly")
    return VirtualTime(saved), top_of_next_hour(saved)


def test_nothing_fires_before_the_first_slot(place: Place) -> None:
    """Right after the schedules were saved, nothing is due."""
    clock, _ = started(place)
    assert Scheduler(place.settings, now=clock.now).tick() == []
    assert place.runs() == []


def test_a_cron_export_fires_when_its_slot_comes(place: Place) -> None:
    """At the slot, the export runs once with the trigger "scheduled"."""
    clock, slot = started(place)
    scheduler = Scheduler(place.settings, now=clock.now)
    scheduler.tick()
    clock.at = slot

    fired = scheduler.tick()

    assert [(f.name, f.due_at, f.outcome) for f in fired] == [
        ("Hourly", slot, RunStatus.SUCCEEDED.value)
    ]
    assert place.runs() == [("Hourly", "scheduled")]


def test_it_fires_again_at_the_next_slot(place: Place) -> None:
    """One run per slot while the scheduler is up."""
    clock, slot = started(place)
    scheduler = Scheduler(place.settings, now=clock.now)
    for moment in (slot, slot + timedelta(minutes=30), slot + HOUR):
        clock.at = moment
        scheduler.tick()
    assert place.runs() == [("Hourly", "scheduled")] * 2


def test_downtime_across_five_slots_fires_once(place: Place) -> None:
    """A scheduler restarted after missing 5 slots runs the export once, not 5 times."""
    clock, slot = started(place)
    Scheduler(place.settings, now=clock.now).tick()
    clock.at = slot + 4 * HOUR + timedelta(minutes=10)  # slots 1 to 5 missed

    restarted = Scheduler(place.settings, now=clock.now)
    first, again = restarted.tick(), restarted.tick()

    assert ([f.name for f in first], again) == (["Hourly"], [])
    assert place.runs() == [("Hourly", "scheduled")]


def test_manual_and_refresh_exports_never_fire_on_their_own(place: Place) -> None:
    """Without a refresh schedule, only the cron export runs, however long we wait."""
    clock, _ = started(place)
    clock.at += timedelta(days=3)
    fired = Scheduler(place.settings, now=clock.now).tick()
    assert [f.name for f in fired] == ["Hourly"]
    assert place.runs() == [("Hourly", "scheduled")]


def test_the_refresh_schedule_fires_the_refresh(place: Place) -> None:
    """At its slot the refresh runs the exports that follow it (trigger "refresh")."""
    clock, _ = started(place)
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "15 6 * * *", now=clock.now)
    clock.at += timedelta(days=1)

    fired = Scheduler(place.settings, now=clock.now).tick()

    assert {(f.name, f.outcome) for f in fired} == {
        ("refresh", "refresh ok"),
        ("Hourly", RunStatus.SUCCEEDED.value),
    }
    assert sorted(place.runs()) == [("Hourly", "scheduled"), ("Newsletter", "refresh")]


def test_a_run_refused_by_the_lock_is_logged_and_skipped(
    place: Place, caplog: pytest.LogCaptureFixture
) -> None:
    """Another run holds the export: the slot is skipped, the log says why."""
    clock, slot = started(place)
    clock.at = slot
    with place.workspace() as workspace:
        with workspace.database.session() as session:
            row = find_export(session, "Hourly")
            holder = create_run(session, row.id, trigger="manual", requested_by="admin")
            export_id, run_id = row.id, holder.id
        lease = acquire(workspace.database, export_id, run_id, holder="elsewhere:1")
    try:
        with caplog.at_level(logging.INFO, logger="audiencesync.scheduling.scheduler"):
            fired = Scheduler(place.settings, now=clock.now).tick()
    finally:
        with place.workspace() as workspace:
            release(workspace.database, lease)
    assert [f.outcome for f in fired] == ["skipped"]
    assert (
        f"scheduled run of export 'Hourly' skipped: run {run_id} holds its lock"
        in caplog.messages
    )


def test_scheduled_runs_act_as_the_default_user(place: Place) -> None:
    """AUDIENCESYNC_USER (here a viewer) does not change who scheduled runs act as."""
    clock, slot = started(place)
    clock.at = slot
    as_viewer = place.settings.model_copy(update={"user": "vic"})
    Scheduler(as_viewer, now=clock.now).tick()
    with place.workspace() as workspace, workspace.database.session() as session:
        who = list(session.scalars(select(Run.requested_by)))
    assert who == ["admin"]


def test_the_loop_sleeps_until_the_next_slot(place: Place) -> None:
    """run() waits exactly until each slot and fires there, until told to stop."""
    clock, slot = started(place)
    scheduler = Scheduler(
        place.settings,
        now=clock.now,
        wait=lambda seconds: clock.wait(seconds, stop_after=3),
        max_wait=2 * 3600,
    )
    scheduler.run()
    assert clock.waits == [
        (slot - place.saved_at("Hourly")).total_seconds(),
        3600,
        3600,
    ]
    assert place.runs() == [("Hourly", "scheduled")] * 2


def test_serve_forever_returns_when_stopped(place: Place) -> None:
    """Setting the stop event (what Ctrl-C and SIGTERM do) ends the loop cleanly."""
    stop = threading.Event()
    thread = threading.Thread(
        target=serve_forever, args=(place.settings,), kwargs={"stop": stop}
    )
    thread.start()
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.socket
@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"]
)
def test_serve_stops_cleanly_on_ctrl_c_and_sigterm(place: Place, signum: int) -> None:
    """`audiencesync serve` exits 0 and says it stopped, without a traceback."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUDIENCESYNC_")},
        "AUDIENCESYNC_HOME": str(place.settings.home),
    }
    if place.settings.database_url:
        env["AUDIENCESYNC_DATABASE_URL"] = place.settings.database_url
    with subprocess.Popen(
        [sys.executable, "-m", "audiencesync", "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        line = process.stderr.readline()
        while line and "REST API on http://127.0.0.1:" not in line:
            line = process.stderr.readline()  # a warning or two may come first
        assert line
        process.send_signal(signum)
        _, errors = process.communicate(timeout=30)
    # A scheduled run may log its start and end first: the place's Hourly export
    # falls due when the test runs across the top of an hour.
    assert (process.returncode, errors.strip().splitlines()[-1]) == (0, "Stopped.")
    assert "Traceback" not in errors


def _failed_retrying(place: Place) -> int:
    """A run of OnDemand that found Iterable down; its id."""
    place.emulator.script("lists/subscribe", ScriptedFault(status=503), times=50)
    with place.workspace() as workspace:
        run = run_export(workspace, "OnDemand")
    place.emulator.clear_scripts()
    assert run.status is RunStatus.FAILED_RETRYING
    return run.id


def _resumed(firings: list[Firing]) -> list[tuple[str, str]]:
    return [(f.key, f.outcome) for f in firings if f.key.startswith("resume:")]


def test_a_failed_retrying_run_is_resumed_five_minutes_later(place: Place) -> None:
    """Iterable was down: the scheduler tries the run again after a pause."""
    run_id = _failed_retrying(place)
    soon = Scheduler(place.settings, now=lambda: utc_now() + timedelta(minutes=1))
    later = Scheduler(place.settings, now=lambda: utc_now() + timedelta(minutes=6))

    assert _resumed(soon.tick()) == []
    assert _resumed(later.tick()) == [(f"resume:{run_id}", "Succeeded")]


def test_a_run_failing_for_hours_gives_up_and_notifies(place: Place) -> None:
    """After four hours of failures the run ends Failed (permanent)."""
    run_id = _failed_retrying(place)
    hours_later = Scheduler(place.settings, now=lambda: utc_now() + 5 * HOUR)

    hours_later.tick()

    with place.workspace() as workspace, workspace.database.session() as session:
        info = run_info(session, run_id)
    assert info.status is RunStatus.FAILED_PERMANENT
    assert "gave up" in (info.error or "")
    assert [e.target for e in place.audit("run.notify_failed")] == [str(run_id)]


def test_a_run_whose_process_died_is_resumed_at_once(place: Place) -> None:
    """A dead holder's Running run is Interrupted, then resumed by the next pass."""
    dead = subprocess.Popen(["true"])  # noqa: S607 -- a process that is gone
    dead.wait()
    with place.workspace() as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, "OnDemand").id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        acquire(workspace.database, export_id, run_id,
                holder=holder_of(dead.pid))  # fmt: skip
        with workspace.database.session() as session:
            start(session, run_id)

    firings = Scheduler(place.settings).tick()

    assert _resumed(firings) == [(f"resume:{run_id}", "Succeeded")]


def test_a_run_whose_lease_ends_is_resumed_when_it_ends(place: Place) -> None:
    """A holder on another host stops renewing: the loop wakes at its lease's end."""
    clock = VirtualTime(utc_now())
    with place.workspace() as workspace:
        with workspace.database.session() as session:
            export_id = find_export(session, "OnDemand").id
            run_id = create_run(session, export_id, trigger="manual",
                                requested_by="admin").id  # fmt: skip
        taken = clock.at - timedelta(seconds=100)  # the lease ends in 20 s
        acquire(workspace.database, export_id, run_id, holder="elsewhere:1:x",
                now=taken)  # fmt: skip
        with workspace.database.session() as session:
            start(session, run_id, now=taken)

    def wait(seconds: float) -> bool:
        return clock.wait(seconds, stop_after=2)

    scheduler = Scheduler(place.settings, now=clock.now, wait=wait)

    scheduler.run()

    assert clock.waits[0] == 20.0  # not the next slot, nor a minute
    with place.workspace() as workspace, workspace.database.session() as session:
        assert run_info(session, run_id).status is RunStatus.SUCCEEDED
