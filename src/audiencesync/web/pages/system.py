"""Administrator > System: the refresh schedule, Refresh now, every export's runs.

Everyone signed in reads the page: the refresh schedule (its cron, zone, words
and next three runs), a refresh that was asked for, and each export's last run
(status, when, counts) and next run (``workspace.system.overview``, the view of
``GET /api/v1/system``). Administrators change the schedule (the service's checks,
refusals by field) and ask for a refresh now, which wakes ``serve``'s scheduler
as ``POST /api/v1/refresh`` does. Others see no change control, and the service
refuses their requests anyway.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.system import SystemService
from audiencesync.app.views.schedule import SchedulePreviewView, SystemView
from audiencesync.errors import AccessDeniedError, AudiencesyncError, ConfigError
from audiencesync.web.pages import i18n, session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = ("cron", "timezone")


@router.get("/system")
def system_page(request: Request) -> Response:
    """The refresh schedule and every export's last and next run."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _page(request, seen, values=None, error=None)


@router.post("/system/schedule")
async def change_schedule(request: Request) -> Response:
    """Set the refresh schedule, or switch it off (administrators)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return RedirectResponse("/system", status_code=303)
    clear = form.get("action") == "clear"
    try:
        await run_in_threadpool(_change, request, seen, values, clear)
    except AccessDeniedError:
        raise  # a page saying who may
    except AudiencesyncError as exc:
        return _page(request, seen, values=values, error=exc)
    return RedirectResponse("/system", status_code=303)


@router.post("/system/refresh")
async def refresh_now(request: Request) -> Response:
    """Ask for a refresh; ``serve``'s scheduler wakes and runs it, as this user."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    if session.csrf_ok(seen.session, form.get("csrf")):
        await run_in_threadpool(_refresh, request, seen)
    return RedirectResponse("/system", status_code=303)


def _change(
    request: Request, seen: Visitor, values: dict[str, str], clear: bool
) -> None:
    with session.context_of(request).workspace(seen.actor) as workspace:
        if clear:
            workspace.system.clear_schedule()
        else:
            workspace.system.set_schedule(
                values["cron"], timezone=values["timezone"] or None
            )


def _refresh(request: Request, seen: Visitor) -> None:
    context = session.context_of(request)
    with context.workspace(seen.actor) as workspace:
        workspace.system.request_refresh()
    context.refresh_asked.set()


def _page(
    request: Request,
    seen: Visitor,
    *,
    values: dict[str, str] | None,
    error: AudiencesyncError | None,
) -> Response:
    language = i18n.choose(request)
    with session.context_of(request).workspace(seen.actor) as workspace:
        overview = workspace.system.overview()
        preview = _preview(overview, workspace.system, language)
    schedule = overview.schedule
    shown = values or {"cron": schedule.cron or "", "timezone": schedule.timezone}
    field = error.field if error is not None and error.field in FIELDS else None
    return render(
        request, "system.html", status=200 if error is None else 422,
        user=seen.actor, csrf=seen.csrf, overview=overview, preview=preview,
        values=shown, error=error, error_field=field, section="system",
    )  # fmt: skip


def _preview(
    overview: SystemView, system: SystemService, language: str
) -> SchedulePreviewView | None:
    """The refresh schedule in words and its next runs (None: not set, or broken)."""
    cron = overview.schedule.cron
    if cron is None:
        return None
    try:
        return system.preview(
            cron, timezone=overview.schedule.timezone, language=language
        )
    except ConfigError:  # a stored schedule no longer valid: the page says so
        return None
