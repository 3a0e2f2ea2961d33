"""``/api/v1/exports``: export setups (changes: administrators and contributors).

Everyone reads exports. Administrators change any; contributors only those on
connections shared with them (and not detached ones). Saving checks everything
against the profile table and counts each segment, but never runs the export.
Runs are requested at ``POST /exports/{name}/runs`` (see the runs routes).
"""

from __future__ import annotations

from typing import Annotated, Any, Self
from urllib.parse import quote

from fastapi import APIRouter, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from audiencesync.app.views import Page
from audiencesync.app.views.exports import (
    ExportSavedView,
    ExportView,
    export_saved_view,
    export_view,
)
from audiencesync.exports import UNCHANGED
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.etag import IfMatch, expected_revision, set_etag
from audiencesync.web.params import Limit, NamePath, Offset, page_of

router = APIRouter(tags=["exports"], responses=ERROR_RESPONSES)

Text = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*$")
]
Column = Annotated[Text, Field(description="A column of the profile table.")]
Percent = Annotated[int, Field(ge=0, le=100)]
Segments = Annotated[
    list[Text],
    Field(min_length=1, max_length=100, description="Each feeds the list of its name."),
]
Fields = Annotated[
    dict[Text, Text],
    Field(max_length=100, description="Iterable field: profile column."),
]
Schedule = Annotated[
    Text, Field(description='refresh, manual, or cron such as "0 6 * * *".')
]
TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$"),
    Field(description="IANA time zone of a cron schedule.", examples=["UTC"]),
]
Mode = Annotated[Text, Field(description="mirror or add-only.")]


class ExportCreate(BaseModel):
    """A new export: where, which profiles, which segments, and when."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    connection: Text
    email_field: Column
    segments: Segments
    user_id_field: Column | None = None
    fields: Fields = Field(default_factory=dict)
    schedule: Schedule = "refresh"
    timezone: TimeZone = "UTC"
    mode: Mode = "mirror"
    removal_brake: Percent = 20
    consent_column: Column | None = None
    drift_threshold: Percent = 5
    auto_resync: StrictBool = True


_CLEARABLE = frozenset({"user_id_field", "consent_column"})


class ExportEdit(BaseModel):
    """The settings to change; those left out stay. ``null`` clears an optional one."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(None, description="A new name.")
    connection: Text | None = Field(None, description="Move to this connection.")
    email_field: Column | None = None
    segments: Segments | None = Field(None, description="Replaces the segments.")
    user_id_field: Column | None = Field(None, description="null: map no userId.")
    fields: Fields | None = Field(None, description="Replaces the extra fields.")
    schedule: Schedule | None = None
    timezone: TimeZone | None = None
    mode: Mode | None = None
    removal_brake: Percent | None = None
    consent_column: Column | None = Field(None, description="null: send regardless.")
    drift_threshold: Percent | None = None
    auto_resync: StrictBool | None = None

    @model_validator(mode="after")
    def _null_only_clears(self) -> Self:
        for name in self.model_fields_set - _CLEARABLE:
            if getattr(self, name) is None:
                msg = f"{name} cannot be null; leave it out to keep it."
                raise ValueError(msg)
        return self

    def changes(self) -> dict[str, Any]:
        """The service's ``edit`` keywords: what was sent, the rest UNCHANGED."""
        given = {name: getattr(self, name) for name in self.model_fields_set}
        options = {name: given.get(name, UNCHANGED) for name in type(self).model_fields}
        options["new_name"] = options.pop("name")
        return options


def _location(name: str) -> str:
    return f"/api/v1/exports/{quote(name, safe='')}"


@router.get("/exports", summary="List exports")
def list_exports(
    workspace: WorkspaceDep, limit: Limit = 50, offset: Offset = 0
) -> Page[ExportView]:
    """Every export by name, with its schedule, next run and last run."""
    views = [export_view(info) for info in workspace.exports.list_all()]
    return page_of(views, limit=limit, offset=offset)


@router.post(
    "/exports",
    status_code=status.HTTP_201_CREATED,
    summary="Add an export (administrators, contributors)",
)
def add_export(
    body: ExportCreate, workspace: WorkspaceDep, response: Response
) -> ExportSavedView:
    """Check and save an export and count its segments; nothing is sent."""
    created = workspace.exports.add(
        body.name,
        connection=body.connection,
        email_field=body.email_field,
        segments=body.segments,
        user_id_field=body.user_id_field,
        fields=body.fields,
        schedule=body.schedule,
        timezone=body.timezone,
        mode=body.mode,
        removal_brake=body.removal_brake,
        consent_column=body.consent_column,
        drift_threshold=body.drift_threshold,
        auto_resync=body.auto_resync,
    )
    view = export_saved_view(created)
    response.headers["Location"] = _location(view.name)
    set_etag(response, view.revision)
    return view


@router.get("/exports/{name:path}", summary="Show an export")
def get_export(
    name: NamePath, workspace: WorkspaceDep, response: Response
) -> ExportView:
    """One export, with its ETag."""
    view = export_view(workspace.exports.get(name))
    set_etag(response, view.revision)
    return view


@router.patch(
    "/exports/{name:path}", summary="Change an export (administrators, contributors)"
)
def edit_export(
    name: NamePath,
    body: ExportEdit,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> ExportSavedView:
    """Change what is sent; member counts come back when the segments changed."""
    changed = workspace.exports.edit(
        name, expected_revision=expected_revision(if_match), **body.changes()
    )
    view = export_saved_view(changed)
    set_etag(response, view.revision)
    return view


@router.delete(
    "/exports/{name:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an export (administrators, contributors)",
)
def remove_export(
    name: NamePath, workspace: WorkspaceDep, if_match: IfMatch = None
) -> Response:
    """Delete the setup; its Iterable lists and its runs stay."""
    workspace.exports.remove(name, expected_revision=expected_revision(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/exports/{name:path}/detach",
    summary="Unlink an export from its connection (administrators, contributors)",
)
def detach_export(
    name: NamePath,
    workspace: WorkspaceDep,
    response: Response,
    if_match: IfMatch = None,
) -> ExportView:
    """It stays, inactive, with "No connection"; only administrators change it then."""
    view = export_view(
        workspace.exports.detach(name, expected_revision=expected_revision(if_match))
    )
    set_etag(response, view.revision)
    return view
