"""The drift check: after a segment is synced, read its list's size back.

Iterable allows 5 list-size reads per minute per project, so a run checks at
most :data:`CHECKS_PER_RUN` segments and makes one attempt each, of at most
:data:`SIZE_TIMEOUT` seconds: a refused, failed or hung read leaves the actual
size unknown ("not checked") rather than slowing the run. Expected is the sync
state's size (who Iterable acknowledged because of us); an adopted list's own
earlier members show as positive drift. Iterable updates list sizes with a
delay, so a fresh drift may settle by the next run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from audiencesync.iterable.client import IterableClient
from audiencesync.iterable.errors import IterableError
from audiencesync.iterable.retry import RetryPolicy
from audiencesync.sync.checkpoints import record_drift
from audiencesync.sync.state import expected_members

if TYPE_CHECKING:
    from pathlib import Path

    from audiencesync.connections.records import ExportCredentials
    from audiencesync.store.database import Database

CHECKS_PER_RUN = 5
SIZE_TIMEOUT = 5.0  # seconds a size read may take: a hung read must not hold the run
_ONE_TRY = RetryPolicy(attempts=1, timeout=30.0)
_log = logging.getLogger(__name__)


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

    async def check(self, part_id: int, list_id: int, state: Path) -> None:
        """Record the expected and (when it could be read) actual size of the list."""
        actual = None
        if self._left > 0:
            self._left -= 1
            actual = await self._size(list_id)
        with self._database.session() as session:
            record_drift(
                session, part_id, expected=expected_members(state), actual=actual
            )

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
