"""The drift check: after a segment is synced, read its list's size back.

Iterable allows 5 list-size reads per minute per project, so a run checks at
most :data:`CHECKS_PER_RUN` segments and makes one attempt each, of at most
:data:`SIZE_TIMEOUT` seconds: a refused, failed or hung read leaves the actual
size unknown ("not checked") rather than slowing the run. Expected is the sync
state's size (who Iterable acknowledged because of us, less those it has since
reported forgotten); an adopted list's own earlier members show as positive
drift. Iterable updates list sizes with a delay, so a fresh drift may settle by
the next run. Members missing beyond the export's threshold end the segment
"Succeeded with drift".
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audiencesync.core.parquet_facts import small_work
from audiencesync.iterable.client import IterableClient
from audiencesync.iterable.errors import IterableError
from audiencesync.iterable.retry import RetryPolicy
from audiencesync.store.runs import RunSegment
from audiencesync.sync.bindings import final_identifiers
from audiencesync.sync.checkpoints import record_drift
from audiencesync.sync.state import expected_members, state_rows_sql

if TYPE_CHECKING:
    from pathlib import Path

    from audiencesync.store.database import Database
    from audiencesync.sync.credentials import ExportCredentials

CHECKS_PER_RUN = 5
SIZE_TIMEOUT = 5.0  # seconds a size read may take: a hung read must not hold the run


@dataclass(frozen=True, slots=True)
class ListSize:
    """The list size the sync state expects and the one Iterable reported."""

    expected: int
    actual: int | None

    def is_beyond(self, percent: int) -> bool:
        """Whether the list lacks more than ``percent`` % of the expected members.

        Only missing members count: members audiencesync did not add (an
        adopted list's own) are not its to remove, and a resend cannot remove
        them. An unread size is never beyond.
        """
        if self.actual is None:
            return False
        return (self.expected - self.actual) * 100 > percent * self.expected


_ONE_TRY = RetryPolicy(attempts=1, timeout=30.0)
_log = logging.getLogger(__name__)


def _expected(state: Path, final: Collection[str]) -> int:
    """The state's members, less those Iterable reported forgotten (never listed)."""
    members = expected_members(state)
    rows = state_rows_sql(state)
    if not final or members == 0 or rows is None:
        return members
    # In DuckDB: an Arrow array of the emails would make pyarrow import pandas.
    query = f"SELECT count(*) FROM ({rows}) WHERE email IN (SELECT unnest(?))"  # noqa: S608 -- quoted paths
    with small_work() as con:
        row = con.execute(query, [sorted(final)]).fetchone()
    return members - int(row[0] if row else 0)


class DriftCheck:
    """Reads list sizes for one run, within the run's share of the size budget."""

    def __init__(
        self,
        database: Database,
        credentials: ExportCredentials | None,
        *,
        budget: int = CHECKS_PER_RUN,
    ) -> None:
        self._database = database
        self._credentials = credentials
        self._left = budget if credentials is not None else 0

    async def check(self, part_id: int, list_id: int, state: Path) -> ListSize:
        """Record the expected and (when it could be read) actual size of the list."""
        actual = None
        if self._left > 0:
            self._left -= 1
            actual = await self._size(list_id)
        with self._database.session() as session:
            binding_id = session.get_one(RunSegment, part_id).binding_id
            final = final_identifiers(session, binding_id) if binding_id else set()
            size = ListSize(_expected(state, final), actual)
            record_drift(session, part_id, expected=size.expected, actual=actual)
        return size

    async def _size(self, list_id: int) -> int | None:
        credentials = self._credentials
        if credentials is None:  # pragma: no cover -- budget is 0 then
            return None
        async with IterableClient(
            credentials.api_key,
            region=credentials.region,
            base_url=credentials.base_url,
            retry=_ONE_TRY,
            timeout=SIZE_TIMEOUT,
        ) as client:
            try:
                return await client.get_list_size(list_id)
            except IterableError as exc:
                _log.info(
                    "Drift check of list %s skipped: %s", list_id, type(exc).__name__
                )
                return None
