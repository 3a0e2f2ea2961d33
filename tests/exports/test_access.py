"""Who may do what to exports (design section 6), and the audit trail of it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from audiencesync.auth.roles import Actor
from audiencesync.errors import AccessDeniedError
from audiencesync.exports import ExportService
from tests.exports.conftest import (
    ADMIN,
    ADMINS_ONLY,
    CONTRIBUTOR,
    SHARED,
    VIEWER,
    Place,
)

ADMINS_ONLY_REFUSAL = (
    "Connection 'Iterable admins' is for administrators only, so cora cannot"
    " create, edit or remove exports on it. Ask an administrator (admin) to share"
    " it with contributors, or to do this for you."
)
VIEWER_REFUSAL = (
    "vic is a viewer and cannot create, edit or remove exports. Ask an"
    " administrator (admin) if you need this."
)
Change = Callable[[ExportService], object]
CHANGES: dict[str, Change] = {
    "remove": lambda service: service.remove("Newsletter"),
    "detach": lambda service: service.detach("Newsletter"),
    "edit": lambda service: service.edit("Newsletter", mode="add-only"),
}
ACTION_OF = {
    "remove": "export.remove",
    "detach": "export.detach",
    "edit": "export.edit",
}


def test_a_contributor_cannot_add_on_an_admins_only_connection(place: Place) -> None:
    """The refusal says why and whom to ask; nothing is saved or audited."""
    with pytest.raises(AccessDeniedError, match=f"^{re.escape(ADMINS_ONLY_REFUSAL)}$"):
        place.add(connection=ADMINS_ONLY, actor=CONTRIBUTOR)
    assert (place.export_count(), place.export_events()) == (0, [])


def test_a_contributor_may_add_on_a_shared_connection(place: Place) -> None:
    """Shared connections are open to contributors; the event names them."""
    export = place.add(connection=SHARED, actor=CONTRIBUTOR).export
    assert (export.created_by, place.export_events()) == ("cora", ["export.add"])


def test_a_viewer_cannot_add(place: Place) -> None:
    """Viewers are refused before any other check."""
    with pytest.raises(AccessDeniedError, match=f"^{re.escape(VIEWER_REFUSAL)}$"):
        place.add(name="", connection="nowhere", actor=VIEWER)


@pytest.mark.parametrize("actor", [ADMIN, CONTRIBUTOR, VIEWER], ids=lambda a: a.name)
def test_everyone_may_read(place: Place, actor: Actor) -> None:
    """Administrators, contributors and viewers list and show exports."""
    place.add(connection=ADMINS_ONLY)
    service = place.service(actor)
    assert [e.name for e in service.list_all()] == ["Newsletter"]
    assert service.get("newsletter").connection == ADMINS_ONLY


ALLOWED = [
    (ADMIN, ADMINS_ONLY),
    (ADMIN, SHARED),
    (CONTRIBUTOR, SHARED),
]


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize(
    ("actor", "connection"),
    ALLOWED,
    ids=[f"{actor.name} on {connection}" for actor, connection in ALLOWED],
)
def test_allowed_changes_write_one_event(
    place: Place, change: str, actor: Actor, connection: str
) -> None:
    """Each allowed change succeeds and leaves exactly one audit event."""
    place.add(connection=connection)
    CHANGES[change](place.service(actor))
    assert place.export_events() == ["export.add", ACTION_OF[change]]


REFUSED = [
    (CONTRIBUTOR, ADMINS_ONLY, ADMINS_ONLY_REFUSAL),
    (VIEWER, SHARED, VIEWER_REFUSAL),
    (VIEWER, ADMINS_ONLY, VIEWER_REFUSAL),
]


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize(
    ("actor", "connection", "message"),
    REFUSED,
    ids=[f"{actor.name} on {connection}" for actor, connection, _ in REFUSED],
)
def test_refused_changes_change_nothing(
    place: Place, change: str, actor: Actor, connection: str, message: str
) -> None:
    """Each refused change names the reason and leaves no event and no change."""
    place.add(connection=connection)
    with pytest.raises(AccessDeniedError, match=f"^{re.escape(message)}$"):
        CHANGES[change](place.service(actor))
    assert place.export_events() == ["export.add"]
    export = place.service().get("Newsletter")
    assert (export.connection, export.mode) == (connection, "mirror")


DETACHED_CHANGES: dict[str, Change] = {
    "remove": CHANGES["remove"],
    "change": CHANGES["edit"],
}


@pytest.mark.parametrize("verb", sorted(DETACHED_CHANGES))
def test_only_admins_change_a_detached_export(place: Place, verb: str) -> None:
    """With no connection left to share, a detached export is the admins' to handle."""
    place.add()
    place.service().detach("Newsletter")
    expected = (
        f"Export 'Newsletter' has no connection (it was detached), so only an"
        f" administrator can {verb} it. Ask an administrator (admin) to do this for"
        " you."
    )
    with pytest.raises(AccessDeniedError, match=f"^{re.escape(expected)}$"):
        DETACHED_CHANGES[verb](place.service(CONTRIBUTOR))


def test_an_admin_removes_a_detached_export(place: Place) -> None:
    """An administrator can remove an export destination at any time."""
    place.add(actor=CONTRIBUTOR)
    place.service().detach("Newsletter")
    place.service().remove("Newsletter")
    assert place.export_events() == ["export.add", "export.detach", "export.remove"]


def test_a_contributor_cannot_move_an_export_to_an_admins_only_connection(
    place: Place,
) -> None:
    """Editing checks the new connection as well as the current one."""
    place.add(actor=CONTRIBUTOR)
    with pytest.raises(AccessDeniedError, match=re.escape(ADMINS_ONLY_REFUSAL)):
        place.service(CONTRIBUTOR).edit("Newsletter", connection=ADMINS_ONLY)
    assert place.service().get("Newsletter").connection == SHARED
