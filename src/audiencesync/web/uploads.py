"""Receiving a file of profiles: the one path of the API upload and the Profiles page.

An import is a multipart form (``file``, optional ``table``, ``key``, ``replace``).
The file is streamed into a private folder of its own under the data folder's
``uploads`` (never held whole in memory, at most :data:`MAX_UPLOAD_BYTES`),
keeping its name and suffix, and imported exactly as ``audiencesync profiles
import`` imports a file, with the same checks and messages. After a successful
import the file stays: it is now one of the table's sources, which a refresh
reads again. A failed import removes it.

A form that is wrong (an unknown field, no file, a bad ``replace``) raises
:class:`~audiencesync.errors.ConfigError` naming its ``field``; a file over the
limit raises the HTTP layer's 413.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from audiencesync.errors import ConfigError, SourceError
from audiencesync.profiles.sources import source_format
from audiencesync.web.errors import ApiError, printable

if TYPE_CHECKING:
    from starlette.requests import Request

    from audiencesync.app.workspace import Workspace
    from audiencesync.profiles.importing import ImportReport

MAX_UPLOAD_BYTES = 2 * 1024**3
"""The largest upload accepted (2 GiB); a larger one is refused with 413."""
UPLOADS_FOLDER = "uploads"
CHUNK_BYTES = 1024 * 1024
MAX_FILE_NAME = 120
MAX_FIELD = 255
FORM_FIELDS = frozenset({"file", "table", "key", "replace"})
_UNSAFE = re.compile(r"[^\w.\- ]", re.ASCII)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class ImportForm:
    """What an upload form asks for: the file and the import's options."""

    upload: UploadFile
    table: str | None
    key: str | None
    replace: bool


def check_length(request: Request) -> None:
    """Refuse an upload without a Content-Length (411) or over the limit (413)."""
    length = request.headers.get("content-length")
    if length is None:
        raise ApiError(
            411, "length_required", "Send the upload with a Content-Length header."
        )
    if not length.isdigit() or int(length) > MAX_UPLOAD_BYTES:
        raise too_large()


def too_large() -> ApiError:
    """The 413 of an upload over :data:`MAX_UPLOAD_BYTES`."""
    limit = MAX_UPLOAD_BYTES // 1024**2
    return ApiError(
        413,
        "too_large",
        f"The upload is larger than the limit of {limit:,} MiB.",
        details={"limit_bytes": MAX_UPLOAD_BYTES},
    )


def read_import_form(
    form: FormData, *, also: frozenset[str] = frozenset()
) -> ImportForm:
    """The upload's file and options; ConfigError by its field if the form is wrong.

    ``also`` names fields the caller reads itself (the pages' ``csrf``).
    """
    allowed = FORM_FIELDS | also
    unknown = sorted(set(form.keys()) - allowed)
    if unknown:
        msg = (
            f"Unknown form field {printable(unknown[0])!r}; an import takes"
            f" {', '.join(sorted(FORM_FIELDS))}."
        )
        raise ConfigError(msg, field=printable(unknown[0]))
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        msg = "Send the file to import as the form field 'file'."
        raise ConfigError(msg, field="file")
    return ImportForm(
        upload=upload,
        table=_text(form.get("table"), "table"),
        key=_text(form.get("key"), "key"),
        replace=_flag(form.get("replace")),
    )


async def import_upload(workspace: Workspace, form: ImportForm) -> ImportReport:
    """Save the upload in the data folder and import it as the CLI does.

    The suffix is checked first (the CLI's message); a failed import removes
    the saved file and its folder.
    """
    name = file_name(form.upload.filename)
    try:
        source_format(Path(name))  # the CLI's check and message for the suffix
    except SourceError as exc:
        exc.field = "file"
        raise
    folder = _private_folder(workspace.settings.home / UPLOADS_FOLDER)
    try:
        path = folder / name
        await _save(form.upload, path)
        return await run_in_threadpool(
            workspace.profiles.import_file,
            path,
            table=form.table,
            key=form.key,
            replace=form.replace,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        msg = f"'{field}' must be text of at most {MAX_FIELD} characters."
        raise ConfigError(msg, field=field)
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
    raise ConfigError(msg, field="replace")


def file_name(raw: str | None) -> str:
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
                raise too_large()
            out.write(chunk)
