"""Administrator > Users in the pages: list, add, role and e-mail, password, remove."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from audiencesync.auth.directory import authenticate_password
from audiencesync.auth.roles import Role
from audiencesync.store.accounts import ApiToken, User
from tests.web.conftest import Api
from tests.web.test_pages import _csrf, sign_in

ADMIN_PASSWORD = "correct horse 9"
NEW_PASSWORD = "battery staple 7"


def _as_admin(api: Api) -> TestClient:
    with api.workspace() as workspace:
        workspace.users.set_password("admin", ADMIN_PASSWORD)
    sign_in(api.client, "admin", ADMIN_PASSWORD)
    return api.client


def _post(client: TestClient, path: str, **fields: str) -> Response:
    token = _csrf(client.get("/users").text)
    return client.post(path, data={"csrf": token, **fields})


def _role(api: Api, name: str) -> Role:
    with api.workspace() as workspace:
        return workspace.users.get(name).role


def test_an_administrator_sees_every_user_with_role_and_email(api: Api) -> None:
    """Name, role and e-mail address of each user; no hash, no token."""
    with api.workspace() as workspace:
        workspace.users.set_email("viewer", "vera@example.com")
    page = _as_admin(api).get("/users").text

    assert "<h1>Users</h1>" in page
    for name in ("admin", "contributor", "viewer"):
        assert f'data-user="{name}"' in page
    assert "vera@example.com" in page
    assert "<td>Contributor</td>" in page
    assert "$argon2" not in page
    with api.context.database.session() as session:
        hashes = session.scalars(select(User.password_hash)).all()
        digests = session.scalars(select(ApiToken.digest)).all()
    assert not [secret for secret in [*hashes, *digests] if secret and secret in page]


@pytest.mark.parametrize("role", ["contributor", "viewer"])
def test_other_roles_are_told_only_administrators_manage_users(
    api: Api, role: str
) -> None:
    """403 and a page saying so, with no user listed and no form."""
    sign_in(api.client, role)

    page = api.client.get("/users")

    assert page.status_code == 403
    assert "Only administrators manage users." in page.text
    assert 'data-user="admin"' not in page.text
    assert 'action="/users/new"' not in page.text


def test_a_contributors_add_is_refused_by_the_server(api: Api) -> None:
    """A forged Add user by a contributor: 403, nobody added."""
    sign_in(api.client, "contributor")
    token = _csrf(api.client.get("/exports").text)

    answer = api.client.post(
        "/users/new", data={"csrf": token, "name": "mallory", "role": "admin"}
    )

    assert answer.status_code == 403
    assert "mallory" not in [name for _, _, name in api.audit_actions()]


def test_an_administrator_adds_a_user_who_can_sign_in(api: Api) -> None:
    """Name, role, e-mail and initial password; the user is listed and signs in."""
    answer = _post(_as_admin(api), "/users/new", name="ana", role="contributor",
                   email="Ana@Example.com", password=NEW_PASSWORD)  # fmt: skip

    assert 'data-user="ana"' in answer.text
    assert "ana@example.com" in answer.text
    assert NEW_PASSWORD not in answer.text
    actor = authenticate_password(api.context.database, "ana", NEW_PASSWORD)
    assert actor.role is Role.CONTRIBUTOR


def test_a_taken_name_is_said_by_the_name_and_the_form_keeps_its_values(
    api: Api,
) -> None:
    """422-like refusal by the name field; role and e-mail stay, the password not."""
    answer = _post(_as_admin(api), "/users/new", name="Viewer", role="admin",
                   email="v2@example.com", password=NEW_PASSWORD)  # fmt: skip

    assert answer.status_code == 409
    assert 'id="name-error"' in answer.text
    assert "A user named “viewer” already exists" in answer.text
    assert 'value="v2@example.com"' in answer.text
    assert NEW_PASSWORD not in answer.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "a b", "role": "viewer"}, "name"),
        ({"name": "ana", "role": "viewer", "email": "not-an-address"}, "email"),
        ({"name": "ana", "role": "viewer", "password": "short"}, "password"),
        ({"name": "ana", "role": "owner"}, "role"),
    ],
)
def test_a_wrong_field_is_said_next_to_it(
    api: Api, fields: dict[str, str], field: str
) -> None:
    """Each refusal of the service (or of the form) by its own field."""
    answer = _post(_as_admin(api), "/users/new", **fields)

    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text
    with api.workspace() as workspace:
        assert "ana" not in [info.name for info in workspace.users.list_all()]


def test_an_administrator_changes_a_role(api: Api) -> None:
    """From the user's page; the audit log has it."""
    answer = _post(_as_admin(api), "/users/viewer/edit", role="contributor",
                   email="")  # fmt: skip

    assert "The role and e-mail address are saved." in answer.text
    assert _role(api, "viewer") is Role.CONTRIBUTOR
    assert ("admin", "user.set_role", "viewer") in api.audit_actions()


