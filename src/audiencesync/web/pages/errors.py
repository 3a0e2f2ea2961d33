"""A failure on a page answers with a page: what went wrong and where to go.

The API's error handlers answer in the one JSON error shape; for any other path
(the pages) :func:`as_page` turns that answer into an HTML page with the same
status, the message, and links back. Never a stack trace or a blank page.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from audiencesync.errors import AudiencesyncError
from audiencesync.web.pages.templating import render

Handler = Callable[[Request, Exception], Response]
NOT_PAGES = ("/api/", "/static/")


def is_page(request: Request) -> bool:
    """Whether the request is for a page (not the API, not a static file)."""
    return not request.url.path.startswith(NOT_PAGES)


def as_page(handler: Handler) -> Handler:
    """``handler``, answering a page instead of JSON for page requests."""

    def handle(request: Request, exc: Exception) -> Response:
        answer = handler(request, exc)
        if not is_page(request):
            return answer
        status = answer.status_code
        page = render(
            request, "error.html", status=status, status_code=status,
            error=_error_of(answer),
        )  # fmt: skip
        if "allow" in answer.headers:
            page.headers["Allow"] = answer.headers["allow"]
        return page

    return handle


def _error_of(answer: Response) -> AudiencesyncError | None:
    """The API answer's error (code, message, details), for :func:`explain`."""
    try:
        error = json.loads(bytes(answer.body))["error"]
        message, code = str(error["message"]), str(error["code"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(details, dict):
        details = {}
    return AudiencesyncError(message, code=code, details=details)
