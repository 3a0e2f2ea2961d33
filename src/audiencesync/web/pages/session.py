"""Who is signed in to the pages: a signed session cookie, and its CSRF token.

The cookie holds the user's name and a random CSRF token, signed with a key kept
in the data folder (``web-session.key``, made on first use, readable by its
owner only) and valid for :data:`MAX_AGE`. The user is looked up again on every
request, so a removed user is signed out and a demoted one loses rights at once.
Every form carries the CSRF token; a POST without the session's token is
refused.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from audiencesync.app.context import AppContext
from audiencesync.auth.directory import resolve_actor
from audiencesync.auth.roles import Actor
from audiencesync.errors import AccessDeniedError, NotFoundError

COOKIE = "audiencesync_session"
KEY_FILE = "web-session.key"
MAX_AGE = 8 * 3600  # seconds: a working day


@dataclass(frozen=True, slots=True)
class PageSession:
    """The session of one browser: its user (if signed in) and CSRF token."""

    user: str | None
    csrf: str


def context_of(request: Request) -> AppContext:
    """The process's application context."""
    context: AppContext = request.app.state.context
    return context


def _signer(context: AppContext) -> URLSafeTimedSerializer:
    path = Path(context.settings.home) / KEY_FILE
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="ascii")
    return URLSafeTimedSerializer(path.read_text(encoding="ascii").strip(), salt=COOKIE)


def read(request: Request) -> PageSession:
    """The browser's session, or a new anonymous one with a fresh CSRF token."""
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _signer(context_of(request)).loads(raw, max_age=MAX_AGE)
        except BadSignature:
            data = None
        if isinstance(data, dict) and isinstance(data.get("csrf"), str):
            user = data.get("user")
            return PageSession(user if isinstance(user, str) else None, data["csrf"])
    return PageSession(None, new_csrf())


def new_csrf() -> str:
    """A fresh CSRF token (a new one at each sign-in)."""
    return secrets.token_urlsafe(24)


def write(request: Request, response: Response, session: PageSession) -> None:
    """Send the session back to the browser (HttpOnly, SameSite=Lax)."""
    value = _signer(context_of(request)).dumps(
        {"user": session.user, "csrf": session.csrf}
    )
    response.set_cookie(
        COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="lax", path="/"
    )


def signed_in(request: Request, session: PageSession) -> Actor | None:
    """The session's user as they are now (None: signed out, removed or unknown)."""
    if session.user is None:
        return None
    try:
        return resolve_actor(context_of(request).database, session.user)
    except (AccessDeniedError, NotFoundError):
        return None


def csrf_ok(session: PageSession, sent: object) -> bool:
    """Whether a form's CSRF token is the session's."""
    return isinstance(sent, str) and hmac.compare_digest(sent, session.csrf)
