"""Run history as the acting user reads it: ``runs list`` and ``runs show``.

Everyone may read runs and their counts (design section 6); the per-profile
rejects report holds emails, so only those who may see profile data (not
viewers) may read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audiencesync.auth.roles import Action, Actor, check
from audiencesync.auth.users import admin_names
from audiencesync.exports.records import find_export
from audiencesync.sync.history import RejectRow, RunInfo, list_runs, rejects, run_info

if TYPE_CHECKING:
    from audiencesync.store.database import Database


class RunHistory:
    """Read runs on behalf of one actor."""

    def __init__(self, database: Database, actor: Actor) -> None:
        self._database = database
        self._actor = actor

    def list_all(self, *, export: str | None = None, limit: int = 50) -> list[RunInfo]:
        """The newest runs first, of one export when ``export`` is given."""
        with self._database.session() as session:
            check(self._actor, Action.READ, admins=admin_names(session))
            export_id = find_export(session, export).id if export else None
            return list_runs(session, export_id=export_id, limit=limit)

    def show(self, run_id: int) -> RunInfo:
        """One run with its segments and counts."""
        with self._database.session() as session:
            check(self._actor, Action.READ, admins=admin_names(session))
            return run_info(session, run_id)

    def rejects(self, run_id: int) -> Iterator[RejectRow]:
        """Every rejected profile of the run with its bucket and reason, streamed."""
        with self._database.session() as session:
            check(self._actor, Action.VIEW_PROFILES, admins=admin_names(session))
            run_info(session, run_id)  # a missing run says so
            yield from rejects(session, run_id)
