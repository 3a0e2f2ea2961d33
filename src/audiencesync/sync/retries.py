"""Stopped runs the scheduler continues on its own, and when it gives up.

A run that ends Failed (retrying) (Iterable unreachable after the client's
retries) is resumed by ``serve`` every :data:`RETRY_EVERY`; a run Interrupted
because its process died is resumed at the next pass. A run still failing
:data:`GIVE_UP_AFTER` after it started ends Failed (permanent), which notifies
the administrators. The next manual or scheduled run of the export resumes it
too, whichever comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from audiencesync.store.destinations import Export
from audiencesync.store.runs import Run
from audiencesync.sync.records import finish
from audiencesync.sync.recovery import recover
from audiencesync.sync.statuses import RunStatus

RETRY_EVERY = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(hours=4)
_STOPPED = (RunStatus.INTERRUPTED.code, RunStatus.FAILED_RETRYING.code)


@dataclass(frozen=True, slots=True)
class Stopped:
    """A stopped run and its export's name."""

    run_id: int
    export: str


def runs_to_resume(session: Session, *, now: datetime) -> list[Stopped]:
    """Mark dead runs Interrupted; the stopped runs due for another try."""
    running = session.scalars(
        select(Run.export_id).where(Run.status == RunStatus.RUNNING.code).distinct()
    ).all()
    for export_id in running:
        recover(session, export_id, now=now)
    rows = session.execute(
        select(Run, Export.name)
        .join(Export, Export.id == Run.export_id)
        .where(
            Run.status.in_(_STOPPED),
            ~Run.dry_run,
        )
        .order_by(Run.id)
    ).all()
    return [Stopped(run.id, name) for run, name in rows if _due(run, now=now)]


def give_up(session: Session, *, now: datetime) -> list[int]:
    """End the stopped runs that kept failing for too long; their ids."""
    stale = session.scalars(
        select(Run).where(
            Run.status.in_(_STOPPED), Run.started_at <= now - GIVE_UP_AFTER
        )
    ).all()
    hours = int(GIVE_UP_AFTER.total_seconds() // 3600)
    reason = (
        f"It kept stopping for more than {hours} hours and gave up; acknowledged"
        " batches are kept. Run the export again once the cause is fixed."
    )
    for run in stale:
        for part in run.segments:
            if part.status in _STOPPED:
                part.status = RunStatus.FAILED_PERMANENT.code
        finish(session, run.id, RunStatus.FAILED_PERMANENT, now=now, error=reason)
    return [run.id for run in stale]


def _due(run: Run, *, now: datetime) -> bool:
    if run.status == RunStatus.INTERRUPTED.code:
        return True
    return run.finished_at is None or run.finished_at <= now - RETRY_EVERY
