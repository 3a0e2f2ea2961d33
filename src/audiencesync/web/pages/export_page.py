"""One export's page: settings, lists and drift, runs; Run, Cancel, Edit, Remove.

The page reads one page of the run history (:data:`PAGE` runs, newest first)
with a constant number of queries, however long the history: the page of runs
with their segments, their count, the run in progress if any (one query), and
each list's newest drift check (one query). Held runs are flagged and link to
their run page, where administrators approve or discard the held removals.

Remove export asks first, at ``/remove-export/{name}`` (the whole rest of the
path is the name: ``x/remove`` is a name like any other); the service's rules
apply (a running export is not removed), then the exports list says it is done.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.exports import export_view
from audiencesync.errors import AccessDeniedError, AudiencesyncError
from audiencesync.web.pages import session
from audiencesync.web.pages.export_form import refuse_viewers
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 20  # runs per page of the history
KINDS = {"run": (False, False), "dry": (True, False), "full": (False, True)}
REMOVE = "/remove-export/"


@router.get(REMOVE + "{name:path}")
def remove_export_page(request: Request, name: str) -> Response:
    """Remove export: what removing does, and a button to confirm."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    refuse_viewers(seen)
    return _confirm(request, seen, name, error=None)


@router.post(REMOVE + "{name:path}")
async def remove_export(request: Request, name: str) -> Response:
    """Remove the export (the service's rules); then the exports list, saying so."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return RedirectResponse(REMOVE + quote(name, safe=""), status_code=303)
    try:
        removed = await run_in_threadpool(_remove, request, seen, name)
    except AccessDeniedError:
        raise  # a page saying who may
    except AudiencesyncError as exc:
        return _confirm(request, seen, name, error=exc)
    return RedirectResponse(
        f"/exports?removed={quote(removed, safe='')}", status_code=303
    )


@router.get("/exports/{name:path}")
def export_page(
    request: Request, name: str, offset: Annotated[int, Query(ge=0, le=10**9)] = 0
) -> Response:
    """The export, what it may do now, and one page of its runs (newest first)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _page(request, seen, name, offset=offset, error=None)


@router.post("/exports/{name:path}/run")
async def run_export(request: Request, name: str) -> Response:
    """Queue a run (or a dry run, a full resync); then its page, following it."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return RedirectResponse(request.url.path.removesuffix("/run"), status_code=303)
    dry, full = KINDS.get(str(form.get("kind", "run")), KINDS["run"])
    try:
        run_id = await run_in_threadpool(_request, request, seen, name, dry, full)
    except AudiencesyncError as exc:
        return _page(request, seen, name, offset=0, error=exc)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _request(request: Request, seen: Visitor, name: str, dry: bool, full: bool) -> int:
    with session.context_of(request).workspace(seen.actor) as workspace:
        return workspace.runs.request(name, dry_run=dry, full=full).id


def _remove(request: Request, seen: Visitor, name: str) -> str:
    with session.context_of(request).workspace(seen.actor) as workspace:
        return workspace.exports.remove(name).name


def _page(
    request: Request,
    seen: Visitor,
    name: str,
    *,
    offset: int,
    error: AudiencesyncError | None,
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        export = export_view(workspace.exports.get(name))
        runs = workspace.runs.list(export=export.name, limit=PAGE, offset=offset)
        lists = workspace.runs.list_drift(export.name)
        active = workspace.runs.in_progress(export.name)
    status = 200 if error is None else (403 if error.code == "forbidden" else 409)
    return render(
        request, "export.html", status=status, user=seen.actor, csrf=seen.csrf,
        export=export, runs=runs, lists=lists, active=active, section="exports",
        error=error, page_size=PAGE,
    )  # fmt: skip


def _confirm(
    request: Request, seen: Visitor, name: str, *, error: AudiencesyncError | None
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        export = export_view(workspace.exports.get(name))
    status = 200 if error is None else 409
    return render(
        request, "export_remove.html", status=status, user=seen.actor,
        csrf=seen.csrf, export=export, error=error, section="exports",
    )  # fmt: skip
