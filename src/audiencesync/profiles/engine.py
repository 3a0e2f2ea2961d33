"""The seam between segments and wherever profiles live.

An engine answers three questions: what tables and columns exist (:meth:`catalog`),
how many rows a query returns (:meth:`count`) and what those rows are, as a stream
of Arrow record batches (:meth:`stream`). Queries arrive as sqlglot expressions and
each engine renders them in its own dialect, so a segment compiles once and runs on
DuckDB, PostgreSQL or (later) Spark unchanged. Literals stay literals: nothing a
user typed is ever pasted into SQL text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from audiencesync.profiles.catalog import Catalog
    from audiencesync.profiles.duckdb_engine import DuckDBRelation

DEFAULT_BATCH_ROWS = 65_536


class ProfileEngine(Protocol):
    """Where segment queries run: embedded DuckDB, an SQL database, Spark."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect this engine speaks (``duckdb``, ``postgres``, ...)."""
        ...

    def catalog(self) -> Catalog:
        """Tables, columns, kinds, keys and row counts, read fresh."""
        ...

    def count(self, query: exp.Query) -> int:
        """How many rows ``query`` returns."""
        ...

    def stream(
        self, query: exp.Query, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``query`` as record batches of at most ``batch_rows`` rows."""
        ...

    def version(self) -> str | None:
        """A digest that changes whenever the data changes; None when unknown.

        Runs skip planning again when it is unchanged (see
        :mod:`audiencesync.sync.plan_memo`), so an engine that cannot be sure
        must answer None.
        """
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def count_query(query: exp.Query) -> exp.Select:
    """``SELECT COUNT(*) FROM (query) AS counted``, for any engine's dialect."""
    from sqlglot import exp  # noqa: PLC0415 - sqlglot is only a type import above

    return exp.select(exp.Count(this=exp.Star())).from_(query.subquery("counted"))


@runtime_checkable
class FrameEngine(Protocol):
    """An engine whose query results can stay where the data is (Spark)."""

    @property
    def plan_from(self) -> int:
        """From a sync state of this many people, runs plan in the engine."""
        ...

    def frame(self, query: exp.Query) -> Any:
        """``query`` as a lazy Spark DataFrame, not run yet."""
        ...


@runtime_checkable
class RelationEngine(Protocol):
    """An engine whose queries another DuckDB database can run itself (DuckDB)."""

    def relation(self, query: exp.Query) -> DuckDBRelation:
        """``query`` and the views it reads, not run yet."""
        ...
