"""Batches of a plan: how rows are numbered into calls, and how the runner reads them.

Subscribe rows come first, in profile key order (the members' own order: the
profile source's), then unsubscribe rows in email order. Every ``max_items``
rows start a new chunk; inside a chunk, rows are cut by their running JSON size
into slices of ``width = budget - largest row`` bytes (a row belongs to the
slice where it starts), so a batch never exceeds the budget: ``width`` plus its
last row at most. The rows are sorted once; numbering is arithmetic on that
order, or, when rows can be large, one set of window functions; no Python loop,
and dense from 1.

Each row carries ``body``, its JSON object exactly as the call sends it (the
sender joins bodies and never parses a row); see :func:`body_sql`; and its
``profile_key`` (text; NULL for leavers), read only to name a refused row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any, Literal, cast

import orjson

from audiencesync.core.parquet_facts import parquet_columns, parquet_rows, small_work
from audiencesync.iterable.batching import BatchPolicy, member_row
from audiencesync.profiles.identifiers import quote_literal

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb
    import pyarrow as pa

Action = Literal["subscribe", "unsubscribe"]
FRAME_ALLOWANCE = 1024  # {"listId":...,"subscribers":[...],...} around the rows
DataFields = dict[str, object]
Identity = tuple[str, str | None]


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


def body_sql() -> str:
    """SQL of a plan row's JSON object: what ``member_row`` would encode.

    Unsubscribe rows go by email alone. A subscribe row has ``email``, then
    ``userId`` when there is one, then ``dataFields`` (the planner's JSON text,
    whose size the batch budget counted) when the export maps fields.
    """
    email = "'{\"email\":' || CAST(to_json(email) AS VARCHAR)"
    user_id = "coalesce(',\"userId\":' || CAST(to_json(user_id) AS VARCHAR), '')"
    fields = (
        "CASE WHEN data_fields IS NULL OR data_fields = '{}' THEN ''"
        " ELSE ',\"dataFields\":' || data_fields END"
    )
    return (
        f"CASE WHEN action = 'unsubscribe' THEN {email} || '}}'"
        f" ELSE {email} || {user_id} || {fields} || '}}' END"
    )


def number_batches(con: duckdb.DuckDBPyConnection, policy: BatchPolicy) -> None:
    """Create the ``plan`` view (in batch order) from the ``diff`` table or view.

    ``diff`` is read once, into the sorted ``ordered`` table, which keeps each
    row's ``kind``; forgotten rows (never sent) sort last and stay out of the plan.
    """
    con.execute(_ORDERED_SQL)
    row = con.execute(f"""
        SELECT count(*) FILTER (kind IN {_SUBSCRIBE}), coalesce(max(row_bytes), 0)
        FROM ordered
    """).fetchone()  # noqa: S608 -- constant kinds
    subscribers, largest = row if row else (0, 0)
    items = policy.max_items
    sent = "(SELECT *, rowid AS position FROM ordered WHERE kind <> 'forgotten')"
    if largest * items <= row_budget(policy):
        unsubscribe_from = -(-subscribers // items) + 1
        batch = f"""CASE WHEN position < {subscribers} THEN position // {items} + 1
            ELSE (position - {subscribers}) // {items} + {unsubscribe_from} END"""
        _create_plan(con, batch=batch, source=sent)
        return
    width = max(row_budget(policy) - largest, 1)
    rank = f"rowid - {subscribers} * (action = 'unsubscribe')::INT"
    sized = f"""(SELECT *, rowid AS position, ({rank}) // {items} AS chunk,
        sum(row_bytes) OVER (PARTITION BY action, ({rank}) // {items}
            ORDER BY rowid ROWS UNBOUNDED PRECEDING) - row_bytes AS start
        FROM ordered WHERE kind <> 'forgotten')"""  # noqa: S608 -- integers only
    batch = f"dense_rank() OVER (ORDER BY action, chunk, start // {width})"
    _create_plan(con, batch=batch, source=sized, order="ORDER BY batch, position")


