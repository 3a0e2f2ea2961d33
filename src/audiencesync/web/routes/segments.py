"""``/api/v1/segments``: define segments, count, preview and explain them.

A segment's name is its URL path segment, URL-encoded (a ``/`` in a name is
``%2F``). Its revision is its ETag: ``PATCH`` and ``DELETE`` take ``If-Match``
and refuse a stale one with 412.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from audiencesync.app.views import Page
from audiencesync.app.views.segments import (
    ExplainView,
    PreviewView,
    SegmentCountView,
    SegmentDetailView,
    SegmentView,
    ValidationView,
)
from audiencesync.segments.names import MAX_NAME_LENGTH
from audiencesync.segments.service import (
    HISTORY_LIMIT,
    MAX_PREVIEW,
    definition_of,
    required_definition,
)
from audiencesync.segments.where import MAX_WHERE_LENGTH
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.etag import IfMatch, expected_revision, set_etag

router = APIRouter(tags=["segments"], responses=ERROR_RESPONSES)

MAX_DESCRIPTION = 2_000
MAX_KEY = 1_000

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Where = Annotated[str, Field(max_length=MAX_WHERE_LENGTH)]
Rules = Annotated[
    dict[str, Any],
    Field(description="A rules document, as in docs/segments.md."),
]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]


class DefinitionBody(BaseModel):
    """A definition: an SQL condition (``where``) or a rules document."""

    model_config = ConfigDict(extra="forbid")

    where: Where | None = None
    rules: Rules | None = None


class SegmentCreate(DefinitionBody):
    """A new segment: its name (the Iterable list's name) and its definition."""

    name: Name
    description: Description | None = None


class SegmentEdit(DefinitionBody):
    """What to change: a new name, a new definition, a description."""

    name: Name | None = None
    description: Description | None = None


def _location(name: str) -> str:
    return f"/api/v1/segments/{quote(name, safe='')}"


@router.get("/segments", summary="List segments")
def list_segments(
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> Page[SegmentView]:
    """Every segment by name, with its latest member count."""
    infos, total = workspace.segments.list_page(limit=limit, offset=offset)
    items = [SegmentView.of(info) for info in infos]
    return Page[SegmentView](items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/segments",
    status_code=status.HTTP_201_CREATED,
    summary="Create a segment",
)
def create_segment(
    body: SegmentCreate, workspace: WorkspaceDep, response: Response
) -> SegmentView:
    """Validate, save and count a new segment (administrators and contributors)."""
    definition = required_definition(body.where, body.rules)
    info = workspace.segments.create(
        body.name, definition, description=body.description
    )
    response.headers["Location"] = _location(info.name)
    set_etag(response, info.revision)
    return SegmentView.of(info)


@router.post("/segments/validate", summary="Check a definition without saving it")
def validate_segment(body: DefinitionBody, workspace: WorkspaceDep) -> ValidationView:
    """Valid with its member count now, or the error and its field; saves nothing."""
    return ValidationView.of(workspace.segments.validate(body.where, body.rules))


@router.get("/segments/{name:path}/preview", summary="The first members")
def preview_segment(
    name: str,
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PREVIEW)] = 100,
    column: Annotated[
        list[str] | None, Query(description="A column to show (repeatable).")
    ] = None,
) -> PreviewView:
    """The first members (key, then the columns) and the member count."""
    return PreviewView.of(workspace.segments.preview(name, limit=limit, columns=column))


@router.get("/segments/{name:path}/counts", summary="The counts history")
def segment_counts(
    name: str,
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = HISTORY_LIMIT,
) -> list[SegmentCountView]:
    """The latest evaluations, newest first."""
    history = workspace.segments.history(name, limit=limit)
    return [SegmentCountView.of(record) for record in history]


@router.get("/segments/{name:path}/explain", summary="Why a profile is in or out")
def explain_segment(
    name: str,
    workspace: WorkspaceDep,
    key: Annotated[str, Query(min_length=1, max_length=MAX_KEY)],
) -> ExplainView:
    """Each condition's result for the profile whose key is ``key``."""
    return ExplainView.of(workspace.segments.explain(name, key))


@router.get("/segments/{name:path}", summary="One segment and its counts history")
def get_segment(
    name: str, workspace: WorkspaceDep, response: Response
) -> SegmentDetailView:
    """The segment, its latest evaluations, and its revision as the ETag."""
    info = workspace.segments.get(name)
    history = workspace.segments.history(info.name)
    set_etag(response, info.revision)
    return SegmentDetailView.with_history(info, history)


@router.patch("/segments/{name:path}", summary="Edit a segment")
def edit_segment(
    name: str,
    body: SegmentEdit,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> SegmentView:
    """Rename it, or change its definition or description (412 when stale)."""
    revision = expected_revision(if_match)
    definition = definition_of(body.where, body.rules, required=False)
    info = workspace.segments.update(
        name,
        new_name=body.name,
        definition=definition,
        description=body.description,
        expected_revision=revision,
    )
    set_etag(response, info.revision)
    return SegmentView.of(info)


@router.delete(
    "/segments/{name:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a segment",
)
def delete_segment(
    name: str, workspace: WorkspaceDep, if_match: IfMatch = None
) -> None:
    """Remove it and its counts history (not while an export uses it)."""
    workspace.segments.delete(name, expected_revision=expected_revision(if_match))