def test_the_last_administrator_keeps_the_role_said_by_the_role(api: Api) -> None:
    """The service's refusal next to the role field; nothing changed."""
    answer = _post(_as_admin(api), "/users/admin/edit", role="viewer", email="")

    assert answer.status_code == 409
    assert 'id="role-error"' in answer.text
    assert "“admin” is the last administrator" in answer.text
    assert _role(api, "admin") is Role.ADMIN


def test_an_administrator_sets_a_password(api: Api) -> None:
    """The new password signs in; it is never shown."""
    answer = _post(_as_admin(api), "/users/viewer/password", password=NEW_PASSWORD)

    assert "The password is set." in answer.text
    assert NEW_PASSWORD not in answer.text
    actor = authenticate_password(api.context.database, "viewer", NEW_PASSWORD)
    assert actor.name == "viewer"


def test_a_short_password_is_said_by_the_password(api: Api) -> None:
    """The service's length rule next to the field."""
    answer = _post(_as_admin(api), "/users/viewer/password", password="short")

    assert answer.status_code == 422
    assert 'id="password-error"' in answer.text
    assert "too short" in answer.text


def test_removing_asks_first_then_removes(api: Api) -> None:
    """The confirmation page, then Remove: listed as removed, tokens revoked."""
    client = _as_admin(api)
    confirm = client.get("/users/viewer/remove")

    assert "Remove viewer?" in confirm.text
    assert 'action="/users/viewer/remove"' in confirm.text
    answer = client.post("/users/viewer/remove", data={"csrf": _csrf(confirm.text)})

    assert answer.url.path == "/users"
    with api.workspace() as workspace:
        assert not workspace.users.get("viewer").is_active
    assert ("admin", "user.remove", "viewer") in api.audit_actions()


def test_removing_yourself_is_said_by_remove(api: Api) -> None:
    """The service's refusal on the user's page, by the Remove action."""
    answer = _post(_as_admin(api), "/users/admin/remove")

    assert answer.status_code == 409
    assert 'id="remove-error"' in answer.text
    assert "You cannot remove yourself" in answer.text


def test_a_change_without_the_forms_token_is_refused(api: Api) -> None:
    """No CSRF token of this session: 403, the role unchanged."""
    _as_admin(api)

    answer = api.client.post(
        "/users/viewer/edit", data={"csrf": "forged", "role": "admin"}
    )

    assert answer.status_code == 403
    assert _role(api, "viewer") is Role.VIEWER


def test_a_viewers_role_change_is_refused_by_the_server(api: Api) -> None:
    """A forged change by a viewer: 403, nothing changed."""
    sign_in(api.client, "viewer")
    token = _csrf(api.client.get("/exports").text)

    answer = api.client.post(
        "/users/viewer/edit", data={"csrf": token, "role": "admin", "email": ""}
    )

    assert answer.status_code == 403
    assert _role(api, "viewer") is Role.VIEWER


def test_an_unknown_user_is_a_page_saying_so(api: Api) -> None:
    """404 page, not a stack trace."""
    answer = _as_admin(api).get("/users/nobody")

    assert answer.status_code == 404
    assert "<h1>This page does not exist</h1>" in answer.text


def test_the_users_page_is_in_french(api: Api) -> None:
    """Labels and roles in French."""
    client = _as_admin(api)
    client.post("/language", data={"lang": "fr", "back": "/users"})

    page = client.get("/users").text

    assert "Ajouter un utilisateur" in page
    assert "<td>Contributeur</td>" in page