def count_batches(
    con: duckdb.DuckDBPyConnection, policy: BatchPolicy
) -> tuple[dict[str, int], dict[str, int]] | None:
    """The rows per kind and the batches per action :func:`number_batches` would make.

    Counted from the ``diff`` alone, without the sort and the rows: what a plan
    that is only counted (a dry run) needs. None when a row can be large enough
    for batches to be cut by their size: only numbering the rows tells then.
    """
    rows = con.execute(f"""
        SELECT CAST(kind AS VARCHAR), count(*), max(row_bytes) FROM diff
        WHERE kind IN {_KINDS} GROUP BY ALL
    """).fetchall()  # noqa: S608 -- constant kinds
    largest = max((int(row[2]) for row in rows), default=0)
    items = policy.max_items
    if largest * items > row_budget(policy):
        return None
    kinds = {str(kind): int(count) for kind, count, _ in rows}
    subscribers = sum(kinds.get(kind, 0) for kind in _SUBSCRIBE_KINDS)
    batches = {
        "subscribe": -(-subscribers // items),
        "unsubscribe": -(-kinds.get("removed", 0) // items),
    }
    return kinds, batches


_SUBSCRIBE_KINDS = ("retried", "added", "updated")
_SUBSCRIBE = f"{_SUBSCRIBE_KINDS}"
_KINDS = "('forgotten', 'retried', 'added', 'updated', 'removed')"
# The one sort: forgotten rows last (they are only counted), then 'subscribe'
# before 'unsubscribe'; leavers have no profile key (NULL sorts last), so they go
# by email. The kind is a one-byte ENUM.
_ORDERED_SQL = f"""
    CREATE TABLE ordered AS SELECT
        CASE WHEN kind = 'removed' THEN 'unsubscribe' ELSE 'subscribe' END AS action,
        email, user_id, data_fields, field_hash, row_bytes, in_state,
        CAST(profile_key AS VARCHAR) AS profile_key,
        CAST(kind AS ENUM {_KINDS}) AS kind
    FROM diff WHERE kind IN {_KINDS}
    ORDER BY kind = 'forgotten', action, diff.profile_key NULLS LAST, email
"""  # noqa: S608 -- constant kinds


def _create_plan(
    con: duckdb.DuckDBPyConnection, *, batch: str, source: str, order: str = ""
) -> None:
    """The ``plan`` view over ``source`` with ``batch`` numbers, in ``order``.

    Without ``order``, rows come in ``source``'s insertion order: a filter and a
    projection of one table keep it (DuckDB's documented order preservation), so
    the fast path needs no second sort.
    """
    con.execute(f"""
        CREATE VIEW plan AS SELECT CAST({batch} AS BIGINT) AS batch,
            action, email, user_id, data_fields, field_hash, {body_sql()} AS body,
            profile_key, in_state
        FROM {source} {order}
    """)  # noqa: S608 -- batch, source and order are built here from integers


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
    import pyarrow.parquet as pq  # noqa: PLC0415 - a run with nothing to send needs no Arrow

    columns = ["batch", "action", "email", "user_id", "data_fields"]
    for chunk in pq.ParquetFile(path).iter_batches(batch_size=10_000, columns=columns):
        values: list[list[Any]] = [chunk.column(i).to_pylist() for i in range(5)]
        for number, action, email, user_id, data in zip(*values, strict=True):
            if number in skip:
                continue
            parsed = None if data is None else orjson.loads(data)
            yield number, action, (email, user_id, parsed)


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """One call of a plan as the sender needs it: each row's JSON, ready to join."""

    number: int
    action: Action
    rows: list[bytes]


def read_encoded_batches(
    out: Path, *, skip: Collection[int] = ()
) -> Iterator[EncodedBatch]:
    """The plan's batches as encoded rows, in order, leaving out ``skip``.

    Only the ``batch``, ``action`` and ``body`` columns are read; no row is
    parsed. A plan written before rows carried their ``body`` is encoded here.
    A plan of at most :data:`SMALL_PLAN_ROWS` rows is read by DuckDB: Arrow
    reads a large plan faster, but importing it (and numpy, where installed)
    costs a small one more than reading it.
    """
    path = out / "plan.parquet"
    if "body" not in parquet_columns(path):
        yield from map(_encode, read_plan_batches(out, skip=skip))
        return
    if parquet_rows(path) <= SMALL_PLAN_ROWS:
        yield from _small_plan_batches(path, skip)
        return
    yield from _large_plan_batches(path, skip)


SMALL_PLAN_ROWS = 100_000


def _small_plan_batches(path: Path, skip: Collection[int]) -> Iterator[EncodedBatch]:
    rows = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
    query = f"""
        SELECT batch, action, encode(body) FROM {rows} ORDER BY file_row_number
    """  # noqa: S608 -- a quoted path
    with small_work() as con:
        found = con.execute(query).fetchall()
    runs = (
        (number, str(action), [body for _, _, body in group])
        for (number, action), group in groupby(found, key=lambda row: row[:2])
    )
    yield from _batches(runs, skip)


def _large_plan_batches(path: Path, skip: Collection[int]) -> Iterator[EncodedBatch]:
    import pyarrow.parquet as pq  # noqa: PLC0415 - a run with nothing to send needs no Arrow

    source = pq.ParquetFile(path)
    columns = ["batch", "action", "body"]
    chunks = source.iter_batches(batch_size=_READ_ROWS, columns=columns)
    runs = (run for chunk in chunks for run in _chunk_runs(chunk, skip))
    yield from _batches(runs, skip)


def _chunk_runs(
    chunk: pa.RecordBatch, skip: Collection[int]
) -> Iterator[tuple[int, str, list[bytes]]]:
    """Each run of one batch's rows in an Arrow chunk: number, action, bodies.

    A chunk whose batches are all skipped is never converted to Python.
    """
    numbers = chunk.column(0)
    bodies: list[bytes] | None = None
    for start, end in _runs(numbers):
        number = numbers[start].as_py()
        if number in skip:
            yield number, "", []
            continue
        if bodies is None:
            bodies = _bytes(chunk.column(2))
        yield number, chunk.column(1)[start].as_py(), bodies[start:end]


def _batches(
    runs: Iterable[tuple[int, str, list[bytes]]], skip: Collection[int]
) -> Iterator[EncodedBatch]:
    """Runs of rows joined into batches (a batch may span reads), less ``skip``."""
    pending: EncodedBatch | None = None
    for number, action, bodies in runs:
        if pending is not None and pending.number != number:
            yield pending
            pending = None
        if number in skip:
            continue
        if pending is None:
            pending = EncodedBatch(number, cast("Action", action), [])
        pending.rows.extend(bodies)
    if pending is not None:
        yield pending


def batch_identities(out: Path, number: int) -> list[Identity]:
    """The (email, userId) of each row of batch ``number``, in the batch's order.

    For the paths that need them: a refusal to attribute, an error message to
    scrub, emails Iterable did not find on a removal. Read by DuckDB, which
    skips the file's row groups outside the batch: reading with pyarrow cost
    such a run 0.8 s the first time (pyarrow, numpy and pandas to import).
    """
    rows = _batch_rows(out, number, "email, user_id, action")
    return [
        (str(email), None if action == "unsubscribe" else _text(user_id))
        for email, user_id, action in rows
    ]


def batch_profile_keys(out: Path, number: int) -> dict[str, str]:
    """Email → profile key of batch ``number``'s rows (leavers have none).

    Read only when Iterable refused someone in the batch; a plan written before
    rows carried their key gives an empty mapping.
    """
    if "profile_key" not in parquet_columns(out / "plan.parquet"):
        return {}
    rows = _batch_rows(out, number, "email, profile_key")
    return {str(email): str(key) for email, key in rows if key is not None}


def _batch_rows(out: Path, number: int, columns: str) -> list[tuple[Any, ...]]:
    """``columns`` of batch ``number``'s rows of the plan in ``out``, in file order."""
    plan = quote_literal(str(out / "plan.parquet"))
    query = f"""
        SELECT {columns} FROM read_parquet({plan}, file_row_number = true)
        WHERE batch = ? ORDER BY file_row_number
    """  # noqa: S608 -- constant column names and a quoted path
    with small_work() as con:
        return con.execute(query, [number]).fetchall()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _bytes(column: pa.Array[Any]) -> list[bytes]:
    """A string column's values as UTF-8 bytes, ready to join into a body."""
    import pyarrow as pa  # noqa: PLC0415 - a run with nothing to send needs no Arrow

    return cast("list[bytes]", column.cast(pa.binary()).to_pylist())


_READ_ROWS = 16_384  # rows per Parquet read while sending


def _runs(numbers: pa.Array[Any]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each run of equal values in ``numbers``."""
    import pyarrow.compute as pc  # noqa: PLC0415 - 30 ms a run with no send skips

    size = len(numbers)
    if size == 0:
        return
    changed = pc.not_equal(numbers.slice(1), numbers.slice(0, size - 1))
    start = 0
    for index in cast("list[int]", pc.indices_nonzero(changed).to_pylist()):
        yield start, index + 1
        start = index + 1
    yield start, size


def _encode(batch: PlannedBatch) -> EncodedBatch:
    if batch.action == "unsubscribe":  # leavers go by email alone
        rows = [orjson.dumps({"email": email}) for email, _, _ in batch.rows]
    else:
        rows = [orjson.dumps(member_row(*row)) for row in batch.rows]
    return EncodedBatch(batch.number, batch.action, rows)
