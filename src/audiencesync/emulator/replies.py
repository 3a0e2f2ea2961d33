"""Iterable's answers, byte for byte: envelopes, error pages, 429s, 5xx, drops."""

from __future__ import annotations

import html
from collections.abc import Mapping

import httpx
import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from audiencesync.emulator.config import RateLimitBody, ScriptedFault

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
RATE_LIMIT_TEXT = "Rate limit exceeded. Please try again later."
TIMEOUT_TEXT = "Request timeout. Try again later."


class ConnectionDropped(httpx.RemoteProtocolError):
    """The emulator dropped the connection after applying the request.

    Over a real socket the client sees httpx's own ``RemoteProtocolError`` (the
    body ends early); in-process this subclass of it comes out of the client call.
    """


def json_reply(obj: object, status: int = 200) -> Response:
    """A JSON answer."""
    return Response(orjson.dumps(obj), status, media_type=JSON)


def text_reply(text: str, status: int = 200) -> Response:
    """A plain-text answer."""
    return Response(text, status, media_type=TEXT)


def envelope(
    code: str, msg: str, *, status: int = 400, params: object = None
) -> Response:
    """Iterable's ``{"msg", "code", "params"}`` body."""
    return json_reply({"msg": msg, "code": code, "params": params}, status)


def success(msg: str = "") -> Response:
    """The 200 answer of single-item writes."""
    return envelope("Success", msg, status=200)


def bad_params(msg: str) -> Response:
    """400 BadParams."""
    return envelope("BadParams", msg)


def not_found_page(method: str, path: str) -> Response:
    """The HTML 404 of an unknown route."""
    where = html.escape(f"{method} {path}")
    page = (
        "<!DOCTYPE html><html><head><title>Action not found</title></head>"
        f"<body><h1>Action not found</h1><p>For request '{where}'</p></body></html>"
    )
    return Response(page, 404, media_type="text/html; charset=utf-8")


def bad_api_key(ip: str, path: str) -> Response:
    """401 BadApiKey (missing, unknown, wrong type or wrong region)."""
    params = {"ip": ip, "endpoint": path}
    return envelope("BadApiKey", "Invalid API key", status=401, params=params)


def invalid_list(list_id: object, project_id: int) -> Response:
    """400 for an unknown list, with Iterable's misleading ``code: Success``."""
    params = {"projectId": project_id, "listId": list_id}
    return envelope("Success", f"error.lists.invalidListId({list_id})", params=params)


def rate_limited(
    path: str,
    project_id: int,
    *,
    body: RateLimitBody,
    headers: Mapping[str, str],
) -> Response:
    """429 in JSON (RateLimitExceeded) or plain text."""
    if body == "text":
        return Response(RATE_LIMIT_TEXT, 429, headers=dict(headers), media_type=TEXT)
    msg = f"Exceeded rate limit for endpoint: {path}, project: {project_id} "
    content = {"msg": msg, "code": "RateLimitExceeded", "params": {}}
    return Response(orjson.dumps(content), 429, headers=dict(headers), media_type=JSON)


def server_fault(status: int) -> Response:
    """The usual body for a 5xx: JSON 500, HTML 502, text 503, empty 504."""
    if status == 500:
        return json_reply({"code": "Error", "msg": "Internal Server Error"}, 500)
    if status == 502:
        page = "<html><head><title>502 Bad Gateway</title></head><body></body></html>"
        return Response(page, 502, media_type="text/html")
    if status == 503:
        return text_reply(TIMEOUT_TEXT, 503)
    return Response(b"", status)


def scripted(fault: ScriptedFault, *, path: str, project_id: int) -> Response:
    """The answer a test scripted (its body, or the usual one for its status)."""
    body = fault.body
    if isinstance(body, bytes):
        reply = Response(body, fault.status)
    elif isinstance(body, str):
        reply = text_reply(body, fault.status)
    elif body is not None:
        reply = json_reply(body, fault.status)
    elif fault.status == 429:
        reply = rate_limited(path, project_id, body="json", headers={})
    elif fault.status >= 500:
        reply = server_fault(fault.status)
    else:
        reply = envelope("GenericError", "Scripted failure", status=fault.status)
    reply.headers.update(fault.headers)
    return reply


class DroppedResponse(Response):
    """Sends the headers and half the body of ``inner``, then drops the connection."""

    def __init__(self, inner: Response) -> None:
        super().__init__(inner.body, inner.status_code, media_type=inner.media_type)
        self.raw_headers = inner.raw_headers

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        """Start the answer, stop half way, and raise so the server closes."""
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        half = bytes(self.body[: len(self.body) // 2])
        await send({"type": "http.response.body", "body": half, "more_body": True})
        msg = "Server disconnected without sending a complete response."
        raise ConnectionDropped(msg)
