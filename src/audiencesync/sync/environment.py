"""What the sync engine needs from its caller: a few narrow things, not a workspace.

The application layer (:mod:`audiencesync.app.runs`) builds a :class:`RunEnv`
from its workspace: the control-plane database, the data folder, the segments'
members, the connections that share an Iterable project, and where to report
each run's end (alerts and failure notices are the application's business).
The engine never imports the application layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from audiencesync.profiles.duckdb_engine import DuckDBRelation
    from audiencesync.store.database import Database
    from audiencesync.sync.history import RunInfo


class SegmentMembers(Protocol):
    """Reads a segment's members (key first, then ``columns``) as record batches."""

    def evaluate(
        self, name: str, *, columns: Sequence[str] = ()
    ) -> Iterable[pa.RecordBatch]:
        """The members of segment ``name`` now."""
        ...

    def fingerprint(self, name: str, *, columns: Sequence[str] = ()) -> str | None:
        """A digest of all ``evaluate`` would read now; None when unknowable."""
        ...

    def record_count(
        self, name: str, members: int, *, started: float | None = None
    ) -> None:
        """Note the segment's member count, counted without ``evaluate``."""
        ...

    def frame(
        self, name: str, *, columns: Sequence[str] = (), state_rows: int = 0
    ) -> Any | None:
        """The members as a Spark DataFrame when planning is cheaper there, or None.

        Cheaper there: against a sync state of ``state_rows`` people.
        """
        ...

    def relation(
        self, name: str, *, columns: Sequence[str] = ()
    ) -> DuckDBRelation | None:
        """The members as a query the plan's DuckDB runs itself, or None."""
        ...


def _ignore(info: RunInfo) -> None:
    """Nobody listens."""


def _alone(connection_id: int) -> frozenset[int]:
    """No other connection shares the connection's Iterable project."""
    return frozenset({connection_id})


@dataclass(frozen=True, slots=True)
class RunEnv:
    """The engine's view of the world for one run (or one pass over it)."""

    database: Database
    home: Path  # the folder holding sync/ (Settings.run_files): states and plans
    segments: SegmentMembers
    retention_days: int = 30
    segments_at_once: int = 4  # an export's segments in progress at once (1: in turn)
    project_peers: Callable[[int], frozenset[int]] = field(default=_alone)
    report: Callable[[RunInfo], None] = field(default=_ignore)
    """Told of every pass's end (once the run's record is final), before a
    Failed (permanent) run raises RunFailedError."""
