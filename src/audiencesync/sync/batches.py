"""Batches of a plan: how rows are numbered into calls, and how the runner reads them.

Subscribe rows come first, then unsubscribe rows, each in email order. Every
``max_items`` rows start a new chunk; inside a chunk, rows are cut by their
running JSON size into slices of ``width = budget - largest row`` bytes (a row
belongs to the slice where it starts), so a batch never exceeds the budget:
``width`` plus its last row at most. The numbering is one set of window
functions, no Python loop, and dense from 1.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson
import pyarrow.parquet as pq

from audiencesync.iterable.batching import BatchPolicy

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

Action = Literal["subscribe", "unsubscribe"]
FRAME_ALLOWANCE = 1024  # {"listId":...,"subscribers":[...],...} around the rows
PLAN_COLUMNS = ("batch", "action", "email", "user_id", "data_fields", "field_hash")
DataFields = dict[str, object]


@dataclass(frozen=True, slots=True)
class PlannedBatch:
    """One call of a plan: its number, its action and its rows.

    Each row is ``(email, user_id, data_fields)``; ``data_fields`` is ``None`` for
    unsubscribe rows and when the export maps no extra fields.
    """

    number: int
    action: Action
    rows: tuple[tuple[str, str | None, DataFields | None], ...]


def row_budget(policy: BatchPolicy) -> int:
    """Bytes of JSON rows one call may hold under ``policy``."""
    return policy.max_bytes - FRAME_ALLOWANCE


def number_batches(con: duckdb.DuckDBPyConnection, policy: BatchPolicy) -> None:
    """Create the ``plan`` table (ordered by batch, email) from the ``diff`` table."""
    row = con.execute(f"""
        SELECT count(*) FILTER (kind IN {_SUBSCRIBE}), coalesce(max(row_bytes), 0)
        FROM diff
    """).fetchone()  # noqa: S608 -- constant kinds
    subscribers, largest = row if row else (0, 0)
    items = policy.max_items
    if largest * items <= row_budget(policy):
        slice_ = f"{-(-subscribers // items)} * (action = 'unsubscribe')::INT"
        batch = f"(rank - 1) // {items} + 1 + {slice_}"
        con.execute(_PLAN_SQL.format(batch=batch, start="0"))
        return
    width = max(row_budget(policy) - largest, 1)
    start = f"""sum(row_bytes) OVER (PARTITION BY action, (rank - 1) // {items}
        ORDER BY email ROWS UNBOUNDED PRECEDING) - row_bytes"""
    batch = (
        f"dense_rank() OVER (ORDER BY action, (rank - 1) // {items}, start // {width})"
    )
    con.execute(_PLAN_SQL.format(batch=batch, start=start))


_SUBSCRIBE = "('retried', 'added', 'updated')"
# Orders by action first: 'subscribe' sorts before 'unsubscribe'.
_PLAN_SQL = f"""
    CREATE TABLE plan AS SELECT CAST({{batch}} AS BIGINT) AS batch,
        action, email, user_id, data_fields, field_hash
    FROM (SELECT *, {{start}} AS start FROM (
        SELECT *, row_number() OVER (PARTITION BY action ORDER BY email) AS rank
        FROM (SELECT CASE WHEN kind = 'removed' THEN 'unsubscribe' ELSE 'subscribe' END
                AS action, email, user_id, data_fields, field_hash, row_bytes
            FROM diff WHERE kind IN ({_SUBSCRIBE[1:-1]}, 'removed'))))
    ORDER BY batch, email
"""  # noqa: S608 -- constant kinds; batch and start are built here from integers


def read_plan_batches(
    out: Path, *, skip: Collection[int] = ()
) -> Iterator[PlannedBatch]:
    """The batches of the plan in ``out``, in order, leaving out ``skip``.

    Streams the Parquet file; only one batch is held as Python objects at a time.
    """
    rows: list[tuple[str, str | None, DataFields | None]] = []
    current: tuple[int, Action] | None = None
    for number, action, row in _plan_rows(out / "plan.parquet", skip=skip):
        if current is not None and number != current[0]:
            yield PlannedBatch(current[0], current[1], tuple(rows))
            rows = []
        current = (number, action)
        rows.append(row)
    if current is not None:
        yield PlannedBatch(current[0], current[1], tuple(rows))


Row = tuple[str, str | None, DataFields | None]


def _plan_rows(
    path: Path, *, skip: Collection[int]
) -> Iterator[tuple[int, Action, Row]]:
    columns = ["batch", "action", "email", "user_id", "data_fields"]
    for chunk in pq.ParquetFile(path).iter_batches(batch_size=10_000, columns=columns):
        values: list[list[Any]] = [chunk.column(i).to_pylist() for i in range(5)]
        for number, action, email, user_id, data in zip(*values, strict=True):
            if number in skip:
                continue
            parsed = None if data is None else orjson.loads(data)
            yield number, action, (email, user_id, parsed)
