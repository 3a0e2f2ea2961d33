"""Static checks (run by mypy) that the public API keeps its types."""

from __future__ import annotations

from typing import assert_type

import httpx
import pytest

from audiencesync.core.clock import ManualClock
from audiencesync.core.window import RateLimit, SlidingWindow
from audiencesync.emulator import Emulator, EmulatorConfig
from audiencesync.iterable import (
    BatchOutcome,
    BulkResult,
    IterableClient,
    IterableList,
    Subscriber,
    UserProfile,
)


@pytest.mark.anyio
async def test_client_calls_return_their_declared_types() -> None:
    """Each call's result type is what callers rely on."""
    emulator = Emulator(EmulatorConfig(), clock=ManualClock())
    async with IterableClient(
        "audiencesync-emulator-dev-key-01",
        base_url="http://iterable.test",
        transport=httpx.ASGITransport(app=emulator.app),
    ) as client:
        list_id = assert_type(await client.create_list("typed"), int)
        assert_type(await client.list_lists(), list[IterableList])
        result = await client.subscribe(list_id, [Subscriber(email="a@example.com")])
        assert_type(result, BulkResult)
        assert_type(await client.get_list_users(list_id), list[str])
        assert_type(await client.get_list_size(list_id), int)
        assert_type(await client.get_user(email="a@example.com"), UserProfile | None)
        async for outcome in client.subscribe_all(list_id, []):
            assert_type(outcome, BatchOutcome)
    assert_type(emulator.list_members(list_id), frozenset[str])
    assert_type(SlidingWindow(RateLimit(1)).try_acquire(0.0), float)
