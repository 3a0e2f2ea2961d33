"""``/api/v1/exports``: every route and role, connection sharing, ETags.

"Newsletter" is on the connection shared with contributors, "Private" on the one
kept for administrators.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier
from typing import Any

import httpx2
import pytest

from tests.web.conftest import Api
from tests.web.exports_setup import (
    ADMINS_ONLY,
    SHARED,
    add_connections,
    add_profiles_and_segments,
)

NEWSLETTER = "/api/v1/exports/Newsletter"
PRIVATE = "/api/v1/exports/Private"


def new_export(name: str, connection: str, *segments: str) -> dict[str, Any]:
    """The body of ``POST /exports`` with the email column and ``segments``."""
    return {
        "name": name,
        "connection": connection,
        "email_field": "email",
        "segments": list(segments),
    }


@pytest.fixture
def exports(api: Api) -> Api:
    """The API with profiles, segments, both connections and both exports."""
    add_profiles_and_segments(api)
    add_connections(api)
    for body in (
        new_export("Newsletter", SHARED, "France"),
        new_export("Private", ADMINS_ONLY, "Germany"),
    ):
        answer = api.client.post(
            "/api/v1/exports", json=body, headers=api.auth("admin")
        )
        assert answer.status_code == 201, answer.text
    return api


@dataclass(frozen=True)
class Case:
    """One route: the request, what each role gets, and the change's audit event."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    writer_status: int = 200
    event: str | None = None


CASES = {
    "list": Case("GET", "/api/v1/exports"),
    "add": Case(
        "POST",
        "/api/v1/exports",
        new_export("Weekly", SHARED, "Germany"),
        201,
        "export.add",
    ),
    "show": Case("GET", NEWSLETTER),
    "edit": Case("PATCH", NEWSLETTER, {"mode": "add-only"}, event="export.edit"),
    "remove": Case("DELETE", NEWSLETTER, writer_status=204, event="export.remove"),
    "detach": Case("POST", f"{NEWSLETTER}/detach", event="export.detach"),
}
READS = {"list", "show"}
ROLES = ("admin", "contributor", "viewer", None)


def expected_status(route: str, role: str | None) -> int:
    """Readers read; administrators and contributors change; no token is 401."""
    if role is None:
        return 401
    if route in READS:
        return 200
    return 403 if role == "viewer" else CASES[route].writer_status


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("route", list(CASES))
def test_every_route_answers_each_role(
    exports: Api, route: str, role: str | None
) -> None:
    """The status of each role, and the audit event of each allowed change."""
    case = CASES[route]
    before = exports.audit_actions()
    answer = exports.client.request(
        case.method, case.path, json=case.body, headers=exports.auth(role)
    )
    assert answer.status_code == expected_status(route, role), answer.text
    events = exports.audit_actions()[len(before) :]
    if answer.is_success and case.event is not None:
        target = (
            case.body["name"] if case.body and "name" in case.body else "Newsletter"
        )
        assert events == [(role, case.event, target)]
    else:
        assert events == []


CONTRIBUTOR_REFUSED: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "add": ("POST", "/api/v1/exports", new_export("Weekly", ADMINS_ONLY, "Germany")),
    "edit": ("PATCH", PRIVATE, {"mode": "add-only"}),
    "remove": ("DELETE", PRIVATE, None),
    "detach": ("POST", f"{PRIVATE}/detach", None),
    "move-there": ("PATCH", NEWSLETTER, {"connection": ADMINS_ONLY}),
}


