"""What a route depends on: the application context and the request's workspace.

Every ``/api/v1`` route but the document itself needs ``Authorization: Bearer
<token>`` (from ``audiencesync users token NAME``), or the pages' session cookie
of a signed-in user: the pages' own scripts call the API that way. A change
(POST, PUT, PATCH, DELETE) by cookie must also send the session's CSRF token in
the ``X-CSRF-Token`` header, so another site cannot make a browser send one. The
workspace is built for that user; there is no default user on the web.
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
from audiencesync.web.pages import session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"

_bearer = HTTPBearer(
    auto_error=False, description="A user's API token (the command line makes one)."
)


def app_context(request: Request) -> AppContext:
    """The process's application context, set by :func:`create_app`."""
    context: AppContext = request.app.state.context
    return context


def current_actor(
    request: Request,
    context: Annotated[AppContext, Depends(app_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user of the bearer token (or page session); 401 without a valid one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None and session.COOKIE in request.cookies:
        return _session_actor(request)
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


def _session_actor(request: Request) -> Actor:
    """The signed-in user of the pages' session cookie (CSRF-checked for changes)."""
    current = session.read(request)
    actor = session.signed_in(request, current)
    if actor is None:
        raise ApiError(
            401, "unauthenticated", "The session ended; sign in again.",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    if request.method not in SAFE_METHODS and not session.csrf_ok(
        current, request.headers.get(CSRF_HEADER)
    ):
        raise ApiError(
            403, "csrf_missing",
            f"A change by session cookie needs the page's {CSRF_HEADER} header; "
            "reload the page.",
        )  # fmt: skip
    return actor


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
