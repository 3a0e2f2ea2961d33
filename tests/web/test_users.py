"""``/api/v1/users``: users, roles and API tokens, by role."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Api

ADMIN, CONTRIBUTOR, VIEWER, NOBODY = "admin", "contributor", "viewer", None
ALL = (ADMIN, CONTRIBUTOR, VIEWER, NOBODY)

# (method, path, body, {role: status}, audit action of an allowed change)
ROUTES: list[tuple[str, str, dict[str, Any] | None, dict[str | None, int], str]] = [
    ("GET", "/users", None, {ADMIN: 200, CONTRIBUTOR: 403, VIEWER: 403}, ""),
    (
        "POST",
        "/users",
        {"name": "nina", "role": "viewer"},
        {ADMIN: 201, CONTRIBUTOR: 403, VIEWER: 403},
        "user.add",
    ),
    ("GET", "/users/viewer", None, {ADMIN: 200, CONTRIBUTOR: 403, VIEWER: 200}, ""),
    (
        "PATCH",
        "/users/viewer",
        {"role": "contributor"},
        {ADMIN: 200, CONTRIBUTOR: 403, VIEWER: 403},
        "user.set_role",
    ),
    (
        "DELETE",
        "/users/viewer",
        None,
        {ADMIN: 204, CONTRIBUTOR: 403, VIEWER: 403},
        "user.remove",
    ),
    (
        "GET",
        "/users/viewer/tokens",
        None,
        {ADMIN: 200, CONTRIBUTOR: 403, VIEWER: 200},
        "",
    ),
    (
        "POST",
        "/users/viewer/tokens",
        {"label": "ci"},
        {ADMIN: 201, CONTRIBUTOR: 403, VIEWER: 201},
        "token.create",
    ),
    (
        "DELETE",
        "/users/viewer/tokens/token-1",
        None,
        {ADMIN: 204, CONTRIBUTOR: 403, VIEWER: 204},
        "token.revoke",
    ),
]
CASES = [
    pytest.param(method, path, body, role, statuses.get(role, 401), action, id=name)
    for method, path, body, statuses, action in ROUTES
    for role in ALL
    for name in [f"{method} {path} as {role or 'no token'}"]
]


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "expected", "action"), CASES
)
def test_every_route_and_role(
    api: Api,
    *,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    role: str | None,
    expected: int,
    action: str,
) -> None:
    """Each route answers each role as the role matrix says; changes are audited."""
    before = api.audit_actions()
    answer = api.client.request(
        method, f"/api/v1{path}", json=body, headers=api.auth(role)
    )
    assert answer.status_code == expected, answer.text
    after = api.audit_actions()
    if expected < 300 and action:
        target = "nina" if path == "/users" else "viewer"
        assert after[len(before) :] == [(role, action, target)]
    else:
        assert after == before
    if expected >= 400:
        assert answer.json()["error"]["code"] in {"forbidden", "unauthenticated"}


def test_a_token_revoked_through_the_api_stops_working_at_once(api: Api) -> None:
    """Create a token, use it, revoke it: the next request with it is a 401."""
    created = api.client.post(
        "/api/v1/users/contributor/tokens",
        json={"label": "ci"},
        headers=api.auth(ADMIN),
    ).json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert api.client.get("/api/v1/me", headers=bearer).status_code == 200

    revoked = api.client.delete(
        "/api/v1/users/contributor/tokens/ci", headers=api.auth(ADMIN)
    )

    assert revoked.status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer).status_code == 401
    still = api.client.get("/api/v1/me", headers=api.auth(CONTRIBUTOR))
    assert still.status_code == 200


def test_a_token_can_be_revoked_by_its_last_four_characters(api: Api) -> None:
    """The label's place also takes the token's last 4 characters."""
    created = api.client.post(
        "/api/v1/users/viewer/tokens", headers=api.auth(VIEWER)
    ).json()
    path = f"/api/v1/users/viewer/tokens/{created['last4']}"
    assert api.client.delete(path, headers=api.auth(VIEWER)).status_code == 204
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert api.client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_removed_users_token_is_refused_with_401(api: Api) -> None:
    """Removing a user through the API revokes their tokens at once."""
    assert api.client.get("/api/v1/me", headers=api.auth(VIEWER)).status_code == 200
    removed = api.client.delete("/api/v1/users/viewer", headers=api.auth(ADMIN))
    assert removed.status_code == 204
    answer = api.client.get("/api/v1/me", headers=api.auth(VIEWER))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_the_last_administrator_cannot_be_demoted(api: Api) -> None:
    """409 with the code last_admin, and the role stays."""
    answer = api.client.patch(
        "/api/v1/users/admin", json={"role": "viewer"}, headers=api.auth(ADMIN)
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "last_admin"
    assert answer.json()["error"]["details"] == {"name": "admin"}
    me = api.client.get("/api/v1/me", headers=api.auth(ADMIN)).json()
    assert me["role"] == "admin"


def test_the_last_administrator_cannot_remove_themselves(api: Api) -> None:
    """409: nobody removes themselves, so an administrator always remains."""
    answer = api.client.delete("/api/v1/users/admin", headers=api.auth(ADMIN))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "cannot_remove_self"
    assert api.client.get("/api/v1/me", headers=api.auth(ADMIN)).status_code == 200


def test_an_administrator_is_demoted_when_another_remains(api: Api) -> None:
    """With a second administrator, the first may become a viewer."""
    headers = api.auth(ADMIN)
    promote = {"role": "admin"}
    api.client.patch("/api/v1/users/contributor", json=promote, headers=headers)
    answer = api.client.patch(
        "/api/v1/users/admin", json={"role": "viewer"}, headers=headers
    )
    assert (answer.status_code, answer.json()["role"]) == (200, "viewer")


def test_the_token_is_only_in_the_answer_that_creates_it(api: Api) -> None:
    """Lists, the user, the audit log: none holds the token; only its last 4."""
    headers = api.auth(ADMIN)
    answer = api.client.post(
        "/api/v1/users/viewer/tokens", json={"label": "ci"}, headers=headers
    )
    created = answer.json()
    token = created["token"]
    assert (answer.status_code, created["last4"]) == (201, token[-4:])
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Location"] == "/api/v1/users/viewer/tokens/ci"
    for path in ("/users/viewer/tokens", "/users/viewer", "/users", "/audit"):
        shown = api.client.get(f"/api/v1{path}?limit=500", headers=headers).text
        assert token not in shown
        assert token[3:20] not in shown
    listed = api.client.get("/api/v1/users/viewer/tokens", headers=headers).json()
    assert {"token", "warning"}.isdisjoint(listed["items"][0])


def test_add_answers_the_user_with_its_location(api: Api) -> None:
    """201, the user's view, and Location: /api/v1/users/NAME."""
    answer = api.client.post(
        "/api/v1/users",
        json={"name": "nina", "role": "contributor", "email": "Nina@Example.com"},
        headers=api.auth(ADMIN),
    )
    assert answer.status_code == 201
    assert answer.headers["Location"] == "/api/v1/users/nina"
    user = answer.json()
    assert (user["name"], user["role"], user["email"]) == (
        "nina",
        "contributor",
        "nina@example.com",
    )
    assert (user["active"], user["has_password"], user["created_by"]) == (
        True,
        False,
        "admin",
    )


