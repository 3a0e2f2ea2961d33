"""One segment's page: its definition, counts history, a preview of its first
members, "why is this profile in (or not in) it?", and Remove (confirmed).

Every URL takes the segment's name as a query parameter or a form field
(``/segments/view?name=...``, ``/segments/remove?name=...``; ``POST
/segments/explain`` and ``POST /segments/remove`` carry it in the form), so a
name holding ``/`` or looking like an action (``a/edit``) is never ambiguous.
A profile key is only ever sent in a POST body: it may be an email address and
must not land in an address bar or an access log.

The preview and the explanation show profile data: the segment service refuses
them to viewers, who see the counts only. A preview counts the members, and
that count joins the history, as it does from the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.app.views.segments import ExplainView, PreviewView
from audiencesync.auth.roles import ALLOWED, Action, check
from audiencesync.errors import AccessDeniedError, AudiencesyncError, ConfigError
from audiencesync.segments.description import describe_condition
from audiencesync.segments.model import Condition, Exists, Group, Node, Not
from audiencesync.segments.rules import RulesDefinition
from audiencesync.segments.service import HISTORY_LIMIT
from audiencesync.web.errors import status_of
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.segments import may_edit, segment_url
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
PREVIEW = 100  # members the page shows
MAX_KEY = 1_000
Name = Annotated[str, Query(min_length=1, max_length=1000)]


@dataclass(frozen=True, slots=True)
class Shown:
    """A rules node as the page shows it: a condition's text, or a group."""

    kind: str  # condition, all, any, not, exists
    text: str = ""
    table: str = ""
    items: list[Shown] = field(default_factory=list)


def shown(node: Node) -> Shown:
    """``node`` as nested, readable parts."""
    if isinstance(node, Condition):
        return Shown("condition", describe_condition(node))
    if isinstance(node, Group):
        return Shown(node.mode, items=[shown(item) for item in node.items])
    if isinstance(node, Not):
        return Shown("not", items=[shown(node.item)])
    return _exists(node)


def _exists(node: Exists) -> Shown:
    inner = [shown(node.where)] if node.where is not None else []
    return Shown("exists", table=node.table, items=inner)


@dataclass
class Explained:
    """The explain form: the key typed, and the answer or the refusal."""

    key: str = ""
    answer: ExplainView | None = None
    error: AudiencesyncError | None = None


@router.get("/segments/view")
def segment_page(request: Request, name: Name) -> Response:
    """The segment, its counts history and (not for viewers) its first members."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    return _page(request, seen, name, Explained())


@router.post("/segments/explain")
async def explain_profile(request: Request) -> Response:
    """Why the profile with the key typed is in or out, condition by condition."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    name = str(form.get("name", ""))
    explained = Explained(key=str(form.get("key", "")).strip()[:MAX_KEY])
    if not session.csrf_ok(seen.session, form.get("csrf")):
        explained.error = _expired()
        return _page(request, seen, name, explained)
    if not explained.key:
        explained.error = ConfigError(
            "Type the key of a profile.", code="invalid", field="key"
        )
        return _page(request, seen, name, explained)
    try:
        answer = await run_in_threadpool(_explain, request, seen, name, explained.key)
    except AccessDeniedError:
        raise  # the refusal page
    except AudiencesyncError as exc:
        explained.error = exc
    else:
        explained.answer = answer
    return _page(request, seen, name, explained)


@router.get("/segments/remove")
def remove_page(request: Request, name: Name) -> Response:
    """Ask to confirm the removal (not for viewers: a refusal page)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    check(seen.actor, Action.EDIT_SEGMENTS)
    return _confirm(request, seen, name, error=None)


@router.post("/segments/remove")
async def remove_segment(request: Request) -> Response:
    """Remove it (refused while an export uses it); then the segments list."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    name = str(form.get("name", ""))
    revision = str(form.get("revision", "")).strip()
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return _confirm(request, seen, name, error=_expired())
    try:
        await run_in_threadpool(_remove, request, seen, name, revision)
    except AccessDeniedError:
        raise
    except AudiencesyncError as exc:
        return _confirm(request, seen, name, error=exc)
    return RedirectResponse(f"/segments?{urlencode({'removed': name})}", 303)


def _expired() -> ConfigError:
    return ConfigError("The form expired; send it again.", code="form_expired")


def _explain(request: Request, seen: Visitor, name: str, key: str) -> ExplainView:
    with session.context_of(request).workspace(seen.actor) as workspace:
        return ExplainView.of(workspace.segments.explain(name, key))


def _remove(request: Request, seen: Visitor, name: str, revision: str) -> None:
    with session.context_of(request).workspace(seen.actor) as workspace:
        workspace.segments.delete(
            name, expected_revision=int(revision) if revision.isdigit() else None
        )


def _page(request: Request, seen: Visitor, name: str, explained: Explained) -> Response:
    viewer_only = seen.actor.role not in ALLOWED[Action.VIEW_PROFILES]
    preview: PreviewView | None = None
    preview_error: AudiencesyncError | None = None
    with session.context_of(request).workspace(seen.actor) as workspace:
        info = workspace.segments.get(name)
        if not viewer_only:
            try:
                preview = PreviewView.of(
                    workspace.segments.preview(info.name, limit=PREVIEW, record=False)
                )
            except AccessDeniedError:
                viewer_only = True
            except AudiencesyncError as exc:  # e.g. a column it reads was removed
                preview_error = exc
        history = workspace.segments.history(info.name, limit=HISTORY_LIMIT)
    definition = info.definition
    rules = shown(definition.root) if isinstance(definition, RulesDefinition) else None
    error = explained.error
    status = 200
    if error is not None:
        status = 403 if error.code == "form_expired" else status_of(error)
    return render(
        request, "segments_detail.html", status=status, user=seen.actor,
        csrf=seen.csrf, segment=info, rules=rules, history=history,
        preview=preview, preview_error=preview_error, viewer_only=viewer_only,
        explained=explained, may_edit=may_edit(seen.actor),
        edit_url=segment_url(info.name, "edit"),
        remove_url=segment_url(info.name, "remove"), section="segments",
    )  # fmt: skip


def _confirm(
    request: Request, seen: Visitor, name: str, *, error: AudiencesyncError | None
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        info = workspace.segments.get(name)
    status = 200
    if error is not None:
        status = 403 if error.code == "form_expired" else status_of(error)
    return render(
        request, "segments_remove.html", status=status, user=seen.actor,
        csrf=seen.csrf, segment=info, error=error, back=segment_url(info.name),
        section="segments",
    )  # fmt: skip
