"""Contract fixtures: the real client against the emulator, in process and on a socket.

Every contract test runs twice: once through ``httpx.ASGITransport`` (the emulator
in the test's own event loop) and once over a real loopback socket (uvicorn in a
thread). Both sides share one :class:`ManualClock`, so rate windows and backoff
pauses run in virtual time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.emulator import (
    DEFAULT_API_KEY,
    ApiKeySpec,
    Emulator,
    EmulatorConfig,
    KeyType,
    ProjectSpec,
    ProjectType,
    serve_in_thread,
)
from audiencesync.iterable import IterableClient, Subscriber

EU_KEY = "eu-server-key-0000000000000000001"
READ_ONLY_KEY = "read-only-key-000000000000000002"
CLIENT_SIDE_KEY = "client-side-key-0000000000000003"
USER_ID_KEY = "userid-project-key-0000000000004"
HYBRID_KEY = "hybrid-project-key-0000000000005"


def contract_config(**overrides: Any) -> EmulatorConfig:
    """Projects of every type and keys of every kind, plus ``overrides``."""
    settings: dict[str, Any] = {
        "projects": (
            ProjectSpec(project_id=1, project_type=ProjectType.EMAIL, region="us"),
            ProjectSpec(project_id=2, project_type=ProjectType.USER_ID, region="us"),
            ProjectSpec(project_id=3, project_type=ProjectType.HYBRID, region="us"),
            ProjectSpec(project_id=4, project_type=ProjectType.HYBRID, region="eu"),
        ),
        "keys": (
            ApiKeySpec(key=DEFAULT_API_KEY, project_id=1),
            ApiKeySpec(key=READ_ONLY_KEY, project_id=1, key_type=KeyType.READ_ONLY),
            ApiKeySpec(key=CLIENT_SIDE_KEY, project_id=1, key_type=KeyType.CLIENT_SIDE),
            ApiKeySpec(key=USER_ID_KEY, project_id=2),
            ApiKeySpec(key=HYBRID_KEY, project_id=3),
            ApiKeySpec(key=EU_KEY, project_id=4),
        ),
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@dataclass
class Target:
    """One emulator and a way to open clients on it, in the test's transport mode."""

    emulator: Emulator
    clock: ManualClock
    mode: str
    base_url: str

    def client(
        self, key: str = DEFAULT_API_KEY, *, eu: bool = False, **options: Any
    ) -> IterableClient:
        """A client for ``key``; ``eu`` targets the emulator's EU data center."""
        base = self.base_url + ("/eu" if eu else "")
        transport = (
            httpx.ASGITransport(app=self.emulator.app) if self.mode == "asgi" else None
        )
        return IterableClient(
            key, base_url=base, transport=transport, clock=self.clock, **options
        )


MakeIterable = Callable[..., contextlib.AbstractAsyncContextManager[Target]]


@pytest.fixture(params=["asgi", "socket"])
def mode(request: pytest.FixtureRequest) -> str:
    """How the client reaches the emulator."""
    mode: str = request.param
    return mode


@pytest.fixture
def make_iterable(mode: str) -> MakeIterable:
    """Build an emulator from ``contract_config(**overrides)`` and reach it."""

    @contextlib.asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Target]:
        clock = ManualClock()
        emulator = Emulator(contract_config(**overrides), clock=clock)
        if mode == "asgi":
            yield Target(emulator, clock, mode, "http://iterable.test")
            return
        with serve_in_thread(emulator) as base_url:
            yield Target(emulator, clock, mode, base_url)

    return make


@pytest.fixture
async def iterable(make_iterable: MakeIterable) -> AsyncIterator[Target]:
    """The contract emulator with default settings."""
    async with make_iterable() as it:
        yield it


@pytest.fixture
async def client(iterable: Target) -> AsyncIterator[IterableClient]:
    """A server-side client of the email project."""
    async with iterable.client() as c:
        yield c


def emails(count: int, *, domain: str = "example.com", start: int = 0) -> list[str]:
    """``count`` distinct valid addresses."""
    return [f"user{n}@{domain}" for n in range(start, start + count)]


def by_email(addresses: list[str]) -> list[Subscriber]:
    """Subscribers identified by email only."""
    return [Subscriber(email=address) for address in addresses]
