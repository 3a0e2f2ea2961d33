"""``/api/v1/profiles``: the schema, the tables, imports and held refreshes.

An import is a multipart upload (``file``, optional ``table``, ``key``,
``replace``). The file is streamed into a private folder of its own under the
data folder's ``uploads`` (never held whole in memory, at most
:data:`MAX_UPLOAD_BYTES`), keeping its name and suffix, and imported exactly as
``audiencesync profiles import`` imports a file, with the same checks and
messages. After a successful import the file stays: it is now one of the
table's sources, which a refresh reads again. A failed import removes it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from audiencesync.app.views.profiles import (
    HoldView,
    ImportView,
    TableDetailView,
    TableView,
)
from audiencesync.errors import SourceError
from audiencesync.profiles.sources import source_format
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES, ApiError, printable

router = APIRouter(tags=["profiles"], responses=ERROR_RESPONSES)

MAX_UPLOAD_BYTES = 2 * 1024**3
"""The largest upload accepted (2 GiB); a larger one is refused with 413."""
UPLOADS_FOLDER = "uploads"
CHUNK_BYTES = 1024 * 1024
MAX_FILE_NAME = 120
MAX_FIELD = 255
_UNSAFE = re.compile(r"[^\w.\- ]", re.ASCII)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}

TableName = Annotated[str, PathParam(min_length=1, max_length=MAX_FIELD)]

FORM_FIELDS = frozenset({"file", "table", "key", "replace"})
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
    _check_length(request)
    async with request.form(max_files=1, max_fields=10) as form:
        unknown = sorted(set(form.keys()) - FORM_FIELDS)
        if unknown:
            msg = (
                f"Unknown form field {printable(unknown[0])!r}; an import takes"
                f" {', '.join(sorted(FORM_FIELDS))}."
            )
            raise _invalid(msg, field=printable(unknown[0]))
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            msg = "Send the file to import as the form field 'file'."
            raise _invalid(msg, field="file")
        table = _text(form.get("table"), "table")
        key = _text(form.get("key"), "key")
        replace = _flag(form.get("replace"))
        name = _file_name(upload.filename)
        try:
            source_format(Path(name))  # the CLI's check and message for the suffix
        except SourceError as exc:
            exc.field = "file"
            raise
        folder = _private_folder(workspace.settings.home / UPLOADS_FOLDER)
        try:
            path = folder / name
            await _save(upload, path)
            report = await run_in_threadpool(
                workspace.profiles.import_file,
                path,
                table=table,
                key=key,
                replace=replace,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    response.headers["Location"] = (
        f"/api/v1/profiles/tables/{quote(report.table, safe='')}"
    )
    return ImportView.of(report)


def _check_length(request: Request) -> None:
    length = request.headers.get("content-length")
    if length is None:
        raise ApiError(
            411, "length_required", "Send the upload with a Content-Length header."
        )
    if not length.isdigit() or int(length) > MAX_UPLOAD_BYTES:
        raise _too_large()


def _too_large() -> ApiError:
    limit = MAX_UPLOAD_BYTES // 1024**2
    return ApiError(
        413,
        "too_large",
        f"The upload is larger than the limit of {limit:,} MiB.",
        details={"limit_bytes": MAX_UPLOAD_BYTES},
    )


def _invalid(message: str, *, field: str) -> ApiError:
    return ApiError(422, "invalid", message, details={"field": field})


def _text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        msg = f"'{field}' must be text of at most {MAX_FIELD} characters."
        raise _invalid(msg, field=field)
    return value.strip() or None


def _flag(value: object) -> bool:
    if value is None:
        return False
    text = value.strip().lower() if isinstance(value, str) else "?"
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    msg = "'replace' must be true or false."
    raise _invalid(msg, field="replace")


def _file_name(raw: str | None) -> str:
    """The upload's own name, made safe to be a file name in the data folder."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = _UNSAFE.sub("_", base).strip(" .")
    suffix = Path(clean).suffix.lower()
    stem = clean[: len(clean) - len(suffix)] if suffix else clean
    stem = stem[: MAX_FILE_NAME - len(suffix)] or "upload"
    return f"{stem}{suffix}"


def _private_folder(parent: Path) -> Path:
    parent.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="import-", dir=parent))


async def _save(upload: UploadFile, path: Path) -> None:
    """Copy the upload in chunks into a new 0600 file; 413 past the limit."""
    written = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := await upload.read(CHUNK_BYTES):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                raise _too_large()
            out.write(chunk)
