"""Fixtures: an emulator on a ManualClock and a raw httpx client in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.emulator import DEFAULT_API_KEY, Emulator, EmulatorConfig

KEY = {"Api-Key": DEFAULT_API_KEY}
MakeClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
def clock() -> ManualClock:
    """Virtual time shared by the emulator and the test."""
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Emulator:
    """The default emulator: one email project in "us", limits on."""
    return Emulator(EmulatorConfig(), clock=clock)


def client_for(
    emulator: Emulator, *, key: str | None = DEFAULT_API_KEY
) -> httpx.AsyncClient:
    """An in-process client for ``emulator``, sending ``key``."""
    headers = {"Api-Key": key} if key else {}
    transport = httpx.ASGITransport(app=emulator.app)
    return httpx.AsyncClient(
        transport=transport, base_url="http://iterable.test", headers=headers
    )


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the default emulator with the default key."""
    async with client_for(emu) as c:
        yield c


async def new_list(
    client: httpx.AsyncClient, name: str = "Segment", prefix: str = "/api"
) -> int:
    """Create a list and return its id."""
    response = await client.post(f"{prefix}/lists", json={"name": name})
    assert response.status_code == 200, response.text
    list_id: int = response.json()["listId"]
    return list_id


async def subscribe(
    client: httpx.AsyncClient,
    list_id: int,
    *subscribers: Mapping[str, object],
    **extra: object,
) -> httpx.Response:
    """POST /api/lists/subscribe."""
    body = {"listId": list_id, "subscribers": list(subscribers), **extra}
    return await client.post("/api/lists/subscribe", json=body)


def failed(response: httpx.Response) -> dict[str, list[str]]:
    """The non-empty failedUpdates arrays of a bulk answer."""
    buckets: dict[str, list[str]] = response.json()["failedUpdates"]
    return {name: values for name, values in buckets.items() if values}
