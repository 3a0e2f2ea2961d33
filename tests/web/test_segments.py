"""``/api/v1/segments``: each route by role, ETags, stale edits, bad input, names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from audiencesync.settings import Settings
from tests.web.conftest import Api
from tests.web.profile_data import FRANCE, FRANCE_WHERE, create_france, load_profiles

ROLES = ("admin", "contributor", "viewer", None)
EDITORS = {"admin", "contributor"}


@pytest.fixture
def seg_api(api: Api, settings: Settings, tmp_path: Path) -> Api:
    """The API with profiles loaded and the segment France saved."""
    load_profiles(settings, tmp_path)
    create_france(api)
    return api


@dataclass(frozen=True)
class Route:
    """One route call, who may make it, and the audit event it writes."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    editors_only: bool = False
    status: int = 200
    audit: tuple[str, str] | None = None


ROUTES = (
    Route("GET", "/segments"),
    Route(
        "POST",
        "/segments",
        {"name": "Germany", "where": "country = 'DE'"},
        editors_only=True,
        status=201,
        audit=("segment.create", "Germany"),
    ),
    Route("GET", f"/segments/{FRANCE}"),
    Route(
        "PATCH",
        f"/segments/{FRANCE}",
        {"description": "French customers"},
        editors_only=True,
        audit=("segment.edit", FRANCE),
    ),
    Route(
        "DELETE",
        f"/segments/{FRANCE}",
        editors_only=True,
        status=204,
        audit=("segment.delete", FRANCE),
    ),
    Route("GET", f"/segments/{FRANCE}/preview?limit=1", editors_only=True),
    Route("GET", f"/segments/{FRANCE}/counts"),
    Route("GET", f"/segments/{FRANCE}/explain?key=C1", editors_only=True),
    Route("POST", "/segments/validate", {"where": FRANCE_WHERE}, editors_only=True),
)


def _expected(route: Route, role: str | None) -> int:
    if role is None:
        return 401
    if route.editors_only and role not in EDITORS:
        return 403
    return route.status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_answers_each_role(
    seg_api: Api, route: Route, role: str | None
) -> None:
    """Status by role; an allowed change writes its audit event as that user."""
    before = seg_api.audit_actions()
    answer = seg_api.client.request(
        route.method,
        f"/api/v1{route.path}",
        json=route.body,
        headers=seg_api.auth(role),
    )
    assert answer.status_code == _expected(route, role), answer.text
    added = seg_api.audit_actions()[len(before) :]
    if route.audit is not None and answer.status_code < 300:
        assert added == [(str(role), *route.audit)]
    else:
        assert added == []


def test_create_answers_location_and_etag(seg_api: Api) -> None:
    """201 with the new segment's URL and its revision as the ETag."""
    answer = seg_api.client.post(
        "/api/v1/segments",
        json={
            "name": "Big spenders",
            "rules": {"field": "lifetime_value", "op": ">", "value": 1000},
        },
        headers=seg_api.auth("contributor"),
    )
    assert answer.status_code == 201
    assert answer.headers["Location"] == "/api/v1/segments/Big%20spenders"
    assert answer.headers["ETag"] == '"1"'
    assert answer.json()["member_count"] == 3


def test_get_one_has_the_etag_and_the_history(seg_api: Api) -> None:
    """GET one: ETag "1" and the counts history."""
    answer = seg_api.client.get(
        f"/api/v1/segments/{FRANCE}", headers=seg_api.auth("viewer")
    )
    assert answer.headers["ETag"] == '"1"'
    assert [entry["member_count"] for entry in answer.json()["history"]] == [2]


def test_an_edit_with_the_current_etag_applies_and_moves_it(seg_api: Api) -> None:
    """If-Match with the ETag read: applied, and the new ETag is answered."""
    answer = seg_api.client.patch(
        f"/api/v1/segments/{FRANCE}",
        json={"where": "country = 'DE'"},
        headers={**seg_api.auth("admin"), "If-Match": '"1"'},
    )
    assert answer.status_code == 200
    assert answer.headers["ETag"] == '"2"'
    assert answer.json()["member_count"] == 1


def test_an_edit_with_a_stale_etag_is_refused_with_412(seg_api: Api) -> None:
    """A second edit with the first ETag is refused; nothing changes."""
    headers = {**seg_api.auth("admin"), "If-Match": '"1"'}
    path = f"/api/v1/segments/{FRANCE}"
    assert (
        seg_api.client.patch(
            path, json={"description": "a"}, headers=headers
        ).status_code
        == 200
    )
    stale = seg_api.client.patch(path, json={"description": "b"}, headers=headers)
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "stale_edit"
    assert seg_api.client.get(path, headers=headers).json()["description"] == "a"


