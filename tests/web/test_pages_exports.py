"""Data > Exports in the pages: Add export, the export page, a run's page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from urllib.parse import quote

import httpx2
import pytest

from audiencesync.app.worker import RunWorker
from audiencesync.emulator import serve_in_thread
from tests.app.stage import EXPORT, Stage, make_emulator, stage
from tests.canary import CANARY_API_KEY
from tests.web.conftest import Api
from tests.web.exports_setup import (
    ADMINS_ONLY,
    SHARED,
    add_connections,
    add_profiles_and_segments,
)
from tests.web.test_pages import PASSWORD, _csrf, sign_in


def _ready(api: Api) -> None:
    add_profiles_and_segments(api)
    add_connections(api)
    sign_in(api.client, "contributor", PASSWORD)


def _add(api: Api, **fields: str | list[str]) -> str:
    form = api.client.get("/exports/new")
    answer = api.client.post("/exports/new", data={"csrf": _csrf(form.text), **fields})
    return answer.text


def test_the_form_offers_columns_segments_and_says_saving_does_not_run(
    api: Api,
) -> None:
    """The email field lists profile columns; segments show their member counts."""
    _ready(api)

    page = api.client.get("/exports/new").text

    assert "Saving does not run the export." in page
    assert '<option value="email"' in page
    assert re.search(r"France — \d+ members?", page)


def test_a_contributor_is_offered_only_the_connections_shared_with_them(
    api: Api,
) -> None:
    """Add export lists the shared connection, not the administrators-only one."""
    _ready(api)

    page = api.client.get("/exports/new").text

    assert f'<option value="{escape(SHARED)}"' in page
    assert escape(ADMINS_ONLY) not in page


def test_saving_an_export_opens_its_page_and_sends_nothing(api: Api) -> None:
    """Save: the export's page, no run yet."""
    _ready(api)

    page = _add(api, connection=SHARED, name="Weekly", email_field="email",
                segments=["France"], schedule="manual", mode="mirror",
                removal_brake="20")  # fmt: skip

    assert "<h1>Weekly</h1>" in page
    assert "No run yet." in page


def test_a_refused_export_is_said_by_its_field(api: Api) -> None:
    """No segment ticked: the error by the segments, the values kept."""
    _ready(api)

    page = _add(api, connection=SHARED, name="Weekly", email_field="email",
                schedule="manual", mode="mirror", removal_brake="20")  # fmt: skip

    assert 'id="segments-error"' in page
    assert 'value="Weekly"' in page


