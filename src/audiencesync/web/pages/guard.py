"""What every signed-in page needs first: the session and its user, or sign in."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.auth.roles import Actor
from audiencesync.web.pages import session
from audiencesync.web.pages.access import sign_in_url


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in user on a page: who, and the session's CSRF token."""

    actor: Actor
    csrf: str
    session: session.PageSession


def visitor(request: Request) -> Visitor | Response:
    """The signed-in user, or the redirect to the sign-in page (and back)."""
    current = session.read(request)
    actor = session.signed_in(request, current)
    if actor is None:
        return RedirectResponse(sign_in_url(request), status_code=303)
    return Visitor(actor, current.csrf, current)
