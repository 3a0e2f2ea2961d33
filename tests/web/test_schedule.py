"""``/api/v1/schedule``, ``/api/v1/refresh`` and ``/api/v1/system``, by role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from audiencesync.app.running import run_export
from audiencesync.auth.directory import resolve_actor
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.where import parse_where
from audiencesync.settings import Settings
from audiencesync.store.runs import Run
from tests.canary import CANARY_API_KEY
from tests.web.conftest import Api
from tests.web.test_pages import PASSWORD, sign_in

ADMIN, CONTRIBUTOR, VIEWER, NOBODY = "admin", "contributor", "viewer", None
ALL = (ADMIN, CONTRIBUTOR, VIEWER, NOBODY)
DAILY = {"cron": "0 6 * * *", "timezone": "Europe/Paris"}
EVERYONE: dict[str | None, int] = {ADMIN: 200, CONTRIBUTOR: 200, VIEWER: 200}
ADMINS: dict[str | None, int] = {ADMIN: 200, CONTRIBUTOR: 403, VIEWER: 403}

# (method, path, body, {role: status}, (audit action, target) of an allowed change)
ROUTES: list[
    tuple[str, str, dict[str, Any] | None, dict[str | None, int], tuple[str, str]]
] = [
    ("GET", "/schedule", None, dict(EVERYONE), ("", "")),
    ("PUT", "/schedule", DAILY, ADMINS, ("schedule.set", "refresh_schedule")),
    (
        "DELETE",
        "/schedule",
        None,
        {**ADMINS, ADMIN: 204},
        ("schedule.clear", "refresh_schedule"),
    ),
    (
        "POST",
        "/refresh",
        None,
        {ADMIN: 202, CONTRIBUTOR: 202, VIEWER: 403},
        ("refresh.request", "refresh_request"),
    ),
    ("GET", "/system", None, dict(EVERYONE), ("", "")),
]
CASES = [
    pytest.param(method, path, body, role, statuses.get(role, 401), change, id=name)
    for method, path, body, statuses, change in ROUTES
    for role in ALL
    for name in [f"{method} {path} as {role or 'no token'}"]
]


def set_daily(api: Api) -> None:
    """An administrator sets the refresh schedule (not audited by the tests)."""
    answer = api.client.put("/api/v1/schedule", json=DAILY, headers=api.auth(ADMIN))
    assert answer.status_code == 200


def run_count(api: Api) -> int:
    """How many runs there are."""
    with api.context.database.session() as session:
        return session.scalar(select(func.count()).select_from(Run)) or 0


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "expected", "change"), CASES
)
def test_every_route_and_role(
    api: Api,
    *,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    role: str | None,
    expected: int,
    change: tuple[str, str],
) -> None:
    """Each route answers each role as the role matrix says; changes are audited."""
    if method == "DELETE":
        set_daily(api)
    before = api.audit_actions()
    answer = api.client.request(
        method, f"/api/v1{path}", json=body, headers=api.auth(role)
    )
    assert answer.status_code == expected, answer.text
    action, target = change
    added = api.audit_actions()[len(before) :]
    if expected < 300 and action:
        assert added == [(role, action, target)]
    else:
        assert added == []


def test_put_then_get_shows_the_schedule_and_its_next_run(api: Api) -> None:
    """What PUT stores, GET answers, with the next run in the schedule's zone."""
    put = api.client.put("/api/v1/schedule", json=DAILY, headers=api.auth(ADMIN))
    shown = api.client.get("/api/v1/schedule", headers=api.auth(VIEWER)).json()
    assert put.json() == shown
    assert (shown["cron"], shown["timezone"]) == ("0 6 * * *", "Europe/Paris")
    assert shown["next_run"].endswith("T06:00:00+01:00")
    assert shown["updated_at"] is not None


def test_put_without_a_timezone_keeps_the_one_set(api: Api) -> None:
    """Only the cron changes; the zone already set stays."""
    set_daily(api)
    answer = api.client.put(
        "/api/v1/schedule", json={"cron": "0 7 * * *"}, headers=api.auth(ADMIN)
    )
    assert (answer.json()["cron"], answer.json()["timezone"]) == (
        "0 7 * * *",
        "Europe/Paris",
    )