@pytest.mark.parametrize("change", list(CONTRIBUTOR_REFUSED))
def test_a_contributor_cannot_touch_an_admin_only_connection(
    exports: Api, change: str
) -> None:
    """403 with the reason; nothing changes and nothing is audited."""
    before = exports.audit_actions()
    method, path, body = CONTRIBUTOR_REFUSED[change]
    answer = exports.client.request(
        method, path, json=body, headers=exports.auth("contributor")
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "forbidden"
    assert exports.audit_actions() == before


def test_a_contributor_reads_an_admin_only_export(exports: Api) -> None:
    """Reading is for everyone."""
    answer = exports.client.get(PRIVATE, headers=exports.auth("contributor"))
    assert answer.status_code == 200
    assert answer.json()["connection"] == ADMINS_ONLY


def test_add_answers_201_with_counts_location_and_etag(exports: Api) -> None:
    """The saved export, each segment's member count, its URL and revision."""
    answer = exports.client.post(
        "/api/v1/exports",
        json=new_export("Weekly mail", SHARED, "Germany") | {"mode": "add-only"},
        headers=exports.auth("contributor"),
    )
    assert answer.status_code == 201, answer.text
    saved = answer.json()
    assert (saved["member_counts"], saved["mode"]) == ({"Germany": 1}, "add-only")
    assert answer.headers["Location"] == "/api/v1/exports/Weekly%20mail"
    assert answer.headers["ETag"] == f'"{saved["revision"]}"'


@pytest.mark.parametrize("name", ["EU/FR weekly", "x/detach", "x/runs"])
def test_an_export_named_with_slashes_is_shown_detached_and_run(
    exports: Api, name: str
) -> None:
    """A "/" in a name (even before a route's own word) reaches that export."""
    headers = exports.auth("admin")
    body = new_export(name, SHARED, "Germany")
    created = exports.client.post("/api/v1/exports", json=body, headers=headers)
    url = created.headers["Location"]

    assert exports.client.get(url, headers=headers).json()["name"] == name
    detached = exports.client.post(f"{url}/detach", headers=headers)
    assert detached.status_code == 200, detached.text
    assert exports.client.get(url, headers=headers).json()["connection"] is None
    run = exports.client.post(f"{url}/runs", headers=headers)  # detached: refused
    assert run.status_code == 409, run.text
    assert run.json()["error"]["details"] == {"export": name}


def test_list_is_a_page(exports: Api) -> None:
    """limit and offset cut the list; total counts all of it."""
    answer = exports.client.get(
        "/api/v1/exports?limit=1&offset=1", headers=exports.auth("viewer")
    )
    page = answer.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 1)
    assert [item["name"] for item in page["items"]] == ["Private"]


@pytest.mark.parametrize(
    "body",
    [
        {"segments": []},
        {"removal_brake": 10**30},
        {"drift_threshold": -1},
        {"email_field": None},
        {"name": "x" * 300},
        {"schedule": "\x00"},
        {"colour": "red"},
    ],
    ids=["no-segments", "huge", "negative", "null", "long", "nul", "extra"],
)
def test_odd_edits_are_422(exports: Api, body: dict[str, Any]) -> None:
    """Invalid input is a 422 naming the field, never a 500."""
    answer = exports.client.patch(NEWSLETTER, json=body, headers=exports.auth("admin"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["fields"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email_field": "no_such_column"}, 404, "not_found"),
        ({"segments": ["Nowhere"]}, 404, "segment_not_found"),
        ({"connection": "Nowhere"}, 404, "connection_not_found"),
        ({"schedule": "every full moon"}, 422, "invalid_cron"),
        ({"timezone": "Mars/Base"}, 422, "unknown_timezone"),
        ({"mode": "sometimes"}, 422, "invalid"),
        ({"name": "a\u200bb"}, 422, "invalid"),
        ({}, 422, "nothing_to_change"),
    ],
    ids=["column", "segment", "connection", "schedule", "zone", "mode", "name", "none"],
)
def test_edits_the_service_refuses_answer_its_code(
    exports: Api, body: dict[str, Any], status: int, code: str
) -> None:
    """The service's checks answer in the error shape with their code."""
    before = exports.audit_actions()
    answer = exports.client.patch(NEWSLETTER, json=body, headers=exports.auth("admin"))
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert exports.audit_actions() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"removal_brake": 150}, "removal_brake"),
        ({"name": "  "}, "name"),
        ({"segments": ["France", "france"]}, "segments"),
        ({"fields": {"email": "email"}}, "fields"),
    ],
    ids=["brake", "blank name", "segment twice", "identifier field"],
)
def test_a_refused_setting_names_its_field_and_no_flag(
    exports: Api, body: dict[str, Any], field: str
) -> None:
    """A refused setting is a 422 naming its API field; the message names no flag."""
    answer = exports.client.patch(NEWSLETTER, json=body, headers=exports.auth("admin"))
    error = answer.json()["error"]
    assert (answer.status_code, error["details"]["field"]) == (422, field)
    assert "--" not in error["message"]


