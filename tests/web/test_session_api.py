"""The API by the pages' session cookie: reads as its user; changes need CSRF."""

from __future__ import annotations

import re

from tests.web.conftest import Api
from tests.web.exports_setup import add_profiles_and_segments
from tests.web.test_pages import sign_in

VALID = {"where": "country = 'FR'"}


def _page_csrf(api: Api) -> str:
    found = re.search(
        r'name="csrf-token" content="([^"]+)"', api.client.get("/exports").text
    )
    assert found is not None
    return found.group(1)


def test_a_signed_in_browser_reads_the_api_as_its_user(api: Api) -> None:
    """GET /api/v1/me with the session cookie and no token names the user."""
    sign_in(api.client, "viewer")

    answer = api.client.get("/api/v1/me")

    assert answer.status_code == 200
    assert answer.json()["name"] == "viewer"


def test_a_change_by_cookie_without_the_csrf_header_is_refused(api: Api) -> None:
    """POST by cookie alone is 403 csrf_missing (another site could send it)."""
    sign_in(api.client, "contributor")

    answer = api.client.post("/api/v1/segments/validate", json=VALID)

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "csrf_missing"


def test_a_change_by_cookie_with_the_pages_csrf_header_is_done(api: Api) -> None:
    """POST with the page's X-CSRF-Token header acts as the signed-in user."""
    add_profiles_and_segments(api)
    sign_in(api.client, "contributor")

    answer = api.client.post(
        "/api/v1/segments/validate", json=VALID,
        headers={"X-CSRF-Token": _page_csrf(api)},
    )  # fmt: skip

    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is True


def test_a_signed_out_cookie_is_unauthenticated(api: Api) -> None:
    """A session without a user (signed out) reads nothing: 401."""
    api.client.get("/sign-in")  # an anonymous session cookie

    answer = api.client.get("/api/v1/me")

    assert answer.status_code == 401
