"""The web pages: signing in and out, CSRF, the language, and the exports page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Api
from tests.web.exports_setup import SHARED, add_connections, add_profiles_and_segments

PASSWORD = "correct horse 1"  # the template's contributor and viewer


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; the page it lands on."""
    form = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={"name": name, "password": password, "csrf": _csrf(form.text),
              "next": "/exports"},
    )  # fmt: skip
    return answer.text


def test_signing_in_shows_the_exports_page(api: Api) -> None:
    """The right password leads to Data > Exports, naming the user."""
    page = sign_in(api.client, "contributor")

    assert "<h1>Exports</h1>" in page
    assert "Signed in as contributor" in page


def test_a_wrong_password_is_said_next_to_the_form(api: Api) -> None:
    """401, the sign-in form again with the error, and no session user."""
    form = api.client.get("/sign-in")
    answer = api.client.post(
        "/sign-in",
        data={"name": "contributor", "password": "nope", "csrf": _csrf(form.text)},
    )

    assert answer.status_code == 401
    assert 'role="alert"' in answer.text
    assert "Wrong user name or password." in answer.text
    assert api.client.get("/exports", follow_redirects=False).status_code == 303


def test_a_sign_in_without_the_forms_token_is_refused(api: Api) -> None:
    """A POST from another site (no CSRF token) signs nobody in."""
    answer = api.client.post(
        "/sign-in", data={"name": "contributor", "password": PASSWORD}
    )

    assert answer.status_code == 403
    assert api.client.get("/exports", follow_redirects=False).status_code == 303


def test_a_page_without_a_session_sends_to_sign_in_and_back(api: Api) -> None:
    """/exports signed out: 303 to /sign-in?next=/exports."""
    answer = api.client.get("/exports", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/exports"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", ""])
def test_signing_in_never_sends_elsewhere(api: Api, target: str) -> None:
    """A next page off this site is replaced by the exports page."""
    form = api.client.get("/sign-in")
    answer = api.client.post(
        "/sign-in",
        data={"name": "viewer", "password": PASSWORD, "csrf": _csrf(form.text),
              "next": target},
        follow_redirects=False,
    )  # fmt: skip

    assert answer.headers["location"] == "/exports"


def test_signing_out_ends_the_session(api: Api) -> None:
    """Sign out (with the token): the pages ask to sign in again."""
    page = sign_in(api.client, "viewer")

    api.client.post("/sign-out", data={"csrf": _csrf(page)})

    assert api.client.get("/exports", follow_redirects=False).status_code == 303


def test_a_removed_user_is_signed_out_at_once(api: Api) -> None:
    """The session names a user who was removed since: back to sign in."""
    sign_in(api.client, "viewer")
    with api.workspace() as workspace:
        workspace.users.remove("viewer")

    assert api.client.get("/exports", follow_redirects=False).status_code == 303


def test_the_browsers_language_chooses_french(api: Api) -> None:
    """Accept-Language: fr gives the French page, dates and words."""
    page = api.client.get("/sign-in", headers={"Accept-Language": "fr-FR,fr;q=0.9"})

    assert '<html lang="fr">' in page.text
    assert "<h1>Se connecter</h1>" in page.text


def test_the_language_switch_is_remembered(api: Api) -> None:
    """The switch sets a cookie that wins over the browser's language."""
    api.client.post("/language", data={"lang": "fr", "back": "/sign-in"})

    page = api.client.get("/sign-in", headers={"Accept-Language": "en"})

    assert "<h1>Se connecter</h1>" in page.text


def test_an_empty_exports_page_says_so_in_french(api: Api) -> None:
    """No export yet: the page says it, in the chosen language."""
    api.client.post("/language", data={"lang": "fr", "back": "/exports"})

    page = sign_in(api.client, "contributor")

    assert "<h1>Exportations</h1>" in page
    assert "Aucune exportation pour l\u2019instant." in page


def test_the_exports_page_lists_the_exports_a_user_may_see(api: Api) -> None:
    """Each export with its connection and segments, counted in words."""
    add_profiles_and_segments(api)
    add_connections(api)
    api.client.post(
        "/api/v1/exports",
        json={"name": "Newsletter <b>", "connection": SHARED, "email_field": "email",
              "segments": ["France", "Germany"]},
        headers=api.auth("admin"),
    )  # fmt: skip

    page = sign_in(api.client, "viewer")

    assert "Newsletter &lt;b&gt;" in page  # escaped, never markup
    assert "2 segments: France, Germany" in page


def test_an_unknown_page_is_a_page_saying_so(api: Api) -> None:
    """404 as HTML with a way back, in the browser's language; the API keeps JSON."""
    page = api.client.get("/nowhere", headers={"Accept-Language": "fr"})
    api_answer = api.client.get("/api/v1/nowhere", headers=api.auth("admin"))

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Cette page n\u2019existe pas" in page.text
    assert 'href="/exports"' in page.text
    assert api_answer.json()["error"]["code"] == "not_found"


def test_the_navigation_offers_users_and_audit_to_administrators_only(api: Api) -> None:
    """A contributor's menu has no Users or Audit log; System and Connections stay."""
    page = sign_in(api.client, "contributor")

    assert 'href="/system"' in page
    assert 'href="/connections"' in page
    assert 'href="/users"' not in page
    assert 'href="/audit"' not in page
