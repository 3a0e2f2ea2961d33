"""The run record: a run's life from Queued to its end, and its totals.

Every function works inside the caller's session (``with database.session()``)
and commits with it. Moves between statuses go through
:func:`audiencesync.sync.statuses.transition`; an illegal one raises
:class:`~audiencesync.sync.statuses.StatusTransitionError`. A runner beats the
run's heart (:func:`heartbeat`) at every batch; :func:`find_interrupted` turns
runs whose heart stopped into "Interrupted (resumable)". Messages name runs by
id and never hold an identifier, a secret or a profile value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.store.destinations import Export
from audiencesync.store.models import utc_now
from audiencesync.store.runs import Run, RunSegment
from audiencesync.sync.statuses import SUPERSEDED, RunStatus, transition

COUNTS = (
    "planned_add",
    "planned_update",
    "planned_remove",
    "unchanged",
    "added",
    "updated",
    "removed",
    "invalid_in_source",
    "not_consenting",
    "batches_total",
    "batches_acked",
    "retries",
)
"""The integer counts of a run segment, summed into the run's totals."""


def create_run(
    session: Session,
    export_id: int,
    *,
    trigger: str,
    requested_by: str,
    dry_run: bool = False,
    full_resync: bool = False,
) -> Run:
    """A new Queued run of the export (flushed, so it has its id).

    The run keeps the export's name, so its history reads the same after the
    export is removed.
    """
    export = session.get(Export, export_id)
    if export is None:
        msg = f"Export {export_id} does not exist any more."
        raise NotFoundError(msg)
    run = Run(
        export_id=export_id,
        export_name=export.name,
        trigger=trigger,
        requested_by=requested_by,
        dry_run=dry_run,
        full_resync=full_resync,
        status=RunStatus.QUEUED.code,
        counts={},
    )
    session.add(run)
    session.flush()
    if not dry_run:
        supersede_held(session, export_id, by=run.id)
    return run


def supersede_held(session: Session, export_id: int, *, by: int) -> None:
    """Older Held runs of the export say that run ``by`` came after them.

    Their removals can no longer be approved there (approve and discard take
    the export's newest run), so their note must not invite it.
    """
    session.execute(
        update(Run)
        .where(
            Run.export_id == export_id,
            Run.status == RunStatus.HELD.code,
            Run.id < by,
            ~Run.dry_run,
        )
        .values(
            error=f"{SUPERSEDED} {by}: its held removals are no longer"
            " approved or discarded here; an administrator approves or discards"
            " the export's newest Held run."
        )
    )


def get_run(session: Session, run_id: int) -> Run:
    """The run, or NotFoundError naming it."""
    run = session.get(Run, run_id)
    if run is None:
        msg = f"Run {run_id} does not exist."
        raise NotFoundError(msg, code="run_not_found", details={"run_id": run_id})
    return run


def start(session: Session, run_id: int, *, now: datetime | None = None) -> Run:
    """Move the run to Running (first start or resume) and beat its heart."""
    run = _move(session, run_id, RunStatus.RUNNING)
    run.queued_action = run.queued_by = None  # any pass answers a queued one
    now = now or utc_now()
    run.started_at = run.started_at or now
    run.heartbeat_at, run.finished_at = now, None
    return run


def heartbeat(session: Session, run_id: int, *, now: datetime | None = None) -> bool:
    """Record that the run is alive; True when a cancel was requested meanwhile."""
    beat = {"run": run_id, "running": RunStatus.RUNNING.code, "at": now or utc_now()}
    alive = session.connection().execute(_HEARTBEAT, beat).first()
    if alive is None:
        status = RunStatus.from_code(get_run(session, run_id).status)
        msg = f"Run {run_id} is {status}, not Running: its runner must stop."
        raise ConflictError(msg)
    return bool(alive[0])


_HEARTBEAT = (
    update(Run)
    .where(Run.id == bindparam("run"), Run.status == bindparam("running"))
    .values(heartbeat_at=bindparam("at"))
    .returning(Run.cancel_requested)
    .execution_options(synchronize_session=False)
)


def finish(
    session: Session,
    run_id: int,
    status: RunStatus,
    *,
    error: str | None = None,
    now: datetime | None = None,
) -> Run:
    """End the run's pass with ``status``; ``error`` must hold no secret or PII."""
    run = _move(session, run_id, status)
    run.finished_at, run.error = now or utc_now(), error
    run.counts = totals(run.segments)
    run.queued_action = run.queued_by = None
    return run


def queue_action(session: Session, run_id: int, action: str, *, by: str) -> Run:
    """Mark the run's next pass (``approve`` or ``resume``) for the worker.

    ConflictError when one is queued already: one waiting pass per run.
    """
    run = get_run(session, run_id)
    if run.queued_action is not None and run.queued_by is not None:
        msg = (
            f"Run {run_id} already waits for the {run.queued_action} that"
            f" {run.queued_by} asked for; it starts shortly."
        )
        details = {"run_id": run_id, "action": run.queued_action}
        raise ConflictError(msg, code="run_action_queued", details=details)
    run.queued_action, run.queued_by = action, by
    return run


