"""Keep emails, userIds and the key out of messages and out of httpx's log lines."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import httpx

_EMAIL = re.compile(r"[^\s@\"'<>(),;:\[\]]+@[^\s@\"'<>(),;:\[\]]+")
_MAX_TEXT = 200
_USER_PATH_KEEP = frozenset(
    {"getFields", "update", "bulkUpdate", "forget", "getByEmail"}
)


def redact_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` shortened, with anything email-like and every secret replaced."""
    text = text[: _MAX_TEXT * 4]
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, "<redacted>")
    text = _EMAIL.sub("<email>", text)
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "…"
    return text


def redact_url(url: httpx.URL) -> str:
    """The URL without its query values and without user identifiers in its path."""
    path = url.path
    marker = "/api/users/"
    head, found, tail = path.partition(marker)
    if found:
        first, _, _ = tail.partition("/")
        if first == "byUserId" and tail != "byUserId":
            tail = "byUserId/<redacted>"
        elif first not in _USER_PATH_KEEP and first != "byUserId":
            tail = "<redacted>"
        path = head + marker + tail
    query = "?<redacted>" if url.query else ""
    return f"{url.scheme}://{url.netloc.decode('ascii')}{path}{query}"


class HttpxUrlFilter(logging.Filter):
    """Rewrites httpx's ``HTTP Request: ...`` records for Iterable hosts."""

    def __init__(self) -> None:
        super().__init__("audiencesync.iterable.redaction")
        self.hosts: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the URL argument with :func:`redact_url` of it."""
        args = record.args
        if isinstance(args, tuple) and len(args) > 1:
            url = args[1]
            if isinstance(url, httpx.URL) and url.host in self.hosts:
                record.args = (args[0], redact_url(url), *args[2:])
        return True


def guard_httpx_logs(host: str) -> None:
    """Make httpx's request log lines for ``host`` free of identifiers.

    httpx logs every request's full URL at INFO; for ``GET /api/users/{email}``
    that URL is an email address. Called once per client, idempotent.
    """
    logger = logging.getLogger("httpx")
    for existing in logger.filters:
        if isinstance(existing, HttpxUrlFilter):
            existing.hosts.add(host)
            return
    guard = HttpxUrlFilter()
    guard.hosts.add(host)
    logger.addFilter(guard)