def test_a_password_is_never_answered(api: Api) -> None:
    """A user added with a password shows only that it has one."""
    password = "correct horse battery"
    answer = api.client.post(
        "/api/v1/users",
        json={"name": "nina", "role": "viewer", "password": password},
        headers=api.auth(ADMIN),
    )
    assert answer.json()["has_password"] is True
    assert password not in answer.text


def test_patch_sets_and_clears_the_email_and_keeps_what_is_left_out(api: Api) -> None:
    """A field left out stays; "email": null clears the address."""
    headers = api.auth(ADMIN)
    path = "/api/v1/users/viewer"
    set_ = api.client.patch(path, json={"email": "v@example.com"}, headers=headers)
    kept = api.client.patch(path, json={"role": "contributor"}, headers=headers)
    cleared = api.client.patch(path, json={"email": None}, headers=headers)
    assert set_.json()["email"] == "v@example.com"
    assert (kept.json()["email"], kept.json()["role"]) == (
        "v@example.com",
        "contributor",
    )
    assert (cleared.json()["email"], cleared.json()["role"]) == (None, "contributor")
    actions = [act for _, act, target in api.audit_actions() if target == "viewer"]
    assert actions[-3:] == ["user.set_email", "user.set_role", "user.set_email"]


def test_a_patch_with_a_bad_email_changes_nothing(api: Api) -> None:
    """Role and address change together or not at all."""
    answer = api.client.patch(
        "/api/v1/users/viewer",
        json={"role": "contributor", "email": "not an address"},
        headers=api.auth(ADMIN),
    )
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (422, "user_email_invalid")
    shown = api.client.get("/api/v1/users/viewer", headers=api.auth(ADMIN)).json()
    assert shown["role"] == "viewer"


