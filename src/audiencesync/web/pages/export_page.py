"""One export's page: its settings, Run now / Dry run / Full resync, its runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.exports import export_view
from audiencesync.errors import AudiencesyncError
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 20  # runs per page of the history
KINDS = {"run": (False, False), "dry": (True, False), "full": (False, True)}


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
    status = 200 if error is None else (403 if error.code == "forbidden" else 409)
    return render(
        request, "export.html", status=status, user=seen.actor, csrf=seen.csrf,
        export=export, runs=runs, section="exports", error=error, page_size=PAGE,
    )  # fmt: skip
