"""Administrator > Users: users and roles; add, change, set a password, remove.

Administrators only (the service checks every call; other roles get a page that
says only administrators manage users). The list shows each user's role and
e-mail address; one user's page changes their role and address, sets their
sign-in password, and removes them after a confirmation. The service's
refusals (the last administrator, removing yourself, a name taken) are shown
next to their field. Passwords and their hashes, and tokens, are never shown.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.users import UserView
from audiencesync.auth.roles import Role
from audiencesync.errors import AudiencesyncError, ConfigError
from audiencesync.web.errors import status_of
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
NEW_FIELDS = ("name", "role", "email", "password")
ROLES = tuple(role.value for role in Role)
ACTIONS = ("edit", "password", "remove")
Done = Annotated[str | None, Query(max_length=16)]


class _Expired(ConfigError):
    code = "form_expired"


def _expired() -> AudiencesyncError:
    return _Expired("The form expired; send it again.")


def _to(name: str) -> str:
    return f"/users/{quote(name, safe='')}"


@router.get("/users")
def users_page(request: Request) -> Response:
    """Every user with role and e-mail, and Add user (administrators)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _list(request, seen, values={"role": Role.VIEWER.value}, error=None)


@router.post("/users/new")
async def add_user(request: Request) -> Response:
    """Add the user; on a refusal, the list again with the error by its field."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in NEW_FIELDS}
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return await run_in_threadpool(_list, request, seen, values, _expired())
    try:  # hashing a password takes a while: not in the event loop
        await run_in_threadpool(_add, request, seen, values)
    except AudiencesyncError as exc:
        return await run_in_threadpool(_list, request, seen, values, exc)
    return RedirectResponse(f"/users#user-{values['name'].strip()}", status_code=303)


def _add(request: Request, seen: Visitor, values: dict[str, str]) -> None:
    role = values["role"]
    if role not in ROLES:
        msg = f"There is no role {role[:40]!r}: choose {', '.join(ROLES)}."
        raise ConfigError(msg, field="role")
    with session.context_of(request).workspace(seen.actor) as workspace:
        workspace.users.add(
            values["name"],
            role=Role(role),
            email=values["email"].strip() or None,
            password=values["password"] or None,
        )


@router.get("/users/{name}")
def user_page(request: Request, name: str, done: Done = None) -> Response:
    """One user: change role and e-mail, set the password, remove (administrators).

    ``done`` says which change was just saved.
    """
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _user(request, seen, name, None, action=None, done=done)


@router.get("/users/{name}/remove")
def confirm_removal(request: Request, name: str) -> Response:
    """Ask before removing the user."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _user(request, seen, name, None, action="confirm")


@router.post("/users/{name}/{action}")
async def change_user(request: Request, name: str, action: str) -> Response:
    """Change role and e-mail, set the password, or remove; refusals by the field."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    if action not in ACTIONS:
        return await run_in_threadpool(
            _user, request, seen, name, None, action=None, status=404
        )
    form = await request.form()
    if not session.csrf_ok(seen.session, form.get("csrf")):
        error = _expired()
        return await run_in_threadpool(_user, request, seen, name, error, action=action)
    try:
        await run_in_threadpool(_change, request, seen, name, action, form)
    except AudiencesyncError as exc:
        return await run_in_threadpool(_user, request, seen, name, exc, action=action)
    if action == "remove":
        return RedirectResponse("/users", status_code=303)
    return RedirectResponse(f"{_to(name)}?done={action}", status_code=303)


def _change(
    request: Request, seen: Visitor, name: str, action: str, form: FormData
) -> None:
    with session.context_of(request).workspace(seen.actor) as workspace:
        if action == "edit":
            role = str(form.get("role", ""))
            if role not in ROLES:
                msg = f"There is no role {role[:40]!r}: choose {', '.join(ROLES)}."
                raise ConfigError(msg, field="role")
            email = str(form.get("email", "")).strip() or None
            workspace.users.update(name, role=Role(role), email=email)
        elif action == "password":
            workspace.users.set_password(name, str(form.get("password", "")))
        else:
            workspace.users.remove(name)


def _list(
    request: Request,
    seen: Visitor,
    values: dict[str, str],
    error: AudiencesyncError | None,
) -> Response:
    users: list[UserView] = []
    if seen.actor.is_admin:
        with session.context_of(request).workspace(seen.actor) as workspace:
            users = [UserView.of(info) for info in workspace.users.list_all()]
    shown = {key: value for key, value in values.items() if key != "password"}
    return render(
        request, "users.html", status=_status(seen, error), user=seen.actor,
        csrf=seen.csrf, users=users, values=shown, error=error,
        error_field=_field_of(error, NEW_FIELDS, "name"), roles=ROLES,
        section="users",
    )  # fmt: skip


def _user(
    request: Request,
    seen: Visitor,
    name: str,
    error: AudiencesyncError | None,
    *,
    action: str | None,
    status: int | None = None,
    done: str | None = None,
) -> Response:
    shown: UserView | None = None
    if seen.actor.is_admin:
        with session.context_of(request).workspace(seen.actor) as workspace:
            shown = UserView.of(workspace.users.get(name))
    fields = {"edit": ("role", "email"), "password": ("password",)}
    field = None
    if action in ACTIONS:
        default = {"edit": "role", "password": "password", "remove": "remove"}[action]
        field = _field_of(error, fields.get(action, ()), default)
    return render(
        request, "user.html", status=status or _status(seen, error), user=seen.actor,
        csrf=seen.csrf, shown=shown, error=error, error_field=field,
        confirm=action == "confirm", roles=ROLES,
        done=done, section="users",
    )  # fmt: skip


def _status(seen: Visitor, error: AudiencesyncError | None) -> int:
    if not seen.actor.is_admin:
        return 403
    if error is None:
        return 200
    if error.code == "form_expired":
        return 403
    return status_of(error)


def _field_of(
    error: AudiencesyncError | None, fields: tuple[str, ...], default: str
) -> str | None:
    """The field an error is about: its own, else the form's main one."""
    if error is None or error.code == "form_expired":
        return None
    if error.field in fields:
        return error.field
    return default
