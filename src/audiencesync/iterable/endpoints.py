"""The Iterable endpoints the client calls, named once for limits, stats and logs.

Each member's value is the endpoint's method and path *template*, so it can be
logged and used as a metric label without ever carrying an email or a userId.
"""

from __future__ import annotations

from enum import StrEnum


class Endpoint(StrEnum):
    """One rate-limited Iterable endpoint (or family sharing one limit)."""

    LIST_LISTS = "GET /api/lists"
    CREATE_LIST = "POST /api/lists"
    DELETE_LIST = "DELETE /api/lists/{listId}"
    SUBSCRIBE = "POST /api/lists/subscribe"
    UNSUBSCRIBE = "POST /api/lists/unsubscribe"
    GET_LIST_USERS = "GET /api/lists/getUsers"
    PREVIEW_LIST_USERS = "GET /api/lists/previewUsers"
    LIST_SIZE = "GET /api/lists/{listId}/size"
    UPDATE_USER = "POST /api/users/update"
    BULK_UPDATE_USERS = "POST /api/users/bulkUpdate"
    GET_USER = "GET /api/users/{email|userId}"
    DELETE_USER = "DELETE /api/users/{email|userId}"
    GET_FIELDS = "GET /api/users/getFields"
    FORGET_USER = "POST /api/users/forget"

    @property
    def is_bulk(self) -> bool:
        """Whether the call carries many users and answers per identifier."""
        return self in _BULK


_BULK = frozenset(
    {Endpoint.SUBSCRIBE, Endpoint.UNSUBSCRIBE, Endpoint.BULK_UPDATE_USERS}
)
