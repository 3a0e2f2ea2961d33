"""The scheduler across daylight-saving nights: a wall-clock slot fires once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audiencesync.app.refresh_schedule import set_refresh_schedule
from audiencesync.scheduling.scheduler import Scheduler
from tests.refresh.conftest import Place

pytestmark = pytest.mark.socket

NIGHT = timedelta(hours=6)
SECOND = timedelta(seconds=1)
TICKS = 12  # a night of one slot needs 3; a runaway loop fails instead of hanging


def refreshes_over(place: Place, start: datetime) -> list[datetime]:
    """Tick the scheduler from slot to slot over one night; the refresh slots fired."""
    with place.workspace() as workspace:
        workspace.exports.edit("Hourly", schedule="manual")
        set_refresh_schedule(
            workspace, "30 2 * * *", timezone="Europe/Paris", now=lambda: start
        )
    clock = [start]
    scheduler = Scheduler(place.settings, now=lambda: clock[0])
    fired: list[datetime] = []
    for _ in range(TICKS):
        if clock[0] >= start + NIGHT:
            break
        fired += [f.due_at.astimezone(UTC) for f in scheduler.tick()]
        upcoming = scheduler.next_due() or start + NIGHT
        clock[0] = max(upcoming, clock[0] + SECOND)
    return fired


def test_the_repeated_autumn_hour_fires_a_slot_once(place: Place) -> None:
    """02:30 in Paris on 25 October 2026 fires at 02:30 summer time only."""
    fired = refreshes_over(place, datetime(2026, 10, 24, 22, 0, tzinfo=UTC))
    assert fired == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_the_skipped_spring_hour_fires_a_slot_once_at_the_shift(place: Place) -> None:
    """02:30 does not exist in Paris on 28 March 2027: it fires once, at 03:00."""
    fired = refreshes_over(place, datetime(2027, 3, 27, 22, 0, tzinfo=UTC))
    assert fired == [datetime(2027, 3, 28, 1, 0, tzinfo=UTC)]
