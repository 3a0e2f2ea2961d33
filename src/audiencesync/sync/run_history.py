"""Run history as the acting user reads it: ``runs list``, ``runs show``, rejects.

Everyone may read runs and their counts (design section 6); the per-profile
rejects report holds emails, so only those who may see profile data (not
viewers) may read it. A run outlives its export; once the export is removed,
nothing tells any more which connection (so which contributors) it belonged
to, so only administrators may read that run's rejects, as for an export
without a connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audiencesync.auth.roles import Action, Actor, check
from audiencesync.auth.users import admin_names
from audiencesync.errors import AccessDeniedError, NotFoundError
from audiencesync.segments.names import name_key
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.history import (
    ListSize,
    RejectRow,
    RunInfo,
    count_runs,
    list_runs,
    list_sizes,
    removed_export_names,
    run_in_progress,
    run_info,
)
from audiencesync.sync.reject_list import count_rejects, rejects
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.store.database import Database


class RunHistory:
    """Read runs on behalf of one actor."""

    def __init__(self, database: Database, actor: Actor) -> None:
        self._database = database
        self._actor = actor

    def list_all(
        self,
        *,
        export: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[RunInfo]:
        """The newest runs first, of one export when ``export`` is given.

        ``export`` may name a removed export: its runs are listed too.
        """
        return self.page(export=export, status=status, limit=limit, offset=offset)[0]

    def page(
        self,
        *,
        export: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[RunInfo], int]:
        """One page of :meth:`list_all`, and how many runs all pages hold."""
        with self._database.session() as session:
            check(self._actor, Action.READ, admins=admin_names(session))
            export_id: int | None = None
            removed: tuple[str, ...] = ()
            if export is not None:
                export_id, removed = _export_runs(session, export)
            infos = list_runs(session, export_id=export_id, removed_names=removed,
                              status=status, limit=limit, offset=offset)  # fmt: skip
            total = count_runs(session, export_id=export_id, removed_names=removed,
                               status=status)  # fmt: skip
            return infos, total

    def list_drift(self, export: str) -> list[tuple[str, ListSize | None]]:
        """Each segment of the export, with its list's newest drift check (if any)."""
        with self._database.session() as session:
            check(self._actor, Action.READ, admins=admin_names(session))
            row = find_export(session, export)
            sizes = list_sizes(session, row.id)
            return [
                (link.segment.name, sizes.get(link.segment_id))
                for link in row.segment_links
            ]

    def in_progress(self, export: str) -> RunInfo | None:
        """The export's run in progress (Queued or Running), if there is one."""
        with self._database.session() as session:
            check(self._actor, Action.READ, admins=admin_names(session))
            info = run_in_progress(session, find_export(session, export).id)
        live = {RunStatus.QUEUED, RunStatus.RUNNING}
        return info if info is not None and info.status in live else None

    def show(self, run_id: int) -> RunInfo:
        """One run with its segments and counts."""
        with self._database.session() as session:
            check(self._actor, Action.READ, admins=admin_names(session))
            return run_info(session, run_id)

    def rejects(self, run_id: int) -> Iterator[RejectRow]:
        """Every rejected profile of the run with its bucket and reason, streamed.

        The checks (the actor's right, the run exists) are made here, before the
        first row is asked for, so a caller can check before it writes anything.
        """
        self.check_rejects(run_id)
        return self._stream(run_id)

    def rejects_page(
        self, run_id: int, *, limit: int, offset: int = 0
    ) -> tuple[list[RejectRow], int]:
        """One page of the run's rejects, and how many it has."""
        self.check_rejects(run_id)
        with self._database.session() as session:
            rows = list(rejects(session, run_id, limit=limit, offset=offset))
            return rows, count_rejects(session, run_id)

    def check_rejects(self, run_id: int) -> RunInfo:
        """The run, if the actor may read its rejects; else an error."""
        with self._database.session() as session:
            admins = admin_names(session)
            check(self._actor, Action.VIEW_PROFILES, admins=admins)
            info = run_info(session, run_id)  # a missing run says so
        if info.export_removed and not self._actor.is_admin:
            ask = f" ({', '.join(admins)})" if admins else ""
            msg = (
                f"Run {run_id} belongs to export {info.export_name!r}, which was"
                " removed, so only an administrator may read its rejects. Ask an"
                f" administrator{ask}."
            )
            raise AccessDeniedError(msg)
        return info

    def _stream(self, run_id: int) -> Iterator[RejectRow]:
        with self._database.session() as session:
            yield from rejects(session, run_id)


def _export_runs(session: Session, name: str) -> tuple[int | None, tuple[str, ...]]:
    """The export's id (None if none has the name) and removed exports' names."""
    key = name_key(name)
    removed = tuple(n for n in removed_export_names(session) if name_key(n) == key)
    try:
        return find_export(session, name).id, removed
    except NotFoundError:
        if removed:
            return None, removed
        raise