def test_null_clears_an_optional_mapping(exports: Api) -> None:
    """``user_id_field: null`` maps no userId; leaving it out keeps it."""
    headers = exports.auth("admin")
    set_it = exports.client.patch(
        NEWSLETTER, json={"user_id_field": "crm_id"}, headers=headers
    )
    assert set_it.json()["user_id_field"] == "crm_id"
    kept = exports.client.patch(NEWSLETTER, json={"mode": "add-only"}, headers=headers)
    assert kept.json()["user_id_field"] == "crm_id"
    cleared = exports.client.patch(
        NEWSLETTER, json={"user_id_field": None}, headers=headers
    )
    assert cleared.json()["user_id_field"] is None


def test_rename_moves_the_export(exports: Api) -> None:
    """A new name: the old URL is gone, the new one answers."""
    headers = exports.auth("admin")
    answer = exports.client.patch(NEWSLETTER, json={"name": "Letters"}, headers=headers)
    assert answer.json()["name"] == "Letters"
    assert exports.client.get(NEWSLETTER, headers=headers).status_code == 404
    assert exports.client.get("/api/v1/exports/letters", headers=headers).is_success


# --- optimistic edits -----------------------------------------------------------


def etag(api: Api, path: str = NEWSLETTER) -> str:
    """The export's ETag as GET answers it."""
    return api.client.get(path, headers=api.auth("viewer")).headers["ETag"]


def bump(api: Api) -> None:
    """Change Newsletter once (its revision moves)."""
    answer = api.client.patch(
        NEWSLETTER, json={"removal_brake": 30}, headers=api.auth("admin")
    )
    assert answer.status_code == 200


EDITS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "patch": ("PATCH", NEWSLETTER, {"mode": "add-only"}),
    "delete": ("DELETE", NEWSLETTER, None),
    "detach": ("POST", f"{NEWSLETTER}/detach", None),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_stale_if_match_is_412_and_changes_nothing(exports: Api, edit: str) -> None:
    """An edit with an old ETag is refused: 412 stale_edit, no event."""
    old = etag(exports)
    bump(exports)
    before = exports.audit_actions()
    method, path, body = EDITS[edit]
    headers = exports.auth("contributor") | {"If-Match": old}
    answer = exports.client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 412, answer.text
    assert answer.json()["error"]["code"] == "stale_edit"
    assert exports.audit_actions() == before


SEGMENT_EDITS: dict[str, Callable[[Api], httpx2.Response]] = {
    "segments": lambda api: api.client.patch(
        NEWSLETTER, json={"segments": ["France", "Germany"]}, headers=api.auth("admin")
    ),
    "fields": lambda api: api.client.patch(
        NEWSLETTER,
        json={"fields": {"ltv": "lifetime_value"}},
        headers=api.auth("admin"),
    ),
    "detach": lambda api: api.client.post(
        f"{NEWSLETTER}/detach", headers=api.auth("admin")
    ),
}


@pytest.mark.parametrize("edit", list(SEGMENT_EDITS))
def test_every_edit_moves_the_etag(exports: Api, edit: str) -> None:
    """Changing only the segment list (or fields, or detaching) moves the revision."""
    before = etag(exports)
    answer = SEGMENT_EDITS[edit](exports)
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] != before
    assert etag(exports) == answer.headers["ETag"]


def test_a_current_if_match_applies(exports: Api) -> None:
    """With the ETag just read, the edit applies and answers the next one."""
    headers = exports.auth("admin") | {"If-Match": etag(exports)}
    answer = exports.client.patch(
        NEWSLETTER, json={"mode": "add-only"}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.headers["ETag"] == etag(exports)


def test_two_concurrent_edits_with_one_etag_one_wins(exports: Api) -> None:
    """Two PATCHes sent together with the same If-Match: one 200, one 412."""
    headers = exports.auth("admin") | {"If-Match": etag(exports)}
    start = Barrier(2)

    def patch(brake: int) -> int:
        start.wait()
        body = {"removal_brake": brake}
        return exports.client.patch(NEWSLETTER, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(patch, [40, 50]))
    assert statuses == [200, 412]
    edits = [a for _, a, target in exports.audit_actions() if a == "export.edit"]
    assert len(edits) == 1
