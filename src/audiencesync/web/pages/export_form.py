"""Data > Exports > Add export: connection, name, data matching, segments, schedule.

The form lists the connections this user may see, the profile table's columns for
the email field (and the optional userId and consent columns), and every segment
with its member count. Saving checks and saves the export (the service's checks)
and does not run it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.connections import connection_view
from audiencesync.app.workspace import Workspace
from audiencesync.errors import AudiencesyncError
from audiencesync.store.destinations import EXPORT_MODES
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = ("connection", "name", "email_field", "user_id_field", "schedule", "cron",
          "timezone", "mode", "removal_brake", "consent_column")  # fmt: skip


@router.get("/exports/new")
def new_export_page(request: Request) -> Response:
    """The Add export form."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _form(request, seen, values={"schedule": "refresh", "mode": "mirror",
                                        "removal_brake": "20"},
                 chosen=[], error=None)  # fmt: skip


@router.post("/exports/new")
async def add_export(request: Request) -> Response:
    """Save the export (it does not run); refusals by their field."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    chosen = [str(value) for value in form.getlist("segments")]
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return RedirectResponse("/exports/new", status_code=303)
    try:
        name = await run_in_threadpool(_add, request, seen, values, chosen)
    except AudiencesyncError as exc:
        return _form(request, seen, values=values, chosen=chosen, error=exc)
    return RedirectResponse(f"/exports/{quote(name, safe='')}", status_code=303)


def _add(
    request: Request, seen: Visitor, values: dict[str, str], chosen: list[str]
) -> str:
    schedule = values["cron"] if values["schedule"] == "cron" else values["schedule"]
    try:
        brake = int(values["removal_brake"] or "20")
    except ValueError:
        brake = -1  # refused by the service, by its field
    with session.context_of(request).workspace(seen.actor) as workspace:
        created = workspace.exports.add(
            values["name"],
            connection=values["connection"],
            email_field=values["email_field"],
            segments=chosen,
            user_id_field=values["user_id_field"] or None,
            schedule=schedule or "refresh",
            timezone=values["timezone"] or "UTC",
            mode=values["mode"] or "mirror",
            removal_brake=brake,
            consent_column=values["consent_column"] or None,
        )
    return created.export.name


def _choices(workspace: Workspace) -> dict[str, Any]:
    connections = [connection_view(info) for info in workspace.connections.list_all()]
    profile = workspace.profiles.schema().profile
    columns = list(profile.column_names) if profile is not None else []
    segments = [
        (info.name, info.last.member_count if info.last else None)
        for info in workspace.segments.list_all()
    ]
    return {"connections": connections, "columns": columns, "segments": segments}


def _form(
    request: Request,
    seen: Visitor,
    *,
    values: dict[str, str],
    chosen: list[str],
    error: AudiencesyncError | None,
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        choices = _choices(workspace)
    return render(
        request, "export_new.html", status=200 if error is None else 422,
        user=seen.actor, csrf=seen.csrf, values=values, chosen=chosen, error=error,
        error_field=_field_of(error), modes=EXPORT_MODES, section="exports",
        **choices,
    )  # fmt: skip


def _field_of(error: AudiencesyncError | None) -> str | None:
    if error is None:
        return None
    field = {"segments": "segments", "removal_brake": "removal_brake"}.get(
        error.field or "", error.field
    )
    return field if field in (*FIELDS, "segments") else None
