"""Data > Exports in the pages: Add export, the export page, a run's page."""

from __future__ import annotations

import re

from audiencesync.app.worker import RunWorker
from tests.canary import CANARY_API_KEY
from tests.web.conftest import Api
from tests.web.exports_setup import SHARED, add_connections, add_profiles_and_segments
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
