"""Administrator > Audit log: who changed what, when; newest first, a page at a time.

Administrators only (the service checks; other roles get a page saying so).
Filters: one user, one action, from a day on (UTC). Each page reads one page
of events and their count from the service, so a long log stays fast. Events
hold names, counts and flags only (never a secret, a password or an e-mail
address), and the page shows what they hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from audiencesync.app.views.audit import AuditView, audit_page
from audiencesync.auth.audit import AuditFilter
from audiencesync.errors import AudiencesyncError, ConfigError
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 50  # events per page
Text = Annotated[str, Query(max_length=255)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


@router.get("/audit")
def audit_log(
    request: Request,
    actor: Text = "",
    action: Text = "",
    since: Annotated[str, Query(max_length=32)] = "",
    offset: Offset = 0,
) -> Response:
    """One page of the audit log, newest first, filtered by user, action and day."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    values = {"actor": actor.strip(), "action": action.strip(), "since": since.strip()}
    if not seen.actor.is_admin:
        return render(request, "audit.html", status=403, user=seen.actor,
                      csrf=seen.csrf, values=values, section="audit")  # fmt: skip
    error: AudiencesyncError | None = None
    try:
        start = _since(values["since"])
    except ConfigError as exc:
        error, start = exc, None
    where = AuditFilter(
        actor=values["actor"] or None, action=values["action"] or None, since=start
    )
    with session.context_of(request).workspace(seen.actor) as workspace:
        page = audit_page(
            workspace.users.read_audit_page(limit=PAGE, offset=offset, where=where)
        )
        names = [info.name for info in workspace.users.list_all()]
    actions = sorted({view.action for view in page.items} | {values["action"]} - {""})
    return render(
        request, "audit.html", status=200 if error is None else 422,
        user=seen.actor, csrf=seen.csrf, values=values, error=error,
        events=[_event(view) for view in page.items], page=page, actions=actions,
        names=names, newer=_link(values, offset - PAGE) if offset > 0 else None,
        older=_link(values, offset + PAGE) if page.total > offset + PAGE else None,
        section="audit",
    )  # fmt: skip


def _since(text: str) -> datetime | None:
    """The start of day ``text`` (YYYY-MM-DD) in UTC; ConfigError by its field."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        msg = f"{text[:32]!r} is not a day: use the form 2026-06-01."
        raise ConfigError(msg, field="since") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _link(values: dict[str, str], offset: int) -> str:
    """This page's address with the same filters, from ``offset``."""
    query = {key: value for key, value in values.items() if value}
    if offset > 0:
        query["offset"] = str(offset)
    return f"/audit?{urlencode(query)}" if query else "/audit"


def _event(view: AuditView) -> dict[str, Any]:
    """An event for the page: its details as (name, shown value) pairs."""
    details = [(key, _shown(value)) for key, value in sorted(view.details.items())]
    return {"view": view, "details": details}


def _shown(value: object) -> str | int | float:
    """A detail's value: a number (the page formats it), or text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(str(_shown(item)) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_shown(item)}" for key, item in value.items())
    if value is None:
        return "—"
    return str(value)
