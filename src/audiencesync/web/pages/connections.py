"""Administrator > Connections: the list, and Add connection in CI's order.

Add connection: choose Iterable; display name; who can use it (administrators
by default, or contributors too); the API key and the region (or a base URL);
the data privacy statement with "I agree"; Save. Saving checks the key against
Iterable first (the service does), and you become the connection's export user.
A refusal is shown next to its field; the key is never sent back to the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from audiencesync.app.views.connections import (
    KeyCheckView,
    connection_view,
    key_check_view,
)
from audiencesync.auth.roles import Actor
from audiencesync.connections.consent import PRIVACY_STATEMENT
from audiencesync.errors import AccessDeniedError, AudiencesyncError
from audiencesync.web.pages import i18n, session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.messages import explain
from audiencesync.web.pages.statement import statement_paragraphs
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "api_key", "region", "base_url", "i_agree", "allow_contributors")
ACCEPTED = "Iterable accepted the key ending in %(key)s: it may manage lists there."


@router.get("/connections")
def connections_page(request: Request) -> Response:
    """Every connection: settings for administrators, name and type for others."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    with session.context_of(request).workspace(seen.actor) as workspace:
        views = [connection_view(info) for info in workspace.connections.list_all()]
    return render(request, "connections.html", user=seen.actor, csrf=seen.csrf,
                  connections=views, section="connections")  # fmt: skip


@router.get("/connections/new")
def new_connection_page(request: Request) -> Response:
    """The Add connection form (administrators; others are told who can)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _form(request, seen, values={}, error=None)


@router.post("/connections/new")
async def add_connection(request: Request) -> Response:
    """Save the connection; on a refusal, the form again with the error by its field."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return _form(request, seen, values=values, error=_expired())
    try:  # in a worker thread: the key check runs its own event loop
        await run_in_threadpool(_add, request, seen.actor, values)
    except AudiencesyncError as exc:
        return _form(request, seen, values=values, error=exc)
    return RedirectResponse("/connections", status_code=303)


def _add(request: Request, actor: Actor, values: dict[str, str]) -> None:
    region = values["region"] or None
    with session.context_of(request).workspace(actor) as workspace:
        workspace.connections.add(
            values["name"],
            api_key=values["api_key"],
            region=None if values["base_url"] else region,
            base_url=values["base_url"] or None,
            shared=values["allow_contributors"] == "yes",
            agreed=values["i_agree"] == "yes",
        )


@router.post("/connections/new/check")
async def check_connection_key(request: Request) -> Response:
    """Connect: ask Iterable about the key without saving; the answer by its field.

    The page's script asks for JSON (``ok``, the ``message`` in the page's
    language, the ``field`` it is about) and keeps the key typed in; without
    the script the form comes back with the answer (and the key to type again).
    """
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    wants_json = "application/json" in request.headers.get("accept", "")
    outcome: KeyCheckView | AudiencesyncError = _expired()
    if session.csrf_ok(seen.session, form.get("csrf")):
        try:
            outcome = await run_in_threadpool(_check, request, seen.actor, values)
        except AudiencesyncError as exc:
            outcome = exc
    if wants_json:
        return _check_answer(request, outcome)
    if isinstance(outcome, AudiencesyncError):
        return _form(request, seen, values=values, error=outcome)
    return _form(request, seen, values=values, error=None, checked=outcome)


def _check(request: Request, actor: Actor, values: dict[str, str]) -> KeyCheckView:
    key = values["api_key"]
    with session.context_of(request).workspace(actor) as workspace:
        target = workspace.connections.check_key(
            api_key=key,
            region=None if values["base_url"] else values["region"] or None,
            base_url=values["base_url"] or None,
        )
    return key_check_view(key, target)


def _check_answer(
    request: Request, outcome: KeyCheckView | AudiencesyncError
) -> Response:
    catalog = i18n.translations(i18n.choose(request))
    if isinstance(outcome, KeyCheckView):
        message = catalog.gettext(ACCEPTED) % {"key": outcome.key}
        return JSONResponse({"ok": True, "message": message, "field": None})
    status = 403 if isinstance(outcome, AccessDeniedError | _Expired) else 422
    body = {"ok": False, "message": explain(outcome, catalog),
            "field": _field_of(outcome)}  # fmt: skip
    return JSONResponse(body, status_code=status)


@router.post("/connections/{name:path}/sharing")
async def set_sharing(request: Request, name: str) -> Response:
    """Share the connection with contributors, or stop (administrators)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    if session.csrf_ok(seen.session, form.get("csrf")):
        shared = form.get("shared") == "yes"
        with session.context_of(request).workspace(seen.actor) as workspace:
            workspace.connections.set_sharing(name, shared=shared)
    return RedirectResponse("/connections", status_code=303)


class _Expired(AudiencesyncError):
    code = "form_expired"


def _expired() -> AudiencesyncError:
    return _Expired("The form expired; send it again.")


def _form(
    request: Request,
    seen: Visitor,
    *,
    values: dict[str, str],
    error: AudiencesyncError | None,
    checked: KeyCheckView | None = None,
) -> Response:
    status = 200 if error is None else 422
    if not seen.actor.is_admin:
        status = 403
    shown: dict[str, Any] = {k: v for k, v in values.items() if k != "api_key"}
    return render(
        request, "connection_new.html", status=status, user=seen.actor,
        csrf=seen.csrf, values=shown, error=error,
        error_field=_field_of(error), section="connections", checked=checked,
        statement=statement_paragraphs(request, PRIVACY_STATEMENT),
    )  # fmt: skip


def _field_of(error: AudiencesyncError | None) -> str | None:
    """The form field an error is about (a key refused by Iterable: the key)."""
    if error is None:
        return None
    if error.code == "name_taken":
        return "name"
    if error.field in FIELDS:
        return error.field
    if error.code in {"key_rejected", "key_malformed", "key_read_only",
                      "key_wrong_region"}:  # fmt: skip
        return "api_key"
    return None
