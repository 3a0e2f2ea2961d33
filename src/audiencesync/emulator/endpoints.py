"""The emulated endpoints: names, paths, who may call them, and their rate limits.

Every endpoint has a ``template`` (the path after ``/api/`` with ids replaced, as
:class:`~audiencesync.emulator.config.RequestRecord` reports it) and a unique
``name`` (the key for ``EmulatorConfig.rates``, ``max_body_bytes`` and
``Emulator.script``). The two differ only where one path serves two methods.
"""

from __future__ import annotations

from dataclasses import dataclass

from audiencesync.core.window import RateLimit


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One emulated operation."""

    method: str
    template: str
    name: str
    writes: bool = False
    read_only_ok: bool = False
    client_side_ok: bool = False
    rate: RateLimit | None = None


_PER_SECOND_100 = RateLimit(100, 1.0)
_PER_MINUTE_5 = RateLimit(5, 60.0)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "lists", "lists", read_only_ok=True, rate=_PER_SECOND_100),
    Endpoint("POST", "lists", "lists/create", writes=True),
    Endpoint("DELETE", "lists/{listId}", "lists/delete", writes=True),
    Endpoint("POST", "lists/subscribe", "lists/subscribe", writes=True),
    Endpoint("POST", "lists/unsubscribe", "lists/unsubscribe", writes=True),
    Endpoint("GET", "lists/getUsers", "lists/getUsers", rate=_PER_MINUTE_5),
    Endpoint("GET", "lists/previewUsers", "lists/previewUsers", rate=_PER_MINUTE_5),
    Endpoint(
        "GET",
        "lists/{listId}/size",
        "lists/{listId}/size",
        read_only_ok=True,
        rate=_PER_MINUTE_5,
    ),
    Endpoint(
        "POST",
        "users/update",
        "users/update",
        writes=True,
        client_side_ok=True,
        rate=RateLimit(500, 1.0),
    ),
    Endpoint(
        "POST",
        "users/bulkUpdate",
        "users/bulkUpdate",
        writes=True,
        rate=RateLimit(5, 1.0),
    ),
    Endpoint(
        "GET",
        "users/getFields",
        "users/getFields",
        read_only_ok=True,
        rate=RateLimit(3),
    ),
    Endpoint(
        "GET",
        "users/getByEmail",
        "users/getByEmail",
        read_only_ok=True,
        rate=_PER_SECOND_100,
    ),
    Endpoint(
        "GET",
        "users/byUserId",
        "users/byUserId",
        read_only_ok=True,
        rate=_PER_SECOND_100,
    ),
    Endpoint(
        "GET",
        "users/byUserId/{userId}",
        "users/byUserId/{userId}",
        read_only_ok=True,
        rate=_PER_SECOND_100,
    ),
    Endpoint(
        "DELETE",
        "users/byUserId/{userId}",
        "users/byUserId/delete",
        writes=True,
        rate=_PER_SECOND_100,
    ),
    Endpoint(
        "GET", "users/{email}", "users/{email}", read_only_ok=True, rate=_PER_SECOND_100
    ),
    Endpoint(
        "DELETE", "users/{email}", "users/delete", writes=True, rate=_PER_SECOND_100
    ),
    Endpoint("POST", "users/forget", "users/forget", writes=True, rate=RateLimit(3)),
)

BY_NAME: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in ENDPOINTS}

_FIXED: dict[tuple[str, str], Endpoint] = {
    (e.method, e.template): e for e in ENDPOINTS if "{" not in e.template
}
_BY_TEMPLATE: dict[tuple[str, str], Endpoint] = {
    (e.method, e.template): e for e in ENDPOINTS
}


def match_endpoint(method: str, parts: list[str]) -> tuple[Endpoint, str] | None:
    """Find the endpoint for ``parts`` (the path after ``/api/``, split on ``/``).

    Returns the endpoint and its path parameter ("" when it has none).
    """
    fixed = _FIXED.get((method, "/".join(parts)))
    if fixed is not None:
        return fixed, ""
    template = _template_of(parts)
    if template is None:
        return None
    endpoint = _BY_TEMPLATE.get((method, template))
    if endpoint is None:
        return None
    return endpoint, parts[-1] if template.endswith("}") else parts[1]


def _template_of(parts: list[str]) -> str | None:
    head = parts[0] if parts else ""
    if head == "lists" and len(parts) == 2:
        return "lists/{listId}"
    if head == "lists" and len(parts) == 3 and parts[2] == "size":
        return "lists/{listId}/size"
    if head == "users" and len(parts) == 3 and parts[1] == "byUserId":
        return "users/byUserId/{userId}"
    if head == "users" and len(parts) == 2:
        return "users/{email}"
    return None
