"""The API key, held so that no repr, str, log line or traceback can show it."""

from __future__ import annotations

from collections.abc import Generator

import httpx

_SHOWN = 4


class ApiKey:
    """An Iterable API key whose repr and str show only its last characters."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            msg = "the Iterable API key is empty: pass the project's server-side key"
            raise ValueError(msg)
        self._value = value

    def reveal(self) -> str:
        """The key itself; only the request's ``Api-Key`` header may use it."""
        return self._value

    @property
    def hint(self) -> str:
        """A masked form safe to show: ``'****'`` plus the last characters."""
        tail = self._value[-_SHOWN:] if len(self._value) >= 4 * _SHOWN else ""
        return f"****{tail}"

    def __repr__(self) -> str:
        return f"ApiKey({self.hint!r})"

    __str__ = __repr__


class ApiKeyAuth(httpx.Auth):
    """httpx auth flow that puts the key into the ``Api-Key`` header only."""

    def __init__(self, key: ApiKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return f"ApiKeyAuth({self._key!r})"

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header and send the request once."""
        request.headers["Api-Key"] = self._key.reveal()
        yield request