def test_a_delete_with_a_stale_etag_is_refused_with_412(seg_api: Api) -> None:
    """DELETE with an old If-Match keeps the segment."""
    path = f"/api/v1/segments/{FRANCE}"
    headers = seg_api.auth("admin")
    seg_api.client.patch(path, json={"description": "a"}, headers=headers)
    stale = seg_api.client.delete(path, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert seg_api.client.get(path, headers=headers).status_code == 200


def test_an_if_match_that_is_not_an_etag_is_refused_with_412(seg_api: Api) -> None:
    """If-Match must be a revision ETag."""
    answer = seg_api.client.patch(
        f"/api/v1/segments/{FRANCE}",
        json={"description": "a"},
        headers={**seg_api.auth("admin"), "If-Match": "yesterday"},
    )
    assert answer.status_code == 412


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "where": "nope = 1"}, "where"),
        ({"name": "X", "where": "country = "}, "where"),
        ({"name": "X", "where": "1; DROP TABLE customers"}, "where"),
        ({"name": "X", "rules": {"field": "nope", "op": "=", "value": 1}}, "rules"),
        (
            {
                "name": "X",
                "rules": {"field": "country", "op": "sounds_like", "value": "x"},
            },
            "rules",
        ),
        ({"name": "X", "rules": {"all": "nope"}}, "rules"),
        ({"name": "X", "where": "country = 'FR'", "rules": {"all": []}}, "where"),
        ({"name": "X"}, "where"),
        ({"name": "   ", "where": FRANCE_WHERE}, "name"),
        ({"name": "tab\there", "where": FRANCE_WHERE}, "name"),
    ],
)
def test_a_bad_definition_is_422_with_its_field(
    seg_api: Api, body: dict[str, Any], field: str
) -> None:
    """A rule or condition that does not fit is refused with the field named."""
    answer = seg_api.client.post(
        "/api/v1/segments", json=body, headers=seg_api.auth("admin")
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["field"] == field


def test_an_unknown_field_in_the_body_is_422(seg_api: Api) -> None:
    """Bodies allow no extra keys."""
    answer = seg_api.client.post(
        "/api/v1/segments",
        json={"name": "X", "where": FRANCE_WHERE, "colour": "red"},
        headers=seg_api.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"


def test_a_patch_with_nothing_to_change_is_422(seg_api: Api) -> None:
    """An empty edit is refused, not a silent new revision."""
    answer = seg_api.client.patch(
        f"/api/v1/segments/{FRANCE}", json={}, headers=seg_api.auth("admin")
    )
    assert answer.status_code == 422


def test_a_taken_name_is_409(seg_api: Api) -> None:
    """Names are unique, ignoring case."""
    answer = seg_api.client.post(
        "/api/v1/segments",
        json={"name": "FRANCE", "where": FRANCE_WHERE},
        headers=seg_api.auth("admin"),
    )
    assert answer.status_code == 409


@pytest.mark.parametrize(
    "name",
    ["Café crème ☕", "VIP customers in France", "EU/FR: top", "a" * 255, "100% ?&#"],
)
def test_odd_names_round_trip_through_the_url(seg_api: Api, name: str) -> None:
    """Unicode, spaces, slashes and reserved characters, URL-encoded, all work."""
    headers = seg_api.auth("admin")
    created = seg_api.client.post(
        "/api/v1/segments", json={"name": name, "where": FRANCE_WHERE}, headers=headers
    )
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    assert url == f"/api/v1/segments/{quote(name, safe='')}"
    assert seg_api.client.get(url, headers=headers).json()["name"] == name
    assert seg_api.client.get(f"{url}/counts", headers=headers).status_code == 200
    assert seg_api.client.get(f"{url}/preview", headers=headers).status_code == 200
    assert seg_api.client.delete(url, headers=headers).status_code == 204
    assert seg_api.client.get(url, headers=headers).status_code == 404


def test_a_300_character_name_is_422(seg_api: Api) -> None:
    """Names longer than 255 characters are refused."""
    answer = seg_api.client.post(
        "/api/v1/segments",
        json={"name": "a" * 300, "where": FRANCE_WHERE},
        headers=seg_api.auth("admin"),
    )
    assert answer.status_code == 422


def test_an_unknown_or_huge_name_in_the_url_is_404(seg_api: Api) -> None:
    """A name nobody saved, even 300 characters of it, is 404 (with NUL: 422)."""
    headers = seg_api.auth("admin")
    for name, status in (("Nowhere", 404), ("a" * 300, 404), ("x\u0000y", 422)):
        answer = seg_api.client.get(
            f"/api/v1/segments/{quote(name, safe='')}", headers=headers
        )
        assert answer.status_code == status, name


def test_a_nul_byte_in_a_body_is_never_a_500(seg_api: Api) -> None:
    """NUL bytes: refused in a name, a plain value in a condition; never a 500."""
    headers = seg_api.auth("admin")
    for body in (
        {"name": "a\u0000b", "where": FRANCE_WHERE},
        {"name": "ab", "where": "country = 'F\u0000R'"},
        {"name": "cd", "rules": {"field": "country", "op": "=", "value": "F\u0000"}},
    ):
        answer = seg_api.client.post("/api/v1/segments", json=body, headers=headers)
        assert answer.status_code in {201, 422}, answer.text
        if "\u0000" in body["name"]:
            assert answer.status_code == 422


def test_a_huge_number_in_rules_is_4xx(seg_api: Api) -> None:
    """A number far out of range is refused or counted, never a 500."""
    answer = seg_api.client.post(
        "/api/v1/segments",
        json={
            "name": "Huge",
            "rules": {"field": "lifetime_value", "op": ">", "value": 10**400},
        },
        headers=seg_api.auth("admin"),
    )
    assert answer.status_code in {201, 422}, answer.text


def test_list_pages(seg_api: Api) -> None:
    """limit and offset page the list; total counts them all."""
    headers = seg_api.auth("viewer")
    for name in ("A", "B"):
        seg_api.client.post(
            "/api/v1/segments",
            json={"name": name, "where": FRANCE_WHERE},
            headers=seg_api.auth("admin"),
        )
    page = seg_api.client.get(
        "/api/v1/segments?limit=2&offset=1", headers=headers
    ).json()
    assert [item["name"] for item in page["items"]] == ["B", FRANCE]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "limit=x"])