def test_delete_switches_the_scheduled_refresh_off(api: Api) -> None:
    """After DELETE, GET says no schedule is set."""
    set_daily(api)
    api.client.delete("/api/v1/schedule", headers=api.auth(ADMIN))
    shown = api.client.get("/api/v1/schedule", headers=api.auth(ADMIN)).json()
    assert (shown["cron"], shown["next_run"]) == (None, None)
    assert shown["next_run_text"] == "no refresh schedule is set"


@pytest.mark.parametrize(
    "body",
    [
        {"cron": "0 25 * * *"},
        {"cron": "0 6 * *"},
        {"cron": "refresh"},
        {"cron": "0 6 * * *", "timezone": "Mars/Olympus"},
        {"cron": "0 6 * * *", "timezone": "Europe/Par\x00is"},
        {"cron": "0\x00 6 * * *"},
        {"cron": "x" * 300},
        {"cron": "0 6 * * *", "every": "day"},
        {},
    ],
)
def test_a_bad_schedule_is_a_422_and_changes_nothing(
    api: Api, body: dict[str, Any]
) -> None:
    """Wrong fields, zones and odd characters: 422 in the error shape, no event."""
    before = api.audit_actions()
    answer = api.client.put("/api/v1/schedule", json=body, headers=api.auth(ADMIN))
    assert answer.status_code == 422, answer.text
    refused = {"invalid", "invalid_cron", "unknown_timezone", "invalid_request"}
    assert answer.json()["error"]["code"] in refused
    assert api.audit_actions() == before


def test_refresh_is_only_recorded_never_run_in_the_request(api: Api) -> None:
    """202 with who asked and when; /system shows the request; no run starts."""
    answer = api.client.post("/api/v1/refresh", headers=api.auth(CONTRIBUTOR))
    assert answer.status_code == 202
    assert answer.headers["Location"] == "/api/v1/system"
    assert answer.json()["requested_by"] == CONTRIBUTOR
    system = api.client.get("/api/v1/system", headers=api.auth(VIEWER)).json()
    assert system["refresh_requested"] == answer.json()
    assert run_count(api) == 0


def test_a_second_request_while_one_is_pending_is_the_same_request(api: Api) -> None:
    """The pending request stands; asking again records nothing new."""
    first = api.client.post("/api/v1/refresh", headers=api.auth(CONTRIBUTOR)).json()
    again = api.client.post("/api/v1/refresh", headers=api.auth(ADMIN))
    assert (again.status_code, again.json()) == (202, first)
    actions = [action for _, action, _ in api.audit_actions()]
    assert actions.count("refresh.request") == 1


def test_system_without_exports_shows_the_schedule(api: Api) -> None:
    """No exports: the schedule, no request, an empty export list."""
    set_daily(api)
    system = api.client.get("/api/v1/system", headers=api.auth(VIEWER)).json()
    schedule = api.client.get("/api/v1/schedule", headers=api.auth(VIEWER)).json()
    assert system == {
        "schedule": schedule,
        "refresh_requested": None,
        "exports": [],
    }


