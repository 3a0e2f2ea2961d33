"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Service errors keep their stable code; their status follows what the caller
should do (fix the input: 422, not allowed: 403, missing: 404, clashes: 409,
stale edit: 412, try later: 503). Request validation (FastAPI's) becomes 422
with each field named. Anything else is a bug: 500 with a generic message and
nothing of the request or the data in it; the details go to the server log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    fields = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "invalid")),
        }
        for error in exc.errors()
    ]
    first = fields[0] if fields else {"field": "", "message": "invalid"}
    message = (
        f"{first['field']}: {first['message']}"
        if first["field"]
        else "Invalid request."
    )
    return error_response(422, "invalid_request", message, {"fields": fields})


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
    code = codes.get(exc.status_code, "http_error")
    message = str(exc.detail) if exc.detail else "Request refused."
    return error_response(exc.status_code, code, message, headers=exc.headers)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in a request: %s", type(exc).__name__, exc_info=exc)
    return error_response(
        500, "internal", "Something went wrong on the server; it was logged."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every failure answers in the one error shape."""
    app.add_exception_handler(AudiencesyncError, _service_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        401: "No valid bearer token.",
        403: "The user's role does not allow it.",
        404: "No such resource.",
        409: "Clashes with what exists.",
        412: "Edited since it was read (If-Match is stale).",
        422: "Invalid input; the field is named.",
    }.items()
}
"""The error answers every route documents in the OpenAPI document."""