def test_a_removed_user_is_shown_and_cannot_be_changed(api: Api) -> None:
    """GET shows the removed user; PATCH and DELETE answer 409."""
    headers = api.auth(ADMIN)
    api.client.delete("/api/v1/users/viewer", headers=headers)
    shown = api.client.get("/api/v1/users/viewer", headers=headers).json()
    assert (shown["active"], shown["removed_at"] is not None) == (False, True)
    patch = api.client.patch(
        "/api/v1/users/viewer", json={"role": "admin"}, headers=headers
    )
    assert patch.status_code == 409
    assert api.client.delete("/api/v1/users/viewer", headers=headers).status_code == 409


def test_list_pages_through_the_users(api: Api) -> None:
    """limit and offset pick a page; total counts every user."""
    answer = api.client.get(
        "/api/v1/users?limit=1&offset=1", headers=api.auth(ADMIN)
    ).json()
    assert (answer["total"], answer["limit"], answer["offset"]) == (3, 1, 1)
    assert [user["name"] for user in answer["items"]] == ["contributor"]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected", "code"),
    [
        ("POST", "/users", {"name": "nina", "role": "boss"}, 422, "invalid_request"),
        (
            "POST",
            "/users",
            {"name": "ni\x00na", "role": "viewer"},
            422,
            "invalid_request",
        ),
        ("POST", "/users", {"name": "x" * 300, "role": "viewer"}, 422, None),
        ("POST", "/users", {"name": "nina", "role": "viewer", "x": 1}, 422, None),
        ("POST", "/users", {"name": "Viewer", "role": "viewer"}, 409, "name_taken"),
        ("POST", "/users", {"name": "n", "role": "viewer", "password": "s"}, 422, None),
        ("GET", "/users/zoe", None, 404, "user_not_found"),
        ("GET", "/users/a%00b", None, 422, "invalid_request"),
        ("PATCH", "/users/zoe", {"role": "viewer"}, 404, "user_not_found"),
        ("PATCH", "/users/viewer", {"role": "viewer", "name": "x"}, 422, None),
        ("DELETE", "/users/zoe", None, 404, "user_not_found"),
        ("POST", "/users/viewer/tokens", {"label": "a\x00b"}, 422, "invalid_request"),
        ("POST", "/users/viewer/tokens", {"label": "token-1"}, 409, "conflict"),
        ("DELETE", "/users/viewer/tokens/nope", None, 404, "not_found"),
        ("DELETE", "/users/viewer/tokens/a%2Fb", None, 404, "not_found"),
        ("GET", "/users?limit=0", None, 422, "invalid_request"),
        ("GET", "/users?offset=99999999999999999999", None, 422, "invalid_request"),
    ],
)
def test_odd_input_is_a_4xx_in_the_error_shape(
    api: Api,
    *,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: int,
    code: str | None,
) -> None:
    """Bad names, roles, labels and numbers: a 4xx with the error shape."""
    answer = api.client.request(
        method, f"/api/v1{path}", json=body, headers=api.auth(ADMIN)
    )
    assert answer.status_code == expected, answer.text
    if code is not None:
        assert answer.json()["error"]["code"] == code