@pytest.mark.socket
def test_system_shows_each_exports_last_and_next_run(
    api: Api, settings: Settings, emulator_url: str, tmp_path: Path
) -> None:
    """Every export: its schedule, its last run (status, when) and its next run."""
    source = tmp_path / "people.csv"
    source.write_text(
        "customer_id,email,country\nC1,a@example.com,FR\n", encoding="utf-8"
    )
    import_profiles(settings, source)
    admin = resolve_actor(api.context.database, ADMIN)
    with api.context.workspace(admin) as workspace:
        workspace.segments.create("France", parse_where("country = 'FR'"))
        workspace.segments.create("Others", parse_where("country <> 'FR'"))
        workspace.connections.add(
            "Iterable",
            api_key=CANARY_API_KEY,
            base_url=emulator_url,
            shared=True,
            agreed=True,
        )
        for name, schedule, segment in (
            ("Daily", "0 6 * * *", "France"),
            ("Later", "manual", "Others"),
        ):
            workspace.exports.add(
                name,
                connection="Iterable",
                email_field="email",
                segments=[segment],
                schedule=schedule,
            )
        run = run_export(workspace, "Daily")

    system = api.client.get("/api/v1/system", headers=api.auth(VIEWER)).json()

    daily, later = system["exports"]
    assert (daily["name"], daily["schedule"], daily["active"]) == (
        "Daily",
        "0 6 * * *",
        True,
    )
    assert daily["last_run"]["id"] == run.id
    assert daily["last_run"]["status"] == run.status.value
    assert daily["next_run"].endswith("T06:00:00Z")
    assert (later["last_run"], later["next_run"], later["next_run_text"]) == (
        None,
        None,
        "manual only",
    )


# --- GET /schedule/preview ------------------------------------------------------


@pytest.mark.parametrize("role", [ADMIN, CONTRIBUTOR, VIEWER])
def test_every_signed_in_user_previews_a_schedule(api: Api, role: str) -> None:
    """200: the schedule in words and its next three runs in the zone."""
    answer = api.client.get(
        "/api/v1/schedule/preview",
        params={"cron": "30 8 * * MON-FRI", "timezone": "Europe/Paris"},
        headers=api.auth(role),
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["description"] == "At 08:30, Monday to Friday"
    assert len(body["next_runs"]) == len(body["next_runs_text"]) == 3
    assert all(run.endswith(("+01:00", "+02:00")) for run in body["next_runs"])


def test_a_preview_needs_a_signed_in_user(api: Api) -> None:
    """No token, no session: 401."""
    answer = api.client.get("/api/v1/schedule/preview", params={"cron": "0 6 * * *"})

    assert answer.status_code == 401


def test_a_preview_in_french(api: Api) -> None:
    """lang=fr: the description and the times in French."""
    answer = api.client.get(
        "/api/v1/schedule/preview",
        params={"cron": "0 6 * * 0", "timezone": "UTC", "lang": "fr"},
        headers=api.auth(VIEWER),
    )

    assert answer.json()["description"] == "À 06:00, le dimanche"
    assert answer.json()["next_runs_text"][0].startswith("dim. ")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cron": "0 25 * * *"}, "cron"),
        ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"cron": "0 6 * * *", "lang": "de"}, "lang"),
        ({"timezone": "UTC"}, "cron"),
    ],
    ids=["bad cron", "bad zone", "unknown language", "no cron"],
)
def test_a_bad_preview_is_a_422_naming_the_field(
    api: Api, params: dict[str, str], field: str
) -> None:
    """422 in the error shape, ``details.field`` the one to fix; nothing saved."""
    before = api.audit_actions()

    answer = api.client.get(
        "/api/v1/schedule/preview", params=params, headers=api.auth(CONTRIBUTOR)
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["field"] == field
    assert api.audit_actions() == before


def test_a_preview_saves_nothing(api: Api) -> None:
    """The refresh schedule stays as it was."""
    api.client.get(
        "/api/v1/schedule/preview", params={"cron": "0 6 * * *"},
        headers=api.auth(ADMIN),
    )  # fmt: skip

    assert (
        api.client.get("/api/v1/schedule", headers=api.auth(ADMIN)).json()["cron"]
        is None
    )


def test_the_pages_session_cookie_previews(api: Api) -> None:
    """The Add export form's script calls the preview with the page's cookie."""
    sign_in(api.client, CONTRIBUTOR, PASSWORD)

    answer = api.client.get("/api/v1/schedule/preview", params={"cron": "0 6 * * *"})

    assert answer.status_code == 200
    assert answer.json()["timezone"] == "UTC"


def test_the_preview_is_in_the_openapi_document(api: Api) -> None:
    """Documented with its three query parameters."""
    document = api.client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/schedule/preview"]["get"]

    assert {param["name"] for param in operation["parameters"]} == {
        "cron", "timezone", "lang",
    }  # fmt: skip
