"""Administrators hear once when an export is held, drifts, is refused, reaches none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from audiencesync.app.running import approve_run, run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.errors import AccessDeniedError, ExportUserError
from audiencesync.exports.records import alert_key
from audiencesync.store.accounts import AuditEvent, SystemSetting
from audiencesync.store.destinations import Export
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.statuses import RunStatus
from tests.refresh.test_notifications import Hook, hook  # noqa: F401 - a fixture
from tests.sync.place import EXPORT, SECOND, Place, make_place

pytestmark = pytest.mark.socket

ALERTS = ("run.notify_state", "export.notify_state")


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """The runner's place; every removal is held (brake 0)."""
    with make_place(tmp_path) as made:
        with open_workspace(made.settings) as ws, ws.database.session() as session:
            session.execute(update(Export).values(removal_brake=0))
        yield made


def _alerts(place: Place) -> list[dict[str, Any]]:
    with open_workspace(place.settings) as ws, ws.database.session() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(ALERTS))
            .order_by(AuditEvent.id)
        )
        return [{"target": row.target, **row.details} for row in rows]


def test_an_export_held_run_after_run_alerts_once_until_it_was_fine(
    place: Place,
) -> None:
    """Held twice: one alert; approved (fine), then held again: a second one."""
    place.run()
    place.reimport(SECOND)  # ben leaves France: a removal, held
    first, again = place.run(), place.run()
    with open_workspace(place.settings) as workspace:
        approved = approve_run(workspace, again.id)
    place.reimport(SECOND.replace("C7,eve@example.com,FR", "C7,eve@example.com,IT"))
    last = place.run()  # eve leaves: held again

    assert [first.status, again.status, last.status] == [RunStatus.HELD] * 3
    assert approved.status in {RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_REJECTS}
    alerts = _alerts(place)
    assert [(a["state"], a["target"]) for a in alerts] == [
        ("held", str(first.id)),
        ("held", str(last.id)),
    ]


def test_a_run_in_which_iterable_rejected_everyone_alerts(place: Place) -> None:
    """Everyone sent was forgotten in Iterable: Succeeded with rejects, one alert."""
    for email in ("ana", "ben", "eve", "cleo", "dan"):
        place.forget(f"{email}@example.com")

    run = place.run()

    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS
    [alert] = _alerts(place)
    assert (alert["state"], alert["status"]) == ("all_rejected", run.status.value)


def test_a_refused_scheduled_run_alerts_once(place: Place) -> None:
    """The connection is no longer shared: a contributor's scheduled runs fail."""
    with open_workspace(place.settings) as workspace:
        workspace.users.add("cora", role=Role.CONTRIBUTOR)
        workspace.connections.set_sharing("Iterable", shared=False)
    as_cora = place.settings.model_copy(update={"user": "cora"})
    for _ in range(2):
        with open_workspace(as_cora) as workspace, pytest.raises(AccessDeniedError):
            run_export(workspace, EXPORT, trigger="scheduled")

    [alert] = _alerts(place)
    assert (alert["target"], alert["state"]) == (EXPORT, "refused")


def test_a_person_refused_at_the_command_line_alerts_nobody(place: Place) -> None:
    """A manual run refused by the sharing rules is told to its caller only."""
    with open_workspace(place.settings) as workspace:
        workspace.users.add("cora", role=Role.CONTRIBUTOR)
        workspace.connections.set_sharing("Iterable", shared=False)
    as_cora = place.settings.model_copy(update={"user": "cora"})
    with open_workspace(as_cora) as workspace, pytest.raises(AccessDeniedError):
        run_export(workspace, EXPORT)

    assert _alerts(place) == []


def test_an_export_user_who_lost_the_admin_role_alerts_once(place: Place) -> None:
    """The connection's export user is demoted: every run fails, one alert."""
    with open_workspace(place.settings) as workspace:
        workspace.users.add("ada", role=Role.ADMIN)
    as_ada = place.settings.model_copy(update={"user": "ada"})
    with open_workspace(as_ada) as workspace:
        workspace.connections.authorize("Iterable")
        workspace.users.set_role("ada", Role.CONTRIBUTOR)
    for _ in range(2):
        with open_workspace(place.settings) as ws, pytest.raises(ExportUserError):
            run_export(ws, EXPORT)

    [alert] = _alerts(place)
    assert (alert["target"], alert["state"]) == (EXPORT, "refused")


def test_a_drifted_run_alerts_on_the_failure_channels(
    place: Place,
    hook: Hook,  # noqa: F811 - the imported fixture
) -> None:
    """The webhook gets ``run.drift`` once, though the next run drifts again."""
    place.settings = place.settings.model_copy(
        update={"notify_webhook_url": SecretStr(hook.url)}
    )
    with open_workspace(place.settings) as ws, ws.database.session() as session:
        session.execute(update(Export).values(auto_resync=False))
    first = place.run()
    [france] = [p for p in first.segments if p.segment_name == "France"]
    _remove_in_iterable(place, france.list_id or 0, "ana@example.com")

    drifted, still = place.run(), place.run()

    assert (drifted.status, still.status) == (RunStatus.DRIFTED, RunStatus.DRIFTED)
    assert [(b["event"], b["run_id"]) for b in hook.bodies] == [
        ("run.drift", drifted.id)
    ]
    assert "lacks more than 5 % of the members" in hook.bodies[0]["error"]


def _remove_in_iterable(place: Place, list_id: int, email: str) -> None:
    """Someone takes a member off the list in Iterable itself."""
    import httpx  # noqa: PLC0415

    from audiencesync.emulator.config import DEFAULT_API_KEY  # noqa: PLC0415

    answer = httpx.post(
        f"{place.url}/api/lists/unsubscribe",
        json={"listId": list_id, "subscribers": [{"email": email}]},
        headers={"Api-Key": DEFAULT_API_KEY},
    )
    assert answer.status_code == 200


def test_removing_an_export_forgets_its_alert_state(place: Place) -> None:
    """A later export given the removed one's id must not inherit its alert."""
    place.run()
    place.reimport(SECOND)
    assert place.run().status is RunStatus.HELD
    with open_workspace(place.settings) as workspace:
        with workspace.database.session() as session:
            key = alert_key(find_export(session, EXPORT).id)
            held = session.get(SystemSetting, key)
            assert held is not None
            assert held.value == "held"
        workspace.exports.remove(EXPORT)
        with workspace.database.session() as session:
            assert session.get(SystemSetting, key) is None
