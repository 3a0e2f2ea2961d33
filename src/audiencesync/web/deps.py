"""What a route depends on: the application context and the request's workspace.

Every ``/api/v1`` route but the document itself needs ``Authorization: Bearer
<token>`` (from ``audiencesync users token NAME``). The workspace is built for
the token's user; there is no default user on the web.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from audiencesync.app.context import AppContext
from audiencesync.app.workspace import Workspace
from audiencesync.auth.roles import Actor
from audiencesync.errors import AccessDeniedError
from audiencesync.web.errors import ApiError

_bearer = HTTPBearer(
    auto_error=False, description="A user's API token (the command line makes one)."
)


def app_context(request: Request) -> AppContext:
    """The process's application context, set by :func:`create_app`."""
    context: AppContext = request.app.state.context
    return context


def current_actor(
    context: Annotated[AppContext, Depends(app_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user the bearer token belongs to; 401 without a valid one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401,
            "unauthenticated",
            "Send Authorization: Bearer <token>; an administrator creates one.",
            headers=challenge,
        )
    try:
        return context.authenticate_token(credentials.credentials)
    except AccessDeniedError as exc:
        raise ApiError(401, "unauthenticated", str(exc), headers=challenge) from exc


def workspace(
    context: Annotated[AppContext, Depends(app_context)],
    actor: Annotated[Actor, Depends(current_actor)],
) -> Iterator[Workspace]:
    """The services for the request's user (a profile engine of its own)."""
    with context.workspace(actor) as opened:
        yield opened


WorkspaceDep = Annotated[Workspace, Depends(workspace)]
"""A route parameter: the authenticated user's workspace."""
ActorDep = Annotated[Actor, Depends(current_actor)]
"""A route parameter: the authenticated user."""