def test_run_now_queues_a_run_whose_page_shows_it_done(
    api: Api, emulator_url: str
) -> None:
    """Run now: the run's page; once the worker ran it, its counts and status."""
    _ready(api)
    with api.workspace() as workspace:
        workspace.connections.add(
            "Real", api_key=CANARY_API_KEY, base_url=emulator_url, shared=True,
            agreed=True,
        )  # fmt: skip
    export = _add(api, connection="Real", name="Weekly", email_field="email",
                  segments=["France"], schedule="manual", mode="mirror",
                  removal_brake="20")  # fmt: skip

    answer = api.client.post(
        "/exports/Weekly/run", data={"csrf": _csrf(export), "kind": "run"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303, answer.text
    RunWorker(api.context).poll_once()
    page = api.client.get(answer.headers["location"]).text

    assert answer.headers["location"].startswith("/runs/")
    assert "Succeeded" in page
    assert 'data-over="yes"' in page


def test_a_viewer_has_no_run_buttons_and_the_server_refuses(api: Api) -> None:
    """No Run now for viewers, and a forged POST queues nothing."""
    _ready(api)
    _add(api, connection=SHARED, name="Weekly", email_field="email",
         segments=["France"], schedule="manual", mode="mirror",
         removal_brake="20")  # fmt: skip
    api.client.cookies.clear()
    page = sign_in(api.client, "viewer", PASSWORD)
    export = api.client.get("/exports/Weekly").text

    answer = api.client.post(
        "/exports/Weekly/run", data={"csrf": _csrf(page), "kind": "run"}
    )

    assert "Run now" not in export
    assert answer.status_code == 403
    with api.workspace() as workspace:
        assert workspace.runs.list().total == 0


# --- Edit export, Remove export, odd names ------------------------------------

ODD_NAMES = ["a/edit", "x/remove", "a/b/run", "Weekly 100%"]


def _saved(api: Api, name: str = "Weekly") -> None:
    with api.workspace() as workspace:
        workspace.exports.add(name, connection=SHARED, email_field="email",
                              segments=["France"], schedule="manual")  # fmt: skip


def _page(api: Api, path: str) -> str:
    answer = api.client.get(path)
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_export_with_an_odd_name_has_its_page_and_its_forms(
    api: Api, name: str
) -> None:
    """Its page, its Edit form and its Remove step, each about that very export."""
    _ready(api)
    _saved(api, name)
    quoted = quote(name, safe="")

    page = _page(api, f"/exports/{quoted}")
    form = _page(api, f"/edit-export/{quoted}")
    confirm = _page(api, f"/remove-export/{quoted}")

    assert f"<h1>{escape(name)}</h1>" in page
    assert f'href="/edit-export/{quoted}"' in page
    assert f'value="{escape(name)}"' in form
    assert f'action="/remove-export/{quoted}"' in confirm


def test_the_edit_form_is_filled_in_with_the_export(api: Api) -> None:
    """Connection, segments, schedule and brake as saved; the revision with them."""
    _ready(api)
    with api.workspace() as workspace:
        workspace.exports.add("Weekly", connection=SHARED, email_field="email",
                              segments=["Germany"], schedule="30 8 * * 1-5",
                              timezone="Europe/Paris", removal_brake=7)  # fmt: skip

    form = _page(api, "/edit-export/Weekly")

    assert re.search(r'value="Germany" checked', form)
    assert re.search(r'value="cron" checked', form)
    assert 'value="30 8 * * 1-5"' in form
    assert 'value="Europe/Paris"' in form
    assert 'name="removal_brake" type="number" min="0" max="100" value="7"' in form
    assert 'name="revision" value="1"' in form


def _edit(api: Api, export: str, **changes: str | list[str]) -> httpx2.Response:
    form = _page(api, f"/edit-export/{quote(export, safe='')}")
    fields = {"csrf": _csrf(form), "connection": SHARED, "name": export,
              "email_field": "email", "segments": ["France"], "schedule": "manual",
              "mode": "mirror", "removal_brake": "20", "revision": "1",
              "timezone": "UTC"}  # fmt: skip
    return api.client.post(
        f"/edit-export/{quote(export, safe='')}", data={**fields, **changes}
    )


def test_editing_renames_and_changes_the_export(api: Api) -> None:
    """Save: the service's edit; then the export's page under its new name."""
    _ready(api)
    _saved(api, "a/edit")

    answer = _edit(api, "a/edit", name="Daily", segments=["France", "Germany"],
                   schedule="cron", cron="0 6 * * *")  # fmt: skip

    assert answer.status_code == 200
    assert "<h1>Daily</h1>" in answer.text
    with api.workspace() as workspace:
        saved = workspace.exports.get("Daily")
    assert (saved.schedule, saved.segments) == ("0 6 * * *", ("France", "Germany"))


def test_a_refused_edit_is_said_by_its_field(api: Api) -> None:
    """No segment: the error beside the segments; the export unchanged."""
    _ready(api)
    _saved(api)

    answer = _edit(api, "Weekly", segments=[], removal_brake="5")

    assert answer.status_code == 422
    assert 'id="segments-error"' in answer.text
    assert 'value="5"' in answer.text
    with api.workspace() as workspace:
        assert workspace.exports.get("Weekly").removal_brake == 20


def test_an_edit_made_meanwhile_is_not_overwritten(api: Api) -> None:
    """The form's revision is older than the export's: refused, said on the form."""
    _ready(api)
    _saved(api)
    with api.workspace() as workspace:
        workspace.exports.edit("Weekly", removal_brake=30)

    answer = _edit(api, "Weekly", removal_brake="5")

    assert answer.status_code == 409
    with api.workspace() as workspace:
        assert workspace.exports.get("Weekly").removal_brake == 30


def test_removing_asks_first_then_the_list_says_it_is_gone(api: Api) -> None:
    """Remove export: the confirm step; then the exports list with a notice."""
    _ready(api)
    _saved(api, "x/remove")
    confirm = _page(api, "/remove-export/x%2Fremove")

    answer = api.client.post("/remove-export/x%2Fremove", data={"csrf": _csrf(confirm)})

    assert "Export x/remove was removed." in answer.text
    assert "<h1>Exports</h1>" in answer.text
    with api.workspace() as workspace:
        assert workspace.exports.list_all() == []


def test_edit_and_remove_without_the_forms_token_change_nothing(api: Api) -> None:
    """No CSRF token: back to the form; the export as it was."""
    _ready(api)
    _saved(api)

    edited = api.client.post("/edit-export/Weekly", data={"name": "Other"},
                             follow_redirects=False)  # fmt: skip
    removed = api.client.post("/remove-export/Weekly", data={},
                              follow_redirects=False)  # fmt: skip

    assert (edited.status_code, removed.status_code) == (303, 303)
    with api.workspace() as workspace:
        assert [info.name for info in workspace.exports.list_all()] == ["Weekly"]


def test_a_viewer_sees_no_edit_or_remove_and_the_server_refuses(api: Api) -> None:
    """No Edit or Remove for viewers; the forms and forged POSTs are refused."""
    _ready(api)
    _saved(api)
    api.client.cookies.clear()
    page = sign_in(api.client, "viewer", PASSWORD)
    export = _page(api, "/exports/Weekly")

    form = api.client.get("/edit-export/Weekly")
    edited = api.client.post(
        "/edit-export/Weekly",
        data={"csrf": _csrf(page), "name": "Other", "email_field": "email",
              "segments": ["France"], "schedule": "manual"},
    )  # fmt: skip
    removed = api.client.post("/remove-export/Weekly", data={"csrf": _csrf(page)})

    assert "Edit export" not in export
    assert "Remove export" not in export
    assert (form.status_code, edited.status_code, removed.status_code) == (
        403, 403, 403,
    )  # fmt: skip
    with api.workspace() as workspace:
        assert [info.name for info in workspace.exports.list_all()] == ["Weekly"]


def test_a_contributor_cannot_edit_an_administrators_export(api: Api) -> None:
    """An export on an administrators-only connection: the service refuses (403)."""
    _ready(api)
    with api.workspace() as workspace:
        workspace.exports.add("Private", connection=ADMINS_ONLY, email_field="email",
                              segments=["Germany"], schedule="manual")  # fmt: skip

    answer = _edit(api, "Private", removal_brake="5")

    assert answer.status_code == 403
    with api.workspace() as workspace:
        assert workspace.exports.get("Private").removal_brake == 20


# --- held runs, drift, Cancel (runs against the emulator) ------------------------


@pytest.fixture
def staged(api: Api, tmp_path: Path) -> Iterator[Stage]:
    """The pages' data folder staged for runs against an emulator."""
    emulator = make_emulator()
    with serve_in_thread(emulator) as url:
        yield stage(api.context, tmp_path, url, emulator)


@pytest.mark.socket
def test_a_held_run_is_flagged_in_the_history_and_links_to_its_page(
    api: Api, staged: Stage
) -> None:
    """ "Held: needs approval" beside the held run, to its run page."""
    held = staged.held_run()
    sign_in(api.client, "contributor", PASSWORD)

    page = _page(api, f"/exports/{EXPORT}")

    flag = f'<a class="flag" href="/runs/{held.id}">Held: needs approval</a>'
    assert flag in page
    assert page.count("Held: needs approval") == 1  # the first run succeeded


@pytest.mark.socket
def test_each_list_shows_its_newest_drift_check(api: Api, staged: Stage) -> None:
    """After a run, the list's size read back from Iterable, beside its segment."""
    with staged.workspace() as workspace:
        run = workspace.runs.run(EXPORT)
    (part,) = run.segments
    sign_in(api.client, "contributor", PASSWORD)

    page = _page(api, f"/exports/{EXPORT}")

    assert part.actual_size is not None, "the run read the list's size back"
    assert f"Iterable holds {part.actual_size}, {part.expected_size} expected" in page
    assert f'<a href="/runs/{run.id}">Run {run.id}</a>' in page


def test_a_list_never_checked_says_so(api: Api) -> None:
    """No run yet: each segment's list reads "Not checked yet"."""
    _ready(api)
    _saved(api)

    page = _page(api, "/exports/Weekly")

    assert '<tr data-segment="France">' in page
    assert "Not checked yet" in page


@pytest.mark.socket
def test_cancel_shows_while_a_run_is_queued_and_cancels_it(
    api: Api, staged: Stage
) -> None:
    """A queued run: Cancel on the export page; pressed, the run ends Canceled."""
    with staged.workspace("contributor") as workspace:
        queued = workspace.runs.request(EXPORT)
    sign_in(api.client, "contributor", PASSWORD)
    page = _page(api, f"/exports/{EXPORT}")

    api.client.post(f"/runs/{queued.id}/cancel", data={"csrf": _csrf(page)})
    after = _page(api, f"/exports/{EXPORT}")

    assert f'action="/runs/{queued.id}/cancel"' in page
    assert 'id="cancel-run"' not in after
    with staged.workspace() as workspace:
        assert workspace.runs.show(queued.id).status == "Canceled"


@pytest.mark.socket
def test_a_viewer_sees_no_cancel(api: Api, staged: Stage) -> None:
    """Viewers see the run in progress but no Cancel."""
    with staged.workspace("contributor") as workspace:
        workspace.runs.request(EXPORT)
    sign_in(api.client, "viewer", PASSWORD)

    page = _page(api, f"/exports/{EXPORT}")

    assert "Run 1: Queued." in page
    assert 'id="cancel-run"' not in page
