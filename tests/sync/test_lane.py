"""The run's DuckDB lane: one piece of work at a time, off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from audiencesync.sync.lane import DuckDBLane


def test_work_runs_one_at_a_time_in_the_order_given() -> None:
    """Two pieces of work never overlap, and the first given runs first."""
    spans: list[tuple[str, float, float]] = []

    def work(name: str) -> str:
        began = time.monotonic()
        time.sleep(0.05)
        spans.append((name, began, time.monotonic()))
        return name

    async def both() -> list[str]:
        lane = DuckDBLane()
        try:
            plan, state = (
                lane.submit(lambda: work("plan")),
                lane.submit(lambda: work("state")),
            )
            return [await plan, await state]
        finally:
            lane.close()

    assert asyncio.run(both()) == ["plan", "state"]
    (first, _, first_end), (second, second_began, _) = spans
    assert (first, second) == ("plan", "state")
    assert second_began >= first_end


def test_the_event_loop_runs_while_the_lane_works() -> None:
    """A task on the loop goes on while the lane's work waits in another thread."""
    release = threading.Event()
    ticks: list[int] = []

    async def scenario() -> None:
        lane = DuckDBLane()
        try:
            waiting = lane.submit(lambda: release.wait(5))
            for tick in range(3):
                await asyncio.sleep(0.01)
                ticks.append(tick)
            release.set()
            assert await waiting is True
        finally:
            lane.close()

    asyncio.run(scenario())
    assert ticks == [0, 1, 2]


def test_an_error_in_the_lane_reaches_the_caller() -> None:
    """Work that raises raises where it is awaited; the lane takes the next work."""

    def broken() -> None:
        msg = "planning failed"
        raise ValueError(msg)

    async def scenario() -> str:
        lane = DuckDBLane()
        try:
            with pytest.raises(ValueError, match="planning failed"):
                await lane.submit(broken)
            return await lane.submit(lambda: "next")
        finally:
            lane.close()

    assert asyncio.run(scenario()) == "next"
