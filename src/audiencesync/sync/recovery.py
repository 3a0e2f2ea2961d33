"""Finding runs whose process died, so the next run or ``runs resume`` goes on.

A run is Running only while its process holds the export's lease (see
:mod:`audiencesync.sync.lock`). When the lease is gone, expired, held for
another run, or held by a process of this host that no longer exists (killed,
power loss), the run is marked "Interrupted (resumable)" and the dead lease is
dropped. Dry runs hold no lease: one silent for a lease's length is ended as
Canceled, since there is nothing to resume.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audiencesync.store.runs import ExportLock, Run
from audiencesync.sync.lock import DEFAULT_LEASE, holder_is_dead
from audiencesync.sync.records import finish, interrupt
from audiencesync.sync.statuses import RunStatus


def recover(session: Session, export_id: int, *, now: datetime) -> list[int]:
    """Mark the export's Running runs whose runner died Interrupted; their ids."""
    lock = session.get(ExportLock, export_id)
    running = session.scalars(
        select(Run)
        .where(Run.export_id == export_id, Run.status == RunStatus.RUNNING.code)
        .order_by(Run.id)
    ).all()
    found: list[int] = []
    for run in running:
        if run.dry_run:
            _end_silent_dry_run(session, run, now=now)
            continue
        if lock is not None and lock.run_id == run.id and _alive(lock, now=now):
            continue
        interrupt(run)
        found.append(run.id)
        if lock is not None and lock.run_id == run.id:
            session.execute(
                delete(ExportLock).where(
                    ExportLock.export_id == export_id,
                    ExportLock.run_id == run.id,
                    ExportLock.holder == lock.holder,
                )
            )
    return found


def _alive(lock: ExportLock, *, now: datetime) -> bool:
    return lock.expires_at > now and not holder_is_dead(lock.holder)


def _end_silent_dry_run(session: Session, run: Run, *, now: datetime) -> None:
    if run.heartbeat_at is not None and now - run.heartbeat_at < DEFAULT_LEASE:
        return
    finish(
        session,
        run.id,
        RunStatus.CANCELED,
        error="The dry run's process stopped before it finished.",
        now=now,
    )
