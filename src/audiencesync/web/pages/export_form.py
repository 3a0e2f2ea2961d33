"""Data > Exports > Add export, and Edit export: one form, the service's checks.

The form lists the connections this user may see, the profile table's columns for
the email field (and the optional userId and consent columns), and every segment
with its member count. Saving checks and saves the export (the service's checks)
and does not run it. A custom cron schedule is previewed as it is typed (in
words, and its next three runs in the chosen zone) by ``cron_preview.js`` over
``GET /api/v1/schedule/preview``; without JavaScript the form works the same.

Edit export is the same form, filled in, at ``/edit-export/{name}``: the whole
rest of the path is the name, so an export named ``a/edit`` is unambiguous. The
export's revision travels with the form, so an edit made meanwhile by someone
else is refused rather than overwritten.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.connections import connection_view
from audiencesync.app.views.exports import ExportView, export_view
from audiencesync.app.workspace import Workspace
from audiencesync.errors import AccessDeniedError, AudiencesyncError
from audiencesync.exports import UNCHANGED
from audiencesync.store.destinations import EXPORT_MODES
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = ("connection", "name", "email_field", "user_id_field", "schedule", "cron",
          "timezone", "mode", "removal_brake", "consent_column")  # fmt: skip
EDIT = "/edit-export/"
REFUSED = {"forbidden": 403, "stale_edit": 409}  # else 422: fix a field


def export_url(name: str) -> str:
    """The export page's path (a ``/`` in the name is escaped, never ambiguous)."""
    return f"/exports/{quote(name, safe='')}"


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
    return RedirectResponse(export_url(name), status_code=303)


@router.get(EDIT + "{name:path}")
def edit_export_page(request: Request, name: str) -> Response:
    """Edit export: the form filled in with the export's settings."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    refuse_viewers(seen)
    with session.context_of(request).workspace(seen.actor) as workspace:
        export = export_view(workspace.exports.get(name))
    return _form(request, seen, values=values_of(export), chosen=export.segments,
                 error=None, editing=export)  # fmt: skip


@router.post(EDIT + "{name:path}")
async def edit_export(request: Request, name: str) -> Response:
    """Save the changes with the checks of Add export; then the export's page."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {field: str(form.get(field, "")).strip() for field in FIELDS}
    chosen = [str(value) for value in form.getlist("segments")]
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return RedirectResponse(EDIT + quote(name, safe=""), status_code=303)
    revision = str(form.get("revision", ""))
    try:
        saved = await run_in_threadpool(
            _edit, request, seen, name, (values, chosen, revision)
        )
    except AccessDeniedError:
        raise  # a page saying who may, not the form
    except AudiencesyncError as exc:
        with session.context_of(request).workspace(seen.actor) as workspace:
            export = export_view(workspace.exports.get(name))
        return _form(request, seen, values=values, chosen=chosen, error=exc,
                     editing=export)  # fmt: skip
    return RedirectResponse(export_url(saved), status_code=303)


def values_of(export: ExportView) -> dict[str, str]:
    """The form's values for an export as it is saved."""
    custom = export.schedule not in {"refresh", "manual"}
    return {
        "connection": export.connection or "",
        "name": export.name,
        "email_field": export.email_field,
        "user_id_field": export.user_id_field or "",
        "schedule": "cron" if custom else export.schedule,
        "cron": export.schedule if custom else "",
        "timezone": export.timezone,
        "mode": export.mode,
        "removal_brake": str(export.removal_brake),
        "consent_column": export.consent_column or "",
    }


def refuse_viewers(seen: Visitor) -> None:
    """Viewers read exports; the form is not for them (the service refuses too)."""
    if seen.actor.role.value == "viewer":
        msg = (
            "Viewers can read exports but not change them. Ask an administrator"
            " for the contributor role."
        )
        raise AccessDeniedError(msg)


def _settings(values: dict[str, str], chosen: list[str]) -> dict[str, Any]:
    """The service's keyword arguments from the form (Add and Edit alike)."""
    schedule = values["cron"] if values["schedule"] == "cron" else values["schedule"]
    try:
        brake = int(values["removal_brake"] or "20")
    except ValueError:
        brake = -1  # refused by the service, by its field
    return {
        "email_field": values["email_field"],
        "segments": chosen,
        "user_id_field": values["user_id_field"] or None,
        "schedule": schedule or "refresh",
        "timezone": values["timezone"] or "UTC",
        "mode": values["mode"] or "mirror",
        "removal_brake": brake,
        "consent_column": values["consent_column"] or None,
    }


def _add(
    request: Request, seen: Visitor, values: dict[str, str], chosen: list[str]
) -> str:
    with session.context_of(request).workspace(seen.actor) as workspace:
        created = workspace.exports.add(
            values["name"],
            connection=values["connection"],
            **_settings(values, chosen),
        )
    return created.export.name


def _edit(
    request: Request,
    seen: Visitor,
    name: str,
    sent: tuple[dict[str, str], list[str], str],
) -> str:
    values, chosen, revision = sent
    with session.context_of(request).workspace(seen.actor) as workspace:
        current = workspace.exports.get(name)
        connection = values["connection"]
        saved = workspace.exports.edit(
            name,
            new_name=values["name"],
            connection=UNCHANGED
            if not connection or connection == current.connection
            else connection,
            expected_revision=int(revision) if revision.isdigit() else None,
            **_settings(values, chosen),
        )
    return saved.export.name


def _choices(workspace: Workspace) -> dict[str, Any]:
    connections = [
        connection_view(info)
        for info in workspace.connections.list_all()
        if info.usable  # a contributor is offered the shared ones only
    ]
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
    editing: ExportView | None = None,
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        choices = _choices(workspace)
    action = "/exports/new" if editing is None else EDIT + quote(editing.name, safe="")
    status = 200 if error is None else REFUSED.get(error.code, 422)
    return render(
        request, "export_new.html", status=status,
        user=seen.actor, csrf=seen.csrf, values=values, chosen=chosen, error=error,
        error_field=_field_of(error), modes=EXPORT_MODES, section="exports",
        editing=editing, action=action, **choices,
    )  # fmt: skip


def _field_of(error: AudiencesyncError | None) -> str | None:
    if error is None:
        return None
    field = {"segments": "segments", "removal_brake": "removal_brake"}.get(
        error.field or "", error.field
    )
    return field if field in (*FIELDS, "segments") else None
