"""Checking an API key against Iterable before a connection is saved.

:class:`IterableKeyVerifier` makes two read-only calls with the real client:

1. ``GET /api/lists``: every server-side and read-only key of the project's data
   center may call it. A refusal (401) means a wrong key, a client-side key, or
   a key of the other data center; with ``--region`` the other data center is
   then asked (``GET /api/lists`` only), so the message can say "use --region eu".
2. ``GET /api/lists/getUsers?listId=0``: read-only keys may not call it
   (``shared/iterable-api.md`` §2), server-side keys may. List 0 never exists, so
   a server-side key gets "unknown list" (or "bad parameters") and nothing is
   read or written; a read-only key gets 401/403 and is refused, since it could
   never subscribe anyone. The probe uses one of the project's five getUsers
   calls per minute; when they are used up, the check says to wait a minute.

Errors name the key only by its last four characters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

import httpx

from audiencesync.errors import FatalError, ListGoneError, RetryableError
from audiencesync.iterable import (
    ApiKey,
    ClientSetupError,
    ForbiddenError,
    InvalidKeyError,
    IterableClient,
    IterableError,
    RateLimitedError,
    Region,
    RequestRejectedError,
    RetryPolicy,
)

PROBE_LIST_ID = 0
MIN_KEY_LENGTH = 16
VERIFY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
VERIFY_RETRY = RetryPolicy(attempts=2, timeout=20.0, wait_initial=0.5, wait_max=2.0)
REGION_URLS: Mapping[Region, str] = MappingProxyType(
    {region: region.base_url for region in Region}
)
_REGION_NAMES = {Region.US: "US", Region.EU: "EU"}


class KeyRejectedError(FatalError):
    """Raised when Iterable refuses the key, or it is not a server-side key.

    Codes: ``key_rejected`` (wrong or client-side key), ``key_read_only``,
    ``key_wrong_region`` (``details["region"]`` is the right one) and
    ``key_malformed`` (cannot be a key at all).
    """

    code = "key_rejected"

    code = "iterable_key_rejected"


class KeyVerifier(Protocol):
    """Checks that a key may manage lists in its data center; raises if not."""

    def verify(
        self, *, api_key: str, region: Region | None, base_url: str | None
    ) -> None:
        """Return when the key is a usable server-side key; raise otherwise."""
        ...


def check_key_shape(api_key: str) -> str:
    """The key without surrounding blanks, or KeyRejectedError if it cannot be one."""
    key = api_key.strip()
    if len(key) < MIN_KEY_LENGTH or any(char.isspace() for char in key):
        msg = (
            f"That is not an Iterable API key ({len(key)} characters): copy the"
            " project's server-side key (32 characters) from Iterable, Integrations >"
            " API Keys. Nothing was saved."
        )
        raise KeyRejectedError(msg, code="key_malformed", field="api_key")
    return key


class IterableKeyVerifier:
    """A :class:`KeyVerifier` that asks Iterable (or the emulator) itself.

    ``region_urls`` maps each data center to its API root; tests point both at
    an emulator (``{US: url, EU: url + "/eu"}``).
    """

    def __init__(self, *, region_urls: Mapping[Region, str] | None = None) -> None:
        self._region_urls = region_urls

    def verify(
        self, *, api_key: str, region: Region | None, base_url: str | None
    ) -> None:
        """Run the two probe calls; translate refusals into clear errors.

        Runs its own event loop (``asyncio.run``): async callers run it in a
        worker thread (``anyio.to_thread.run_sync``).
        """
        asyncio.run(self._verify(ApiKey(api_key), region, base_url))

    async def _verify(
        self, key: ApiKey, region: Region | None, base_url: str | None
    ) -> None:
        url = base_url if base_url is not None else self._url(region or Region.US)
        where = _where(region, base_url)
        try:
            await _probe(key, url)
        except (InvalidKeyError, ForbiddenError) as exc:
            if region is not None and await self._works_in_other(key, region):
                other = _other(region)
                msg = (
                    f"The API key ending {_tail(key)} belongs to a project in the"
                    f" {_REGION_NAMES[other]} data center: use region"
                    f" {other.value}. Nothing was saved."
                )
                raise KeyRejectedError(
                    msg,
                    code="key_wrong_region",
                    field="region",
                    details={"region": other.value},
                ) from exc
            raise KeyRejectedError(_refused(key, exc, where), field="api_key") from exc
        except _ReadOnlyKeyError as exc:
            raise KeyRejectedError(
                _read_only(key), code="key_read_only", field="api_key"
            ) from exc
        except IterableError as exc:
            raise FatalError(_unchecked(exc, url), code="key_not_checked") from exc

    async def _works_in_other(self, key: ApiKey, region: Region) -> bool:
        try:
            await _list_lists(key, self._url(_other(region)))
        except IterableError:
            return False
        return True

    def _url(self, region: Region) -> str:
        urls = REGION_URLS if self._region_urls is None else self._region_urls
        return urls[region]


class _ReadOnlyKeyError(Exception):
    """The key reads lists but may not read members: a read-only key."""


def _client(key: ApiKey, url: str) -> IterableClient:
    return IterableClient(key, base_url=url, timeout=VERIFY_TIMEOUT, retry=VERIFY_RETRY)


async def _list_lists(key: ApiKey, url: str) -> None:
    async with _client(key, url) as client:
        await client.list_lists()


async def _probe(key: ApiKey, url: str) -> None:
    async with _client(key, url) as client:
        await client.list_lists()
        try:
            await client.get_list_users(PROBE_LIST_ID)
        except (InvalidKeyError, ForbiddenError) as exc:
            raise _ReadOnlyKeyError from exc
        except (ListGoneError, RequestRejectedError):
            return  # the key may read members; list 0 just does not exist


def _other(region: Region) -> Region:
    return Region.EU if region is Region.US else Region.US


def _tail(key: ApiKey) -> str:
    return f"…{key.reveal()[-4:]}"


def _where(region: Region | None, base_url: str | None) -> str:
    if base_url is not None:
        return f"of the project served at {base_url}"
    chosen = region or Region.US
    return (
        f"of a project in the {_REGION_NAMES[chosen]} data center"
        f" (region {chosen.value})"
    )


def _refused(key: ApiKey, exc: IterableError, where: str) -> str:
    code = exc.iterable_code or str(exc.status)
    return (
        f"Iterable refused the API key ending {_tail(key)} ({code}). Check the key,"
        f" and that it is a server-side key {where}. Client-side (JavaScript,"
        " mobile, web) keys cannot manage lists. Nothing was saved."
    )


def _read_only(key: ApiKey) -> str:
    return (
        f"The API key ending {_tail(key)} is a read-only key: it can see lists but"
        " cannot read or change their members. Create a server-side key in"
        " Iterable (Integrations > API Keys) and use it. Nothing was saved."
    )


def _unchecked(exc: IterableError, url: str) -> str:
    if isinstance(exc, RateLimitedError):
        reason = "Iterable is rate limiting this project; wait a minute"
    elif isinstance(exc, ClientSetupError):
        reason = f"requests to {url} cannot be sent; check the address"
    elif isinstance(exc, RetryableError):
        reason = (
            f"Iterable did not answer ({exc.iterable_code or exc.status or 'network'})"
        )
        reason += "; check the network and the URL"
    else:
        said = f"{exc.status or ''} {exc.iterable_code or ''}"
        reason = f"{url} answered {said} to {exc.endpoint}"
        reason = " ".join(reason.split()) + "; is this an Iterable API address?"
    return f"Could not check the API key: {reason}, then try again. Nothing was saved."
