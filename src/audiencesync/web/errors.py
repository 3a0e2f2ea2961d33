"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Service errors keep their stable code; their status follows what the caller
should do (fix the input: 422, not allowed: 403, missing: 404, clashes: 409,
stale edit: 412, try later: 503). Request validation (FastAPI's) becomes 422
with each field named. Anything else is a bug: 500 with a generic message and
nothing of the request or the data in it; the details go to the server log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from audiencesync.errors import (
    AccessDeniedError,
    AudiencesyncError,
    ConfigError,
    ConflictError,
    FatalError,
    NotFoundError,
    RetryableError,
    StaleEditError,
)
from audiencesync.web.pages.errors import as_page

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    """What went wrong, in a stable code, one safe line, and its parameters."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["There is no segment named 'France'."])
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


class ApiError(Exception):
    """An error of the HTTP layer itself (401, 404 of a route, 428)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers


def status_of(error: AudiencesyncError) -> int:
    """The HTTP status of a service error, by what the caller should do."""
    order: tuple[tuple[type[AudiencesyncError], int], ...] = (
        (NotFoundError, 404),
        (StaleEditError, 412),
        (ConflictError, 409),
        (ConfigError, 422),
        (AccessDeniedError, 403),
        (RetryableError, 503),
        (FatalError, 422),
    )
    for kind, status in order:
        if isinstance(error, kind):
            return status
    return 400


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The one error shape, as a response."""
    body = ErrorBody(
        error=ErrorDetail(code=code, message=message, details=details or {})
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers=headers
    )


def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AudiencesyncError)  # noqa: S101 - registered for it only
    details = dict(exc.details)
    if exc.field is not None:
        details["field"] = exc.field
    return error_response(status_of(exc), exc.code, str(exc), details)


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for it only
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return _invalid([_invalid_field(error) for error in exc.errors()])


def _invalid(fields: list[dict[str, str]]) -> JSONResponse:
    """422: the first invalid field in the message and ``details.field``, all in
    ``details.fields`` (each with ``in``: body, query, path or header)."""
    if not fields:
        return error_response(422, "invalid_request", "Invalid request.")
    first = fields[0]
    message = f"{first['field']}: {first['message']}"
    details = {"field": first["field"], "in": first["in"], "fields": fields}
    return error_response(422, "invalid_request", message, details)


def _invalid_field(error: Mapping[str, Any]) -> dict[str, str]:
    """One invalid input: where (body, query, path, header), which field, why.

    Never the value: it may be profile data or a secret.
    """
    where = tuple(error.get("loc", ())) or ("request",)
    place, rest = str(where[0]), where[1:]
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return {
            "in": "body",
            "field": "body",
            "message": f"The body is not valid JSON ({reason}).",
        }
    field = printable(".".join(str(part) for part in rest) or place)
    return {
        "in": place,
        "field": field,
        "message": printable(str(error.get("msg", "invalid"))),
    }


def printable(text: str) -> str:
    """One safe line: no control characters, at most 200 characters."""
    clean = "".join(char if char.isprintable() else "?" for char in text)
    return clean[:200]


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
        return _invalid([{"in": "body", "field": "body", "message": _UNREADABLE}])
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = printable(str(exc.detail)) if exc.detail else "Request refused."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
    return error_response(exc.status_code, code, message, headers=headers)


def allowed_methods(app: Starlette, scope: Scope) -> list[str]:
    """Every method some route of ``app`` answers at the path of ``scope``.

    Starlette's own 405 lists the methods of the first route whose path
    matched; a path often has several routes (``GET`` and ``POST /segments``).
    """
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**scope, "method": method})[0] == Match.FULL
            for route in app.router.routes
        )
    ]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


_UNREADABLE_BODY = "There was an error parsing the body"
"""FastAPI's 400 for a body it cannot decode (not UTF-8, too deep, ...)."""
_UNREADABLE = (
    "The body cannot be read as its content type says"
    " (it is not UTF-8, nests too deeply, or has a number too long)."
)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in a request: %s", type(exc).__name__, exc_info=exc)
    return error_response(
        500, "internal", "Something went wrong on the server; it was logged."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every failure answers in the one error shape (a page, for the pages)."""
    app.add_exception_handler(AudiencesyncError, as_page(_service_error))
    app.add_exception_handler(ApiError, as_page(_api_error))
    app.add_exception_handler(RequestValidationError, as_page(_invalid_request))
    app.add_exception_handler(StarletteHTTPException, as_page(_http_error))
    app.add_exception_handler(Exception, as_page(_unexpected))


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "The request cannot be read (e.g. a body that is not UTF-8).",
        401: "No valid bearer token.",
        403: "The user's role does not allow it.",
        404: "No such resource.",
        409: "Clashes with what exists.",
        412: "Edited since it was read (If-Match is stale).",
        422: "Invalid input; the field is named.",
        503: "A service it needs (Iterable) is unavailable; try again later.",
    }.items()
}
"""The error answers every route documents in the OpenAPI document."""


def install_openapi(app: FastAPI) -> None:
    """Document the one error shape on every operation, FastAPI's own 422 included.

    FastAPI documents request validation as ``HTTPValidationError`` (its default
    body, which this API never sends); every operation's errors are documented as
    :class:`ErrorBody`, whether or not its router listed them.
    """
    build = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        built = build()
        _document_errors(built)
        return built

    app.openapi = document  # type: ignore[method-assign]


def _document_errors(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ErrorDetail):
        components.setdefault(model.__name__, _component(model))
    content = {"application/json": {"schema": {"$ref": f"{_REFS}ErrorBody"}}}
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, answer in ERROR_RESPONSES.items():
                documented = responses.setdefault(
                    str(status), {"description": answer["description"]}
                )
                documented["content"] = content
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"{_REFS}{unused}"' not in json.dumps(document):
            components.pop(unused, None)


_REFS = "#/components/schemas/"


def _component(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REFS + "{model}")
    schema.pop("$defs", None)
    return schema
