"""Administrator > System in the pages: the refresh schedule, Refresh now, runs."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import Api
from tests.web.exports_setup import SHARED, add_connections, add_profiles_and_segments
from tests.web.test_pages import PASSWORD, _csrf, sign_in

ADMIN_PASSWORD = "correct horse 9"


def _admin(api: Api) -> str:
    with api.workspace() as workspace:
        workspace.users.set_password("admin", ADMIN_PASSWORD)
    return sign_in(api.client, "admin", ADMIN_PASSWORD)


def _set_schedule(api: Api, cron: str, zone: str) -> None:
    with api.workspace() as workspace:
        workspace.system.set_schedule(cron, timezone=zone)


def test_the_page_says_the_schedule_in_words_with_its_next_three_runs(
    api: Api,
) -> None:
    """A set schedule: its cron, zone, sentence and three next times."""
    _set_schedule(api, "30 8 * * MON-FRI", "Europe/Paris")
    _admin(api)

    page = api.client.get("/system").text

    assert "<code>30 8 * * MON-FRI</code> (Europe/Paris)" in page
    assert "At 08:30, Monday to Friday" in page
    assert page.count("08:30 Europe/Paris</time>") == 3


def test_the_page_is_french_for_a_french_browser(api: Api) -> None:
    """The sentence and the times follow the page's language."""
    _set_schedule(api, "30 8 * * MON-FRI", "Europe/Paris")
    _admin(api)

    page = api.client.get("/system", headers={"Accept-Language": "fr"}).text

    assert "À 08:30, du lundi au vendredi" in page
    assert "Planification des actualisations" in page


def test_an_administrator_sets_the_schedule(api: Api) -> None:
    """Save the schedule: the service stores it; the page shows it."""
    page = _admin(api)

    answer = api.client.post(
        "/system/schedule",
        data={"csrf": _csrf(page), "cron": "0 6 * * *", "timezone": "America/New_York",
              "action": "save"},
    )  # fmt: skip

    assert answer.status_code == 200
    assert "At 06:00, every day" in answer.text
    with api.workspace() as workspace:
        saved = workspace.system.schedule()
    assert (saved.cron, saved.timezone) == ("0 6 * * *", "America/New_York")


@pytest.mark.parametrize(
    ("cron", "zone", "field"),
    [("0 25 * * *", "UTC", "cron"), ("0 6 * * *", "Europe/Pariss", "timezone"),
     ("manual", "UTC", "cron")],
    ids=["hour out of range", "unknown zone", "not a cron"],
)  # fmt: skip
def test_a_wrong_schedule_is_said_by_its_field(
    api: Api, cron: str, zone: str, field: str
) -> None:
    """422, the error beside its field, the values kept, nothing saved."""
    page = _admin(api)

    answer = api.client.post(
        "/system/schedule",
        data={"csrf": _csrf(page), "cron": cron, "timezone": zone, "action": "save"},
    )

    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text
    assert f'value="{cron}"' in answer.text
    with api.workspace() as workspace:
        assert workspace.system.schedule().cron is None


def test_an_administrator_switches_scheduled_refreshes_off(api: Api) -> None:
    """Switch off: no schedule any more."""
    _set_schedule(api, "0 6 * * *", "UTC")
    page = _admin(api)

    answer = api.client.post(
        "/system/schedule", data={"csrf": _csrf(page), "action": "clear"}
    )

    assert "None: refreshes run only when asked for." in answer.text
    with api.workspace() as workspace:
        assert workspace.system.schedule().cron is None


def test_refresh_now_records_the_request_and_wakes_the_scheduler(api: Api) -> None:
    """Refresh now: the request is pending (shown), and the scheduler is woken."""
    page = _admin(api)
    api.context.refresh_asked.clear()

    answer = api.client.post("/system/refresh", data={"csrf": _csrf(page)})

    assert "By admin," in answer.text
    assert api.context.refresh_asked.is_set()
    with api.workspace() as workspace:
        assert workspace.system.overview().refresh_requested is not None


def test_every_export_shows_its_last_and_next_run(api: Api) -> None:
    """The exports table: a manual export with no run yet, a cron one's next run."""
    add_profiles_and_segments(api)
    add_connections(api)
    with api.workspace() as workspace:
        workspace.exports.add(
            "Manual one",
            connection=SHARED,
            email_field="email",
            segments=["France"],
            schedule="manual",
        )
        workspace.exports.add("a/cron", connection=SHARED, email_field="email",
                              segments=["Germany"], schedule="0 6 * * *")  # fmt: skip
    _admin(api)

    page = api.client.get("/system").text

    assert '<a href="/exports/a%2Fcron">a/cron</a>' in page
    assert "<code>0 6 * * *</code>" in page
    assert re.search(r"6:00:00\W+AM UTC", page)  # the next run, in UTC
    assert "none yet" in page


def test_a_viewer_reads_the_page_without_change_controls(api: Api) -> None:
    """No form, no Refresh now; forged requests are refused and change nothing."""
    _set_schedule(api, "0 6 * * *", "UTC")
    page = sign_in(api.client, "viewer", PASSWORD)
    shown = api.client.get("/system").text

    changed = api.client.post(
        "/system/schedule",
        data={"csrf": _csrf(page), "cron": "0 7 * * *", "action": "save"},
    )
    refreshed = api.client.post("/system/refresh", data={"csrf": _csrf(page)})

    assert "At 06:00, every day" in shown
    assert "Refresh now" not in shown
    assert 'action="/system/schedule"' not in shown
    assert (changed.status_code, refreshed.status_code) == (403, 403)
    with api.workspace() as workspace:
        assert workspace.system.schedule().cron == "0 6 * * *"
        assert workspace.system.overview().refresh_requested is None


def test_a_contributor_cannot_change_the_schedule(api: Api) -> None:
    """Contributors see the page; the schedule form is not theirs (403)."""
    page = sign_in(api.client, "contributor", PASSWORD)
    shown = api.client.get("/system").text

    answer = api.client.post(
        "/system/schedule",
        data={"csrf": _csrf(page), "cron": "0 7 * * *", "action": "save"},
    )

    assert 'action="/system/schedule"' not in shown
    assert answer.status_code == 403


def test_a_change_without_the_forms_token_is_refused(api: Api) -> None:
    """No CSRF token: back to the page, nothing saved, no refresh asked."""
    _admin(api)

    api.client.post("/system/schedule", data={"cron": "0 6 * * *", "action": "save"})
    api.client.post("/system/refresh", data={})

    with api.workspace() as workspace:
        assert workspace.system.schedule().cron is None
        assert workspace.system.overview().refresh_requested is None


def test_signed_out_visitors_are_sent_to_sign_in(api: Api) -> None:
    """The page needs a signed-in user."""
    answer = api.client.get("/system", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in")
