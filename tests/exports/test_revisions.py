"""Optimistic edits of exports: every change moves the revision; stale is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from audiencesync.errors import StaleEditError
from tests.exports.conftest import Place


def test_a_new_export_is_revision_one(place: Place) -> None:
    """Saving starts the count."""
    assert place.add().export.revision == 1


def test_changing_only_the_segments_moves_the_revision(place: Place) -> None:
    """The segment links are child rows; the export row is touched too."""
    place.add()
    edited = place.service().edit("Newsletter", segments=["France", "Germany"])
    assert edited.export.revision == 2
    assert place.service().get("Newsletter").revision == 2


def test_detaching_moves_the_revision(place: Place) -> None:
    """Detach is an edit like the others."""
    place.add()
    assert place.service().detach("Newsletter").revision == 2


@pytest.mark.parametrize("action", ["edit", "detach", "remove"])
def test_a_stale_expected_revision_is_refused(place: Place, action: str) -> None:
    """Named revision 1 after an edit made it 2: StaleEditError, nothing changes."""
    place.add()
    place.service().edit("Newsletter", mode="add-only")
    events = place.export_events()
    service = place.service()
    stale: dict[str, Callable[[], object]] = {
        "edit": lambda: service.edit(
            "Newsletter", removal_brake=50, expected_revision=1
        ),
        "detach": lambda: service.detach("Newsletter", expected_revision=1),
        "remove": lambda: service.remove("Newsletter", expected_revision=1),
    }
    with pytest.raises(StaleEditError, match="changed by someone else"):
        stale[action]()
    assert place.export_events() == events
    assert place.service().get("Newsletter").revision == 2


def test_the_current_revision_is_accepted(place: Place) -> None:
    """Naming the revision just read applies the edit."""
    place.add()
    edited = place.service().edit("Newsletter", mode="add-only", expected_revision=1)
    assert (edited.export.mode, edited.export.revision) == ("add-only", 2)
