"""Iterable data centers and how a base URL is chosen."""

from __future__ import annotations

from enum import StrEnum

import httpx


class Region(StrEnum):
    """The data center of the Iterable project; a key works only in its own."""

    US = "us"
    EU = "eu"

    @property
    def base_url(self) -> str:
        """The API root of this data center."""
        return _BASE_URLS[self]


_BASE_URLS = {
    Region.US: "https://api.iterable.com",
    Region.EU: "https://api.eu.iterable.com",
}


def resolve_base_url(region: Region, base_url: str | None) -> httpx.URL:
    """The URL requests are joined to: ``base_url`` when given, else the region's.

    A path prefix (``http://127.0.0.1:9009/eu``) is kept: API paths are appended
    to it, never substituted for it.
    """
    url = httpx.URL(base_url if base_url is not None else region.base_url)
    if url.scheme not in {"http", "https"} or not url.host:
        msg = f"base URL must be an absolute http(s) URL, got {str(url)!r}"
        raise ValueError(msg)
    path = url.path if url.path.endswith("/") else url.path + "/"
    return url.copy_with(path=path, query=None, fragment=None)
