"""Changing an export: the checks of add, counts for new segments, one event."""

from __future__ import annotations

import pytest

from audiencesync.errors import ConfigError, ConflictError
from audiencesync.store.accounts import AuditEvent
from tests.exports.conftest import ADMINS_ONLY, Place


def test_edit_changes_only_what_is_given(place: Place) -> None:
    """Other settings keep their values."""
    place.add(user_id_field="crm_id", removal_brake=30)
    export = place.service().edit("Newsletter", schedule="manual").export
    assert (export.schedule, export.user_id_field, export.removal_brake) == (
        "manual",
        "crm_id",
        30,
    )


def test_edit_counts_new_segments(place: Place) -> None:
    """New segments are counted and their order kept."""
    place.add()
    saved = place.service().edit("Newsletter", segments=["Germany", "France"])
    assert saved.member_counts == {"Germany": 1, "France": 2}
    assert saved.export.segments == ("Germany", "France")


def test_edit_without_new_segments_counts_nothing(place: Place) -> None:
    """Counting is for segments that changed only."""
    place.add()
    assert place.service().edit("Newsletter", mode="add-only").member_counts == {}


def test_none_clears_an_optional_field(place: Place) -> None:
    """``user_id_field=None`` and ``consent_column=None`` remove the mapping."""
    place.add(user_id_field="crm_id", consent_column="marketing_consent")
    export = (
        place.service()
        .edit("Newsletter", user_id_field=None, consent_column=None)
        .export
    )
    assert (export.user_id_field, export.consent_column) == (None, None)


def test_edit_renames(place: Place) -> None:
    """A new name is checked like a new export's."""
    place.add()
    assert place.service().edit("Newsletter", new_name=" Weekly ").export.name == (
        "Weekly"
    )


def test_edit_to_a_taken_name_is_refused(place: Place) -> None:
    """Renaming onto another export's name is a conflict."""
    place.add("Newsletter")
    place.add("Weekly", segments=["Germany"])
    with pytest.raises(ConflictError, match="An export named 'weekly' already exists"):
        place.service().edit("Newsletter", new_name="weekly")


def test_edit_applies_the_checks_of_add(place: Place) -> None:
    """A bad value is refused with the same message and nothing changes."""
    place.add()
    with pytest.raises(ConfigError, match="The hour field '24'"):
        place.service().edit("Newsletter", schedule="0 24 * * *")
    assert place.service().get("Newsletter").schedule == "refresh"
    assert place.export_events() == ["export.add"]


def test_edit_with_nothing_to_change_is_refused(place: Place) -> None:
    """An edit must change something."""
    place.add()
    with pytest.raises(ConfigError, match="Nothing to change"):
        place.service().edit("Newsletter")


def test_edit_reattaches_a_detached_export(place: Place) -> None:
    """Giving a connection to a detached export makes it active again."""
    place.add()
    place.service().detach("Newsletter")
    export = place.service().edit("Newsletter", connection=ADMINS_ONLY).export
    assert (export.active, export.connection) == (True, ADMINS_ONLY)


def test_edit_event_lists_the_changed_settings(place: Place) -> None:
    """The event says what changed and the export's summary after it."""
    place.add()
    place.service().edit("Newsletter", mode="add-only", schedule="manual")
    with place.database.session() as session:
        event = session.query(AuditEvent).filter_by(action="export.edit").one()
        assert event.details == {
            "changed": ["schedule", "mode"],
            "connection": "Iterable shared",
            "segments": ["France"],
            "schedule": "manual",
            "mode": "add-only",
        }
