"""Signing in and out, and choosing the pages' language."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.auth.directory import authenticate_password
from audiencesync.errors import AccessDeniedError
from audiencesync.web.pages import i18n, session
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
HOME = "/exports"

Next = Annotated[str | None, Query(alias="next", max_length=500)]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, else the home page."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return HOME


def sign_in_url(request: Request) -> str:
    """The sign-in page, coming back to this page (and its query) afterwards."""
    target = request.url.path
    if request.url.query:
        target = f"{target}?{request.url.query}"
    return f"/sign-in?next={quote(target, safe='/')}"


@router.get("/sign-in")
def sign_in_page(request: Request, next_page: Next = None) -> Response:
    """The sign-in form."""
    current = session.read(request)
    page = render(
        request, "sign_in.html", csrf=current.csrf, next=safe_next(next_page),
        error=None, name="",
    )  # fmt: skip
    session.write(request, page, current)
    return page


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check name and password; on success a new session, then the page asked for."""
    current = session.read(request)
    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    if not session.csrf_ok(current, form.get("csrf")):
        return _refused(request, current, name, target, "expired")
    try:  # a password hash takes a while: not in the event loop
        actor = await run_in_threadpool(
            authenticate_password,
            session.context_of(request).database,
            name.strip(),
            password,
        )
    except AccessDeniedError:
        return _refused(request, current, name, target, "wrong")
    fresh = session.PageSession(actor.name, session.new_csrf())
    response = RedirectResponse(target, status_code=303)
    session.write(request, response, fresh)
    return response


def _refused(
    request: Request, current: session.PageSession, name: str, target: str, why: str
) -> Response:
    page = render(
        request, "sign_in.html", status=401 if why == "wrong" else 403,
        csrf=current.csrf, next=target, error=why, name=name,
    )  # fmt: skip
    session.write(request, page, current)
    return page


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session (with its CSRF token: nobody signs you out from elsewhere)."""
    current = session.read(request)
    form = await request.form()
    if not session.csrf_ok(current, form.get("csrf")):
        return RedirectResponse(HOME, status_code=303)
    response = RedirectResponse("/sign-in", status_code=303)
    session.write(request, response, session.PageSession(None, current.csrf))
    return response


@router.post("/language")
async def choose_language(request: Request) -> Response:
    """Remember the language chosen with the switch, and go back to the page."""
    form = await request.form()
    chosen = str(form.get("lang", ""))
    response = RedirectResponse(safe_next(str(form.get("back", ""))), status_code=303)
    if chosen in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/"
        )
    return response
