"""Fixtures for client tests: a fake Iterable, a manual clock, a client factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.iterable import IterableClient
from tests.iterable.fakes import CANARY_KEY, FakeIterable, bulk_ok

MakeClient = Callable[..., IterableClient]


@pytest.fixture
def fake() -> FakeIterable:
    """A fake Iterable that accepts every subscribe/unsubscribe/bulkUpdate."""
    fake = FakeIterable()
    for path in ("/api/lists/subscribe", "/api/lists/unsubscribe"):
        fake.route("POST", path, bulk_ok)
    fake.route("POST", "/api/users/bulkUpdate", bulk_ok)
    return fake


@pytest.fixture
def clock() -> ManualClock:
    """Virtual time shared by the client's limiters."""
    return ManualClock()


@pytest.fixture
async def make_client(
    fake: FakeIterable, clock: ManualClock
) -> AsyncIterator[MakeClient]:
    """Build clients on the fake and the manual clock; closes them afterwards."""
    made: list[IterableClient] = []

    def make(**options: Any) -> IterableClient:
        options.setdefault("transport", fake.transport)
        options.setdefault("clock", clock)
        client = IterableClient(options.pop("api_key", CANARY_KEY), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
