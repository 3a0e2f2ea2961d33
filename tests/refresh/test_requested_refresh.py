"""A requested refresh (``POST /refresh``): recorded, then run by the scheduler."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from audiencesync.app.refresh_schedule import request_refresh
from audiencesync.errors import AccessDeniedError
from audiencesync.scheduling.scheduler import REQUESTED_KEY, Scheduler
from audiencesync.store.runs import Run
from tests.refresh.conftest import Place

pytestmark = pytest.mark.socket


def ask(place: Place, user: str) -> None:
    """``user`` requests a refresh."""
    with place.workspace(user) as workspace:
        request_refresh(workspace)


def scheduler(place: Place) -> Scheduler:
    """A scheduler whose clock stays where no schedule is due (the Hourly save)."""
    saved = place.saved_at("Hourly")
    return Scheduler(place.settings, now=lambda: saved)


def requesters(place: Place) -> list[tuple[str, str]]:
    """(trigger, requested_by) of every run, oldest first."""
    with place.workspace() as workspace, workspace.database.session() as session:
        rows = session.execute(select(Run.trigger, Run.requested_by).order_by(Run.id))
        return [(trigger, by) for trigger, by in rows]


def test_a_request_runs_nothing_by_itself(place: Place) -> None:
    """Asking records the request (audited) and starts no run."""
    ask(place, "cora")
    assert place.runs() == []
    assert [event.actor for event in place.audit("refresh.request")] == ["cora"]


def test_the_next_tick_runs_the_requested_refresh_once_as_the_requester(
    place: Place,
) -> None:
    """The scheduler runs the refresh at its next pass, as cora, then forgets it."""
    ask(place, "cora")
    ticking = scheduler(place)

    fired = ticking.tick()
    again = ticking.tick()

    assert [(f.key, f.name, f.outcome) for f in fired] == [
        (REQUESTED_KEY, "refresh", "refresh ok")
    ]
    assert again == []
    assert requesters(place) == [("refresh", "cora")]


def test_two_requests_before_a_tick_make_one_refresh(place: Place) -> None:
    """A request made while one is pending is the pending one."""
    ask(place, "cora")
    ask(place, "admin")
    scheduler(place).tick()
    assert requesters(place) == [("refresh", "cora")]
    assert len(place.audit("refresh.request")) == 1


def test_a_request_of_a_user_removed_since_is_dropped(place: Place) -> None:
    """The refresh does not run as nobody: the request is dropped, logged failed."""
    ask(place, "cora")
    with place.workspace() as workspace:
        workspace.users.remove("cora")

    fired = scheduler(place).tick()

    assert [(f.key, f.outcome) for f in fired] == [(REQUESTED_KEY, "failed")]
    assert place.runs() == []
    assert scheduler(place).tick() == []


def test_viewers_cannot_request_a_refresh(place: Place) -> None:
    """Requesting a refresh needs the right to run exports."""
    with pytest.raises(AccessDeniedError, match="vic is a viewer"):
        ask(place, "vic")
    assert place.audit("refresh.request") == []


def test_a_request_wakes_a_waiting_scheduler_at_once(place: Place) -> None:
    """Woken, the scheduler runs the request now, not after its minute of waiting."""
    saved = place.saved_at("Hourly")
    stop, wake, sleeping = threading.Event(), threading.Event(), threading.Event()

    class Watched(Scheduler):
        def _sleep(self, seconds: float) -> bool:
            sleeping.set()  # its first pass is over: now it waits (60 s here)
            return super()._sleep(seconds)

    waiting = Watched(place.settings, now=lambda: saved, stop=stop, wake=wake)
    thread = threading.Thread(target=waiting.run, daemon=True)
    thread.start()
    try:
        assert sleeping.wait(30)
        ask(place, "cora")
        wake.set()
        deadline = time.monotonic() + 30  # far below the 60 s it would wait
        while requesters(place) == [] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        wake.set()
        thread.join(30)
    assert requesters(place) == [("refresh", "cora")]
    assert not thread.is_alive()
