"""``/api/v1/users``: users, their roles, and their API tokens.

Administrators manage users and everyone's tokens; every user may read
themselves and create, list and revoke their own tokens (the service checks).
A token is shown once, in the answer that creates it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from audiencesync.app.views import Page
from audiencesync.app.views.users import (
    CreatedTokenView,
    TokenView,
    UserView,
    tokens_page,
    users_page,
)
from audiencesync.auth.roles import Role
from audiencesync.auth.users import KEEP
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.params import DEFAULT_LIMIT, Limit, Offset

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
UserName = Annotated[
    str, Path(min_length=1, max_length=255, pattern=_PRINTABLE, description="A user.")
]
TokenLabel = Annotated[
    str,
    Path(
        min_length=1,
        max_length=255,
        pattern=_PRINTABLE,
        description="The token's label, or its last 4 characters.",
    ),
]


class NewUser(BaseModel):
    """A user to add; names are unique whatever their letter case."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, examples=["ana"])
    role: Role
    email: str | None = Field(default=None, max_length=320)
    password: str | None = Field(
        default=None, max_length=1024, description="For the web pages' sign-in."
    )


class UserEdit(BaseModel):
    """What to change; a field left out stays, ``"email": null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    email: str | None = Field(default=None, max_length=320)


class NewToken(BaseModel):
    """A token to create; without a label it is called ``token-N``."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, max_length=255, examples=["ci"])


def _user_url(name: str) -> str:
    return f"/api/v1/users/{quote(name, safe='')}"


@router.get("/users", summary="List users (administrators)")
def list_users(
    workspace: WorkspaceDep,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[UserView]:
    """Every user with their role, removed users included, by name."""
    return users_page(workspace.users.list_all(), limit=limit, offset=offset)


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, summary="Add a user (administrators)"
)
def add_user(body: NewUser, workspace: WorkspaceDep, response: Response) -> UserView:
    """Add a user with a role; a removed user's name stays reserved."""
    info = workspace.users.add(
        body.name, role=body.role, password=body.password, email=body.email
    )
    response.headers["Location"] = _user_url(info.name)
    return UserView.of(info)


@router.get("/users/{name}", summary="Show a user")
def show_user(name: UserName, workspace: WorkspaceDep) -> UserView:
    """One user; administrators see anyone, other users themselves."""
    return UserView.of(workspace.users.get(name))


@router.patch("/users/{name}", summary="Change a user's role or e-mail (admins)")
def edit_user(name: UserName, body: UserEdit, workspace: WorkspaceDep) -> UserView:
    """Change the role and/or the e-mail address; the last administrator stays one."""
    email = body.email if "email" in body.model_fields_set else KEEP
    return UserView.of(workspace.users.update(name, role=body.role, email=email))


@router.delete(
    "/users/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a user (administrators)",
)
def remove_user(name: UserName, workspace: WorkspaceDep) -> None:
    """Remove a user and revoke their tokens; the name stays reserved."""
    workspace.users.remove(name)


@router.get("/users/{name}/tokens", summary="List a user's API tokens")
def list_tokens(
    name: UserName,
    workspace: WorkspaceDep,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[TokenView]:
    """Label and last 4 characters of each token, oldest first; never the token."""
    infos = workspace.users.list_tokens(name)
    return tokens_page(infos, limit=limit, offset=offset)


@router.post(
    "/users/{name}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token (shown once)",
)
def create_token(
    name: UserName,
    workspace: WorkspaceDep,
    response: Response,
    body: NewToken | None = None,
) -> CreatedTokenView:
    """A new token, in this answer only; audiencesync keeps only its digest."""
    label = None if body is None else body.label
    token, info = workspace.users.create_token(name, label=label)
    response.headers["Location"] = (
        f"{_user_url(info.user)}/tokens/{quote(info.label, safe='')}"
    )
    response.headers["Cache-Control"] = "no-store"
    return CreatedTokenView.created(token, info)


@router.delete(
    "/users/{name}/tokens/{label:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API token",
)
def revoke_token(name: UserName, label: TokenLabel, workspace: WorkspaceDep) -> None:
    """Revoke the active token with this label (or these last 4 characters)."""
    workspace.users.revoke_token(name, label)
