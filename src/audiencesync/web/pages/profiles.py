"""Data > Profiles: the tables, their columns, row counts and sources; upload a file.

Everyone reads the tables. Administrators and contributors upload a CSV, Parquet
or JSON-lines file through the API's own path (:mod:`audiencesync.web.uploads`:
streamed into the data folder, the same limit, the CLI's checks and messages);
a refusal is shown next to its field and the options chosen stay. Viewers see
no upload form, and the server refuses their upload before reading it.
Administrators approve or discard a refresh the removal brake held.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.profiles import TableDetailView
from audiencesync.auth.roles import ALLOWED, Action, Actor
from audiencesync.errors import AudiencesyncError, ConfigError
from audiencesync.web.errors import ApiError, status_of
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render
from audiencesync.web.uploads import (
    FORM_FIELDS,
    check_length,
    import_upload,
    read_import_form,
)

router = APIRouter(include_in_schema=False)
OPTIONS = ("table", "key", "replace")
DECISIONS = ("approve", "discard")
STATUSES = {"too_large": 413, "length_required": 411, "form_expired": 403}
Imported = Annotated[str | None, Query(max_length=255)]


class _Expired(ConfigError):
    code = "form_expired"


def _expired() -> AudiencesyncError:
    return _Expired("The form expired; send it again.")


def may_import(actor: Actor) -> bool:
    """Whether ``actor``'s role may upload profiles (the service checks anyway)."""
    return actor.role in ALLOWED[Action.MANAGE_PROFILES]


@router.get("/profiles")
def profiles_page(request: Request, imported: Imported = None) -> Response:
    """Every table with its columns, rows and sources; the upload form if allowed."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _page(request, seen, {}, None, imported=imported)


@router.post("/profiles/upload")
async def upload(request: Request) -> Response:
    """Import the uploaded file; then the tables (its row count), or the refusal."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    values: dict[str, str] = {}
    with session.context_of(request).workspace(seen.actor) as workspace:
        await run_in_threadpool(workspace.profiles.check_import)  # before reading
        try:
            check_length(request)
            async with request.form(max_files=1, max_fields=10) as form:
                values = {name: str(form.get(name) or "") for name in OPTIONS}
                if not session.csrf_ok(seen.session, form.get("csrf")):
                    raise _expired()
                chosen = read_import_form(form, also=frozenset({"csrf"}))
                report = await import_upload(workspace, chosen)
        except AudiencesyncError as exc:
            return await run_in_threadpool(_page, request, seen, values, exc)
        except ApiError as exc:  # no length, or over the size limit
            error = _as_error(exc)
            return await run_in_threadpool(_page, request, seen, values, error)
    target = f"/profiles?imported={quote(report.table, safe='')}"
    return RedirectResponse(f"{target}#table-{report.table}", status_code=303)


@router.post("/profiles/tables/{table}/{decision}")
async def decide_refresh(request: Request, table: str, decision: str) -> Response:
    """Approve or discard a refresh the removal brake held (administrators)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    if decision not in DECISIONS:
        raise ApiError(404, "not_found", "There is no such decision on a refresh.")
    form = await request.form()
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return await run_in_threadpool(_page, request, seen, {}, _expired())
    try:
        await run_in_threadpool(_decide, request, seen, table, decision)
    except AudiencesyncError as exc:
        return await run_in_threadpool(_page, request, seen, {}, exc)
    return RedirectResponse(f"/profiles#table-{table}", status_code=303)


def _decide(request: Request, seen: Visitor, table: str, decision: str) -> None:
    with session.context_of(request).workspace(seen.actor) as workspace:
        if decision == "approve":
            workspace.profiles.approve_refresh(table)
        else:
            workspace.profiles.discard_refresh(table)


def _as_error(exc: ApiError) -> AudiencesyncError:
    """The HTTP layer's refusal of the file (411, 413) as an error of its field."""
    return ConfigError(exc.message, code=exc.code, field="file", details=exc.details)


def _page(
    request: Request,
    seen: Visitor,
    values: dict[str, str],
    error: AudiencesyncError | None,
    *,
    imported: str | None = None,
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        tables = [TableDetailView.of_detail(d) for d in workspace.profiles.tables()]
        default_table = workspace.settings.profile_table
    done = next((table for table in tables if table.name == imported), None)
    status = 200 if error is None else _status(error)
    return render(
        request, "profiles.html", status=status, user=seen.actor, csrf=seen.csrf,
        tables=tables, may_import=may_import(seen.actor), values=values,
        error=error, error_field=_field_of(error), imported=done,
        default_table=default_table, section="profiles",
    )  # fmt: skip


def _status(error: AudiencesyncError) -> int:
    if error.code in STATUSES:
        return STATUSES[error.code]
    status = status_of(error)
    return 422 if status in {400, 404} else status


def _field_of(error: AudiencesyncError | None) -> str | None:
    """The form field an error is about; a file the import refused: the file."""
    if error is None or error.code == "form_expired":
        return None
    if error.field is None:
        return "file"
    return error.field if error.field in FORM_FIELDS else None
