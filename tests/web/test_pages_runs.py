"""A run's page: approve or discard held removals, cancel; who may."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.worker import RunWorker
from audiencesync.emulator import serve_in_thread
from tests.app.stage import EXPORT, Stage, make_emulator, stage
from tests.web.conftest import Api
from tests.web.test_pages import PASSWORD, _csrf, sign_in

pytestmark = pytest.mark.socket
ADMIN_PASSWORD = "correct horse 9"


@pytest.fixture
def staged(api: Api, tmp_path: Path) -> Iterator[Stage]:
    """The pages' data folder staged for runs against an emulator."""
    emulator = make_emulator()
    with serve_in_thread(emulator) as url:
        yield stage(api.context, tmp_path, url, emulator)


def _admin(api: Api) -> str:
    with api.workspace() as workspace:
        workspace.users.set_password("admin", ADMIN_PASSWORD)
    return sign_in(api.client, "admin", ADMIN_PASSWORD)


def test_an_administrator_approves_held_removals_from_the_run_page(
    api: Api, staged: Stage
) -> None:
    """Approve: queued for the worker; then the run's page shows it succeeded."""
    held = staged.held_run()
    _admin(api)
    page = api.client.get(f"/runs/{held.id}").text
    assert "Approve the held removals" in page

    api.client.post(f"/runs/{held.id}/approve", data={"csrf": _csrf(page)})
    queued = api.client.get(f"/runs/{held.id}").text
    RunWorker(api.context).poll_once()
    done = api.client.get(f"/runs/{held.id}").text

    assert "Its approve is queued (asked by admin)." in queued
    assert 'data-over="yes"' in done
    assert ">Succeeded" in done


def test_a_contributor_sees_no_approval_and_cannot_approve(
    api: Api, staged: Stage
) -> None:
    """No buttons for a contributor, and a forged POST leaves the run Held."""
    held = staged.held_run()
    page = sign_in(api.client, "contributor", PASSWORD)
    shown = api.client.get(f"/runs/{held.id}").text

    refused = api.client.post(f"/runs/{held.id}/approve", data={"csrf": _csrf(page)})

    assert "Approve the held removals" not in shown
    assert refused.status_code == 403
    with staged.workspace() as workspace:
        assert workspace.runs.show(held.id).status == "Held"


def test_a_queued_run_can_be_canceled_from_its_page(api: Api, staged: Stage) -> None:
    """Cancel on a Queued run ends it Canceled; nothing is sent."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)
    page = sign_in(api.client, "contributor", PASSWORD)

    api.client.post(f"/runs/{queued.id}/cancel", data={"csrf": _csrf(page)})

    with staged.workspace() as workspace:
        assert workspace.runs.show(queued.id).status == "Canceled"
