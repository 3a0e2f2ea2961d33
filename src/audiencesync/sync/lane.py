"""A run's lane for DuckDB work: one plan or one sync state at a time, off the loop.

A run's segments go to Iterable together (:mod:`audiencesync.sync.together`):
while one segment's batches are in flight, the next segment is planned. Plans
and the sync states prepared during sends are a run's memory-heavy work (a
scratch database each, :mod:`audiencesync.sync.scratch`), so they take turns
in this lane, one worker thread: a run's peak stays that of one plan or one
state, however many segments are in progress. DuckDB releases the GIL while
it works, so the event loop keeps sending meanwhile.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


class DuckDBLane:
    """One worker thread that runs a pass's DuckDB work in the order it is given."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="audiencesync-duckdb"
        )

    def submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``work``; its result, for the running event loop to await."""
        return asyncio.get_running_loop().run_in_executor(self._worker, work)

    def close(self) -> None:
        """Drop the work not started; wait for the work under way to end."""
        self._worker.shutdown(wait=True, cancel_futures=True)