def take_queued_action(session: Session, run_id: int) -> tuple[str, str] | None:
    """Claim the run's queued pass, once even across processes: (action, by).

    Only who asked is taken off the run: the action stays until the pass starts
    (:func:`start` clears it) or does not happen (:func:`release_queued_action`),
    so nobody reads the run as stopped in between. A claimed action whose pass
    never started (its process died) may be queued again.
    """
    run = get_run(session, run_id)
    action, by = run.queued_action, run.queued_by
    if action is None or by is None:
        return None
    claimed = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.queued_action == action, Run.queued_by == by)
        .values(queued_by=None)
        .execution_options(synchronize_session="fetch")
    )
    return (action, by) if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def release_queued_action(session: Session, run_id: int) -> None:
    """Drop a claimed action whose pass did not start (a newly queued one stays)."""
    session.execute(
        update(Run)
        .where(Run.id == run_id, Run.queued_by.is_(None))
        .values(queued_action=None)
        .execution_options(synchronize_session="fetch")
    )


def release_abandoned_claims(session: Session) -> list[tuple[int, str]]:
    """Drop the claimed passes that never started; (run, action) of each.

    A worker's process that ends between its claim and the pass's start leaves
    the action on the run with nobody to carry it out. A worker starting up
    calls this: afterwards the run reads as stopped again and the pass may be
    asked for again. A pass another worker claimed a moment ago still starts
    (that worker holds what it claimed).
    """
    abandoned = (
        (Run.queued_action.is_not(None))
        & Run.queued_by.is_(None)
        & (Run.status != RunStatus.RUNNING.code)
    )
    found = session.execute(select(Run.id, Run.queued_action).where(abandoned))
    released = [(run_id, str(action)) for run_id, action in found]
    if released:
        session.execute(
            update(Run)
            .where(abandoned, Run.id.in_([run_id for run_id, _ in released]))
            .values(queued_action=None)
            .execution_options(synchronize_session="fetch")
        )
    return released


def request_cancel(
    session: Session, run_id: int, *, now: datetime | None = None
) -> RunStatus:
    """Cancel the run: at once when idle, after its batches in flight if Running."""
    run = get_run(session, run_id)
    status = RunStatus.from_code(run.status)
    if status is RunStatus.RUNNING:
        run.cancel_requested = True
        return status
    if status.is_terminal:
        msg = f"Run {run_id} is already over ({status}); there is nothing to cancel."
        raise ConflictError(msg)
    finish(session, run_id, RunStatus.CANCELED, now=now)
    return RunStatus.CANCELED


def is_cancel_requested(session: Session, run_id: int) -> bool:
    """Whether someone asked the running run to stop."""
    return get_run(session, run_id).cancel_requested


def find_interrupted(
    session: Session, *, stale_after: timedelta, now: datetime | None = None
) -> list[int]:
    """Mark Running runs silent for ``stale_after`` Interrupted; return their ids."""
    cutoff = (now or utc_now()) - stale_after
    stale = session.scalars(
        select(Run)
        .where(Run.status == RunStatus.RUNNING.code, Run.heartbeat_at < cutoff)
        .order_by(Run.id)
    ).all()
    for run in stale:
        interrupt(run)
    return [run.id for run in stale]


def latest_resumable(session: Session, export_id: int) -> Run | None:
    """The export's newest run that stopped half way and may be resumed."""
    codes = [RunStatus.INTERRUPTED.code, RunStatus.FAILED_RETRYING.code]
    return session.scalars(
        select(Run)
        .where(Run.export_id == export_id, Run.status.in_(codes), ~Run.dry_run)
        .order_by(Run.id.desc())
        .limit(1)
    ).one_or_none()


def newer_run(session: Session, run: Run) -> Run | None:
    """The first run of the same export started after ``run`` (dry runs aside)."""
    return session.scalars(
        select(Run)
        .where(Run.export_id == run.export_id, Run.id > run.id, ~Run.dry_run)
        .order_by(Run.id)
        .limit(1)
    ).one_or_none()


def interrupt(run: Run) -> None:
    """Mark a Running run whose process stopped Interrupted (resumable)."""
    run.status = transition(
        RunStatus.RUNNING, RunStatus.INTERRUPTED, run_id=run.id
    ).code
    run.error = interrupted_note(run)
    for part in run.segments:
        if part.status == RunStatus.RUNNING.code:
            part.status = RunStatus.INTERRUPTED.code


def interrupted_note(run: Run) -> str:
    """Why a run whose process stopped is Interrupted, and what to do."""
    last = f"{run.heartbeat_at:%Y-%m-%d %H:%M} UTC" if run.heartbeat_at else "never"
    return (
        f"The process running it stopped (last heartbeat {last})."
        f" Resume run {run.id}, or run the export again: its next run continues it."
    )


def totals(parts: Sequence[RunSegment]) -> dict[str, int]:
    """A run's counts: the sum of its segments' counts, rejects by bucket."""
    counts = {name: sum(getattr(part, name) for part in parts) for name in COUNTS}
    counts["rejected"] = sum(sum((part.rejected or {}).values()) for part in parts)
    return counts


def _move(session: Session, run_id: int, status: RunStatus) -> Run:
    run = get_run(session, run_id)
    current = RunStatus.from_code(run.status)
    run.status = transition(current, status, run_id=run_id).code
    return run
