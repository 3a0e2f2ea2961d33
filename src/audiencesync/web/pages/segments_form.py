"""Data > Segments > Add segment, and Edit segment.

The definition is written either with the rule builder (``segment_builder.js``
writes the rules JSON into the hidden ``rules`` field) or as an SQL condition
(the ``where`` textarea, which works without JavaScript). As the user types,
``segment_validate.js`` asks ``POST /api/v1/segments/validate`` (by the session
cookie and the page's CSRF header) and shows the count or the error by its
field. Saving goes through the segment service; its refusals are shown by their
field, and an edit of a segment changed since the form was opened (its
revision) says so.

Add is ``/segments/new``; edit is ``/segments/edit?name=...``: the name is a
query parameter, so any name (``a/edit``, ``x/y``) is unambiguous.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audiencesync.auth.roles import Action, Actor, check
from audiencesync.errors import AccessDeniedError, AudiencesyncError, ConfigError
from audiencesync.profiles.catalog import Catalog
from audiencesync.segments.operators import OPERATORS, kinds_of, shape_of
from audiencesync.segments.rules import (
    Definition,
    RulesDefinition,
    definition_to_json,
    parse_rules_text,
    parse_where,
)
from audiencesync.segments.service import SegmentInfo
from audiencesync.web.errors import status_of
from audiencesync.web.pages import session
from audiencesync.web.pages.guard import Visitor, visitor
from audiencesync.web.pages.segments import segment_url
from audiencesync.web.pages.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "description", "kind", "rules", "where", "revision")
FIELD_OF_ERROR = {"name": "name", "description": "description", "where": "where",
                  "rules": "rules"}  # fmt: skip
Name = Annotated[str, Query(min_length=1, max_length=1000)]


@router.get("/segments/new")
def new_segment_page(request: Request) -> Response:
    """The Add segment form (administrators and contributors)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    _require_editor(seen.actor)
    values = {"kind": "rules", "rules": "", "where": "", "name": "", "description": ""}
    return _form(request, seen, values=values, editing=None, error=None)


@router.post("/segments/new")
async def add_segment(request: Request) -> Response:
    """Save the new segment; its page, or the form with the refusal by its field."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return _form(request, seen, values=values, editing=None, error=_expired())
    try:
        name = await run_in_threadpool(_add, request, seen, values)
    except AccessDeniedError:
        raise  # the refusal page, not a form the user may not send
    except AudiencesyncError as exc:
        return _form(request, seen, values=values, editing=None, error=exc)
    return RedirectResponse(segment_url(name), status_code=303)


@router.get("/segments/edit")
def edit_segment_page(request: Request, name: Name) -> Response:
    """The Edit segment form, filled with the segment as it is now."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    _require_editor(seen.actor)
    with session.context_of(request).workspace(seen.actor) as workspace:
        info = workspace.segments.get(name)
    return _form(request, seen, values=_values_of(info), editing=info.name, error=None)


@router.post("/segments/edit")
async def edit_segment(request: Request, name: Name) -> Response:
    """Save the edit (refused when the segment changed since the form was read)."""
    seen = visitor(request)
    if not isinstance(seen, Visitor):
        return seen
    form = await request.form()
    values = {field: str(form.get(field, "")) for field in FIELDS}
    if not session.csrf_ok(seen.session, form.get("csrf")):
        return _form(request, seen, values=values, editing=name, error=_expired())
    try:
        saved = await run_in_threadpool(_edit, request, seen, name, values)
    except AccessDeniedError:
        raise  # the refusal page, not a form the user may not send
    except AudiencesyncError as exc:
        return _form(request, seen, values=values, editing=name, error=exc)
    return RedirectResponse(segment_url(saved), status_code=303)


def _require_editor(actor: Actor) -> None:
    """Viewers get a refusal page, not a form they cannot send (the roles the
    segment service checks; it checks again when saving)."""
    check(actor, Action.EDIT_SEGMENTS)


def _expired() -> ConfigError:
    return ConfigError("The form expired; send it again.", code="form_expired")


def definition_from_form(values: dict[str, str]) -> Definition:
    """The definition the form holds: the builder's rules or the SQL condition.

    Without JavaScript the builder writes nothing; an SQL condition typed
    then is used even if the rule builder was left chosen.
    """
    rules, where = values["rules"].strip(), values["where"].strip()
    use_rules = values["kind"] != "where" and (rules or not where)
    try:
        if use_rules:
            if not rules:
                msg = "Add a condition to the rules, or write an SQL condition."
                raise ConfigError(msg, code="invalid_rule", field="rules")
            return parse_rules_text(rules)
        return parse_where(where)
    except AudiencesyncError as exc:
        exc.field = exc.field or ("rules" if use_rules else "where")
        raise


def _add(request: Request, seen: Visitor, values: dict[str, str]) -> str:
    _require_editor(seen.actor)  # a viewer is refused before the form is read
    with session.context_of(request).workspace(seen.actor) as workspace:
        definition = definition_from_form(values)
        created = workspace.segments.create(
            values["name"], definition, description=values["description"] or None
        )
    return created.name


def _edit(request: Request, seen: Visitor, name: str, values: dict[str, str]) -> str:
    _require_editor(seen.actor)  # a viewer is refused before the form is read
    revision = values["revision"].strip()
    with session.context_of(request).workspace(seen.actor) as workspace:
        definition = definition_from_form(values)
        saved = workspace.segments.update(
            name,
            definition=definition,
            description=values["description"],
            expected_revision=int(revision) if revision.isdigit() else None,
        )
    return saved.name


def _values_of(info: SegmentInfo) -> dict[str, str]:
    stored = definition_to_json(info.definition)
    is_rules = isinstance(info.definition, RulesDefinition)
    return {
        "name": info.name,
        "description": info.description or "",
        "kind": "rules" if is_rules else "where",
        "rules": json.dumps(stored["rules"], ensure_ascii=False) if is_rules else "",
        "where": "" if is_rules else str(stored["where"]),
        "revision": str(info.revision),
    }


def builder_schema(catalog: Catalog) -> dict[str, Any]:
    """What the rule builder offers: profile columns, related tables, operators."""
    profile = catalog.profile

    def columns(names: Any) -> list[dict[str, str]]:
        return [{"name": col.name, "kind": col.kind.value} for col in names]

    related = [
        {"name": table.name, "columns": columns(table.columns)}
        for table in catalog.tables
        if profile is None or table.name != profile.name
    ]
    operators = [
        {"op": op, "shape": shape_of(op).name.lower(),
         "kinds": sorted(kind.value for kind in kinds_of(op))}
        for op in OPERATORS
    ]  # fmt: skip
    return {
        "columns": columns(profile.columns) if profile else [],
        "tables": related,
        "operators": operators,
    }


def _form(
    request: Request,
    seen: Visitor,
    *,
    values: dict[str, str],
    editing: str | None,
    error: AudiencesyncError | None,
) -> Response:
    with session.context_of(request).workspace(seen.actor) as workspace:
        schema = builder_schema(workspace.profiles.schema())
    field = FIELD_OF_ERROR.get(error.field or "") if error is not None else None
    status = 200 if error is None else status_of(error)
    if error is not None and error.code == "form_expired":
        status = 403
    return render(
        request, "segments_form.html", status=status, user=seen.actor,
        csrf=seen.csrf, values=values, editing=editing, error=error,
        error_field=field, schema=schema, section="segments",
        action="/segments/new" if editing is None else segment_url(editing, "edit"),
        back="/segments" if editing is None else segment_url(editing),
    )  # fmt: skip