def test_bad_paging_is_422(seg_api: Api, query: str) -> None:
    """Paging parameters out of range are refused."""
    answer = seg_api.client.get(
        f"/api/v1/segments?{query}", headers=seg_api.auth("admin")
    )
    assert answer.status_code == 422


def test_preview_limit_out_of_range_is_422(seg_api: Api) -> None:
    """The preview limit is 1 to 10,000."""
    answer = seg_api.client.get(
        f"/api/v1/segments/{FRANCE}/preview?limit=10001", headers=seg_api.auth("admin")
    )
    assert answer.status_code == 422


def test_validate_reports_the_count_and_saves_nothing(seg_api: Api) -> None:
    """A valid definition: its member count; no segment and no audit event."""
    before = seg_api.audit_actions()
    answer = seg_api.client.post(
        "/api/v1/segments/validate",
        json={"rules": {"field": "country", "op": "in", "value": ["FR", "DE"]}},
        headers=seg_api.auth("contributor"),
    )
    assert answer.json()["valid"] is True
    assert answer.json()["member_count"] == 3
    assert seg_api.audit_actions() == before
    names = seg_api.client.get("/api/v1/segments", headers=seg_api.auth("admin")).json()
    assert [item["name"] for item in names["items"]] == [FRANCE]


def test_validate_reports_an_invalid_definition_with_its_field(seg_api: Api) -> None:
    """An unknown column: valid false, the error code, message and field."""
    answer = seg_api.client.post(
        "/api/v1/segments/validate",
        json={"where": "nope = 1"},
        headers=seg_api.auth("admin"),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["valid"], body["code"], body["field"]) == (
        False,
        "unknown_column",
        "where",
    )
    assert "nope" in body["message"]


def test_explain_of_an_unknown_key_is_404_without_the_key(seg_api: Api) -> None:
    """The key may be an email: the error never repeats it."""
    answer = seg_api.client.get(
        f"/api/v1/segments/{FRANCE}/explain",
        params={"key": "someone@example.com"},
        headers=seg_api.auth("admin"),
    )
    assert answer.status_code == 404
    assert "someone" not in answer.text


def test_explain_says_why_a_profile_is_out(seg_api: Api) -> None:
    """C3 lives in DE: not a member, the condition false."""
    answer = seg_api.client.get(
        f"/api/v1/segments/{FRANCE}/explain?key=C3", headers=seg_api.auth("contributor")
    )
    body = answer.json()
    assert body["member"] is False
    assert body["steps"]["result"] is False
