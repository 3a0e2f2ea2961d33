"""``/api/v1/profiles``: the schema, the tables, imports and held refreshes.

An import is a multipart upload (``file``, optional ``table``, ``key``,
``replace``), received by :mod:`audiencesync.web.uploads` (the Profiles page's
path too): streamed into a private folder under the data folder, at most
:data:`~audiencesync.web.uploads.MAX_UPLOAD_BYTES`, and imported exactly as
``audiencesync profiles import`` imports a file, with the same checks and
messages. After a successful import the file stays: it is now one of the
table's sources, which a refresh reads again. A failed import removes it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from audiencesync.app.views.profiles import (
    HoldView,
    ImportView,
    TableDetailView,
    TableView,
)
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.uploads import (
    MAX_FIELD,
    check_length,
    import_upload,
    read_import_form,
)

router = APIRouter(tags=["profiles"], responses=ERROR_RESPONSES)

TableName = Annotated[str, PathParam(min_length=1, max_length=MAX_FIELD)]

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A .csv, .parquet, .jsonl or .ndjson file.",
                        },
                        "table": {"type": "string", "maxLength": MAX_FIELD},
                        "key": {"type": "string", "maxLength": MAX_FIELD},
                        "replace": {"type": "boolean", "default": False},
                    },
                }
            }
        },
    }
}


@router.get("/profiles/schema", summary="The profile engine's tables and columns")
def schema(workspace: WorkspaceDep) -> list[TableView]:
    """Every table: key, row count, columns with their kinds and types."""
    catalog = workspace.profiles.schema()
    return [TableView.of(table) for table in catalog.tables]


@router.get("/profiles/tables", summary="Tables with their imports")
def tables(workspace: WorkspaceDep) -> list[TableDetailView]:
    """Every table with its sources (in import order) and any held refresh."""
    return [TableDetailView.of_detail(detail) for detail in workspace.profiles.tables()]


@router.get("/profiles/tables/{table}", summary="One table with its imports")
def table(table: TableName, workspace: WorkspaceDep) -> TableDetailView:
    """The table, its sources and any held refresh."""
    return TableDetailView.of_detail(workspace.profiles.table(table))


@router.post(
    "/profiles/tables/{table}/approve",
    summary="Apply a held refresh",
)
def approve(table: TableName, workspace: WorkspaceDep) -> HoldView:
    """Put the refresh the removal brake held in place (administrators)."""
    return HoldView.of(workspace.profiles.approve_refresh(table))


@router.post(
    "/profiles/tables/{table}/discard",
    summary="Drop a held refresh",
)
def discard(table: TableName, workspace: WorkspaceDep) -> HoldView:
    """Drop the held refresh; the table keeps its rows (administrators)."""
    return HoldView.of(workspace.profiles.discard_refresh(table))


@router.post(
    "/profiles/imports",
    status_code=status.HTTP_201_CREATED,
    summary="Import a file of profiles (or another table)",
    openapi_extra=_IMPORT_BODY,
    responses={413: {"description": "The file is larger than the limit."}},
)
async def import_profiles(
    request: Request, workspace: WorkspaceDep, response: Response
) -> ImportView:
    """Upload and import a file, as ``audiencesync profiles import`` does."""
    await run_in_threadpool(workspace.profiles.check_import)
    check_length(request)
    async with request.form(max_files=1, max_fields=10) as form:
        report = await import_upload(workspace, read_import_form(form))
    response.headers["Location"] = (
        f"/api/v1/profiles/tables/{quote(report.table, safe='')}"
    )
    return ImportView.of(report)
