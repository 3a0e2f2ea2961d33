"""Reading exports: order, lookups, next runs, detach and remove."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from audiencesync.auth.audit import list_events
from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.exports import exports_using_segment
from audiencesync.store.models import Segment
from tests.exports.conftest import ADMINS_ONLY, SHARED, Place


def test_list_all_is_sorted_by_name(place: Place) -> None:
    """Exports come back by name, ignoring case."""
    place.add("zeta")
    place.add("Alpha", segments=["Germany"])
    place.add("beta", connection=ADMINS_ONLY)
    assert [e.name for e in place.service().list_all()] == ["Alpha", "beta", "zeta"]


def test_list_all_is_empty_before_any_export(place: Place) -> None:
    """No export yet: an empty list."""
    assert place.service().list_all() == []


def test_get_an_unknown_export_suggests_the_closest(place: Place) -> None:
    """A misspelt name gets "Did you mean", a code and the name."""
    place.add("Newsletter")
    expected = "There is no export named 'Newsleter'. Did you mean 'Newsletter'?"
    with pytest.raises(NotFoundError, match=f"^{re.escape(expected)}$") as caught:
        place.service().get("Newsleter")
    assert caught.value.code == "export_not_found"
    assert caught.value.details == {"name": "Newsleter", "known": True}


NEXT_RUNS = [
    ("refresh", "UTC", None, "with each refresh (no refresh schedule set)"),
    ("manual", "UTC", None, "manual only"),
    (
        "0 9 * * 1",
        "Europe/Paris",
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        "2026-03-02 09:00 Europe/Paris (08:00 UTC)",
    ),
    (
        "*/15 * * * *",
        "UTC",
        datetime(2026, 3, 1, 12, 15, tzinfo=UTC),
        "2026-03-01 12:15 UTC",
    ),
]


@pytest.mark.parametrize(
    ("schedule", "timezone", "at", "text"),
    NEXT_RUNS,
    ids=["refresh", "manual", "weekly in Paris", "every 15 minutes"],
)
def test_next_run_for_each_schedule_kind(
    place: Place, schedule: str, timezone: str, at: datetime | None, text: str
) -> None:
    """The next run is computed from the pinned clock (Sunday 2026-03-01 12:00)."""
    place.add(schedule=schedule, timezone=timezone)
    export = place.service().get("Newsletter")
    assert (export.next_run, export.next_run_text) == (at, text)


@pytest.mark.parametrize(
    ("setting", "text"),
    [
        ("0 6 * * *", "with each refresh: next at 2026-03-02 06:00 UTC"),
        (
            {"cron": "0 6 * * *", "timezone": "America/New_York"},
            "with each refresh: next at 2026-03-02 06:00 America/New_York (11:00 UTC)",
        ),
        ({"cron": "0 99 * * *"}, "with each refresh (the refresh schedule is not"),
    ],
    ids=["cron text", "cron and time zone", "not valid"],
)
def test_refresh_exports_follow_the_refresh_schedule(
    place: Place, setting: object, text: str
) -> None:
    """With a system refresh schedule, "refresh" exports show its next time."""
    place.set_refresh_schedule(setting)
    place.add()
    assert place.service().get("Newsletter").next_run_text.startswith(text)


def test_detach_makes_the_export_inactive(place: Place) -> None:
    """A detached export has no connection, no next run and says so."""
    place.add()
    detached = place.service().detach("Newsletter")
    shown = place.service().list_all()[0]
    assert detached == shown
    assert (shown.active, shown.connection, shown.connection_text) == (
        False,
        None,
        "No connection",
    )
    assert (shown.next_run, shown.next_run_text) == (None, "inactive: no connection")


def test_detach_twice_is_refused(place: Place) -> None:
    """Detaching a detached export is a conflict that points at remove."""
    place.add()
    place.service().detach("Newsletter")
    with pytest.raises(ConflictError, match="is already detached"):
        place.service().detach("Newsletter")
    assert place.export_events() == ["export.add", "export.detach"]


def test_detach_keeps_the_connection_in_the_event(place: Place) -> None:
    """The audit event says which connection the export left."""
    place.add()
    place.service().detach("Newsletter")
    with place.database.session() as session:
        assert list_events(session, limit=1)[0].details == {"connection": SHARED}


def test_remove_deletes_the_export(place: Place) -> None:
    """After remove, the export is gone and its segments are free again."""
    place.add(segments=["France", "Germany"])
    place.service().remove("newsletter")
    assert place.service().list_all() == []
    with place.database.session() as session:
        france = session.query(Segment).filter_by(name="France").one()
        assert exports_using_segment(session, france.id) == []


def test_exports_using_segment_names_them_in_order(place: Place) -> None:
    """The segment service asks this before deleting a segment."""
    place.add("b-export", segments=["France"])
    place.add("A-export", segments=["Germany", "France"], connection=ADMINS_ONLY)
    with place.database.session() as session:
        france = session.query(Segment).filter_by(name="France").one()
        assert exports_using_segment(session, france.id) == ["A-export", "b-export"]
