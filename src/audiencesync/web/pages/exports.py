"""Data > Exports: every export the user may see, with its last run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.exports import export_view
from audiencesync.web.pages import session
from audiencesync.web.pages.access import HOME
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> Response:
    """The first page: the exports."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/exports")
def exports_page(
    request: Request, removed: Annotated[str, Query(max_length=255)] = ""
) -> Response:
    """The exports list (signed-in users of every role); ``removed``: say so."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    with session.context_of(request).workspace(seen.actor) as workspace:
        exports = [export_view(info) for info in workspace.exports.list_all()]
    return render(
        request, "exports.html", user=seen.actor, csrf=seen.csrf, exports=exports,
        section="exports", removed=removed,
    )  # fmt: skip
