"""The system refresh schedule: set, show, clear, who may, and what exports show."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audiencesync.app.refresh_schedule import (
    clear_refresh_schedule,
    read_refresh_schedule,
    set_refresh_schedule,
)
from audiencesync.errors import AccessDeniedError, ConfigError
from audiencesync.scheduling.schedules import REFRESH_SETTING
from audiencesync.store.accounts import SystemSetting
from tests.refresh.conftest import Place

NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # a Monday


def at_now() -> datetime:
    """The pinned clock."""
    return NOW


def stored(place: Place) -> object:
    """The raw refresh_schedule setting (None when there is none)."""
    with place.workspace() as workspace, workspace.database.session() as session:
        row = session.get(SystemSetting, REFRESH_SETTING)
        return None if row is None else row.value


def test_refresh_is_off_by_default(place: Place) -> None:
    """A new data folder has no refresh schedule."""
    with place.workspace() as workspace:
        schedule = read_refresh_schedule(workspace)
    assert (schedule.is_set, schedule.next_run.at) == (False, None)


def test_set_stores_cron_and_timezone_for_next_refresh(place: Place) -> None:
    """The setting holds {"cron", "timezone"}, the shape schedule.next_refresh reads."""
    with place.workspace() as workspace:
        schedule = set_refresh_schedule(
            workspace, "0  6,18 * * *", timezone="Europe/Paris", now=at_now
        )
    assert stored(place) == {"cron": "0 6,18 * * *", "timezone": "Europe/Paris"}
    assert schedule.next_run.at == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_set_writes_one_audit_event_naming_the_change(place: Place) -> None:
    """A change is audited with the new and previous schedule."""
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "0 6 * * *")
        set_refresh_schedule(workspace, "0 */4 * * *")
    events = place.audit("schedule.set")
    assert [e.details["cron"] for e in events] == ["0 6 * * *", "0 */4 * * *"]
    assert events[1].details["previous_cron"] == "0 6 * * *"


def test_setting_the_same_schedule_again_writes_nothing(place: Place) -> None:
    """A no-op set writes no audit event."""
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "0 6 * * *")
        set_refresh_schedule(workspace, "0 6 * * *", timezone="UTC")
    assert len(place.audit("schedule.set")) == 1


def test_set_without_timezone_keeps_the_zone_already_set(place: Place) -> None:
    """Only --timezone changes the zone."""
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "0 6 * * *", timezone="Asia/Tokyo")
        set_refresh_schedule(workspace, "0 7 * * *")
    assert stored(place) == {"cron": "0 7 * * *", "timezone": "Asia/Tokyo"}


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("manual", "clear the schedule"),
        ("0 25 * * *", "The hour field '25'"),
    ],
    ids=["a keyword", "bad hour"],
)
def test_a_bad_schedule_is_refused_and_nothing_stored(
    place: Place, cron: str, message: str
) -> None:
    """Wrong cron expressions are refused with the reason."""
    with place.workspace() as workspace, pytest.raises(ConfigError, match=message):
        set_refresh_schedule(workspace, cron)
    assert stored(place) is None


def test_a_contributor_cannot_set_the_schedule(place: Place) -> None:
    """Design section 6: the system refresh schedule is for administrators."""
    with (
        place.workspace("cora") as workspace,
        pytest.raises(AccessDeniedError, match="cannot change the refresh schedule"),
    ):
        set_refresh_schedule(workspace, "0 6 * * *")


def test_clear_switches_refresh_off_once(place: Place) -> None:
    """Clear removes the setting; clearing again changes and audits nothing."""
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "0 6 * * *")
        cleared = clear_refresh_schedule(workspace)
        clear_refresh_schedule(workspace)
    assert (cleared.is_set, stored(place)) == (False, None)
    assert len(place.audit("schedule.clear")) == 1


def test_exports_list_shows_each_schedules_honest_next_run(place: Place) -> None:
    """Refresh exports show the next refresh, cron ones their own, manual says so."""
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "30 6 * * *", timezone="Europe/Paris")
        listed = {
            info.name: info.next_run_text for info in workspace.exports.list_all()
        }
        hourly = workspace.exports.get("Hourly").next_run
    assert listed["Newsletter"].startswith("with each refresh: next at ")
    assert "06:30 Europe/Paris" in listed["Newsletter"]
    assert listed["OnDemand"] == "manual only"
    assert hourly is not None
    assert (hourly.minute, hourly.second) == (0, 0)


def test_exports_list_says_when_no_refresh_is_scheduled(place: Place) -> None:
    """Without a refresh schedule, refresh exports say so instead of a time."""
    with place.workspace() as workspace:
        set_refresh_schedule(workspace, "0 6 * * *")
        clear_refresh_schedule(workspace)
        info = workspace.exports.get("Newsletter")
    assert (info.next_run, info.next_run_text) == (
        None,
        "with each refresh (no refresh schedule set)",
    )
