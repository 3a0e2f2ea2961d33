"""A limit on request bodies: 1 MiB, except the profile upload (its own 2 GiB).

Every JSON body the API takes is small (a segment's SQL condition is the
largest). A larger body, announced by ``Content-Length`` or streamed without
one, is refused with 413 ``too_large`` before it is read into memory.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiencesync.web.errors import ApiError, error_response

MAX_BODY_BYTES = 1024**2
UPLOADS = frozenset({"/api/v1/profiles/imports", "/profiles/upload"})  # their own


def _too_large() -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"The request body is larger than the limit of {MAX_BODY_BYTES:,} bytes.",
        details={"limit_bytes": MAX_BODY_BYTES},
    )


class BodyLimit:
    """ASGI middleware: refuse request bodies over :data:`MAX_BODY_BYTES`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UPLOADS:
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            error = _too_large()
            response = error_response(
                error.status, error.code, error.message, details=error.details
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _counted(receive), send)


def _counted(receive: Receive) -> Receive:
    """``receive`` that raises 413 once the streamed body passes the limit."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:  # FastAPI passes an HTTPException through
                raise HTTPException(413, detail=_too_large().message)
        return message

    return counted
