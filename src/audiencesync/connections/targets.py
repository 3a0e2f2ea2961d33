"""Where a connection sends: a data center (US by default) or an explicit URL.

An explicit base URL is for the local emulator or a proxy; it keeps its path
(the emulator serves its EU projects under ``/eu``). It may not carry
credentials, since it is stored and shown in clear.
"""

from __future__ import annotations

import httpx

from audiencesync.errors import ConfigError
from audiencesync.iterable import Region
from audiencesync.store.destinations import Connection

Target = tuple[Region | None, str | None]
"""(region, base URL): exactly one of the two is set."""


def resolve_target(region: Region | str | None, base_url: str | None) -> Target:
    """Exactly one of a region (default US) and an explicit base URL, checked."""
    if region is not None and base_url is not None:
        msg = "Give either a region or a base URL, not both."
        raise ConfigError(msg, field="base_url")
    if base_url is not None:
        return None, clean_base_url(base_url)
    if region is None:
        return Region.US, None
    try:
        return Region(str(region).strip().lower()), None
    except ValueError:
        msg = f"Unknown region {region!r}: use us or eu."
        raise ConfigError(msg) from None


def clean_base_url(raw: str) -> str:
    """An absolute http(s) URL without credentials, query or trailing slash."""
    try:
        url = httpx.URL(raw.strip())
    except httpx.InvalidURL:
        url = httpx.URL("invalid:")
    if url.scheme not in {"http", "https"} or not url.host:
        msg = "The base URL must be an absolute http(s) URL, e.g. http://127.0.0.1:9009"
        raise ConfigError(msg, field="base_url")
    if url.userinfo or url.query or url.fragment:
        msg = "The base URL cannot hold credentials, a query or a fragment."
        raise ConfigError(msg, field="base_url")
    return str(url.copy_with(path=url.path.rstrip("/") or "/")).rstrip("/")


def target_of(row: Connection) -> Target:
    """The stored target of a connection."""
    return (Region(row.region) if row.region else None), row.base_url


def where_details(target: Target) -> dict[str, object]:
    """The target for an audit event: the region, or only the URL's host."""
    region, base_url = target
    if base_url is not None:
        return {"base_url_host": httpx.URL(base_url).host}
    return {"region": region.value if region is not None else None}
