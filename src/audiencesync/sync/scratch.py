"""The sync engine's scratch databases: private in-memory DuckDB, bounded memory.

Planning a segment, preparing and committing its sync state each open a private
in-memory DuckDB database. Left alone, DuckDB lets one grow to 80 % of the
machine's memory, and at 10 million profiles a plan's tables and sort take
gigabytes. A scratch database is capped (:data:`PLAN_MEMORY_LIMIT` for a plan,
:data:`STATE_MEMORY_LIMIT` for a sync state, which is made while batches are
sent) and spills what does not fit (tables, the plan's sort, hash joins) to a folder of
its own inside the data folder, beside the files it writes (named
:data:`SPILL_PREFIX`...), never to the working directory or ``/tmp``. The folder
is removed when the database closes.

Results do not depend on the limit: spilling changes where rows wait, not which
rows or in what order.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pathlib import Path

# A run's peak is the process (about 250 MB) plus one plan database, or plus
# one state database beside the sender: both stay under 1.5 GB (design.md, 8).
PLAN_MEMORY_LIMIT = "1GB"
STATE_MEMORY_LIMIT = "512MB"
SPILL_PREFIX = ".spill-"


@contextmanager
def open_scratch(
    folder: Path,
    *,
    memory_limit: str,
    threads: int | None = None,
    first_press: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A scratch database spilling into a new folder inside ``folder``.

    ``first_press``: a first Ctrl-C interrupts its query even while batches are
    in flight (a plan: nothing sent depends on it). Others are interrupted only
    when Ctrl-C stops the run at once (:mod:`audiencesync.sync.interrupt`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    spill = tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=folder)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": spill,
    }
    if threads is not None:
        config["threads"] = threads
    try:
        with duckdb.connect(":memory:", config=config) as con:
            _OPEN[con] = first_press
            try:
                yield con
            finally:
                _OPEN.pop(con, None)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


_OPEN: dict[duckdb.DuckDBPyConnection, bool] = {}  # database: first_press


def interrupt_queries(*, first_press: bool = False) -> None:
    """Interrupt the query each open scratch database runs (Ctrl-C while planning).

    The query raises "interrupted" at its next chunk of rows; without this,
    DuckDB notices a KeyboardInterrupt only between its tasks, seconds apart.
    ``first_press``: only the databases opened with ``first_press``.
    """
    for con, on_first in list(_OPEN.items()):
        if on_first or not first_press:
            con.interrupt()
