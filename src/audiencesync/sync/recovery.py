"""Finding runs whose process died, so the next run or ``runs resume`` goes on.

A run is Running only while its process holds the export's lease (see
:mod:`audiencesync.sync.lock`). When the lease is gone, expired, held for
another run, or held by a process of this host that no longer exists (killed,
power loss), the run is dead (:func:`is_dead`): :func:`recover` marks it
"Interrupted (resumable)" and drops the dead lease. Dry runs hold no lease: one
silent for a lease's length is ended as Canceled, since there is nothing to
resume. Readers (:mod:`audiencesync.sync.history`) apply the same rule, so a
dead run reads as Interrupted before anyone marks it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audiencesync.store.runs import ExportLock, Run
from audiencesync.sync.lock import DEFAULT_LEASE, holder_is_dead
from audiencesync.sync.records import finish, interrupt, interrupted_note
from audiencesync.sync.statuses import RunStatus


def is_dead(run: Run, lock: ExportLock | None, *, now: datetime) -> bool:
    """Whether a Running run's process is gone; ``lock`` is the export's lease.

    A run is alive while it holds an unexpired lease whose holder is not known
    dead; a dry run (no lease) while its heart beat within a lease's length.
    """
    if run.dry_run:
        beat = run.heartbeat_at
        return beat is None or now - beat >= DEFAULT_LEASE
    if lock is None or lock.run_id != run.id:
        return True
    return not _alive(lock, now=now)


def dead_run_note(run: Run) -> str:
    """Why a dead run stopped, as :func:`recover` records it."""
    if run.dry_run:
        return DRY_RUN_STOPPED
    return interrupted_note(run)


DRY_RUN_STOPPED = "The dry run's process stopped before it finished."


def recover(session: Session, export_id: int | None, *, now: datetime) -> list[int]:
    """Mark the export's Running runs whose runner died Interrupted; their ids.

    ``export_id`` None: the runs of removed exports (nothing can hold them).
    """
    lock = session.get(ExportLock, export_id) if export_id is not None else None
    running = session.scalars(
        select(Run)
        .where(Run.export_id == export_id, Run.status == RunStatus.RUNNING.code)
        .order_by(Run.id)
    ).all()
    found: list[int] = []
    for run in running:
        if not is_dead(run, lock, now=now):
            continue
        if run.dry_run:
            finish(session, run.id, RunStatus.CANCELED, error=DRY_RUN_STOPPED, now=now)
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


def live_run(session: Session, export_id: int, *, now: datetime) -> int | None:
    """The run that holds the export's lease and is alive, if any."""
    lock = session.get(ExportLock, export_id)
    return lock.run_id if lock is not None and _alive(lock, now=now) else None


def _alive(lock: ExportLock, *, now: datetime) -> bool:
    return lock.expires_at > now and not holder_is_dead(lock.holder)
