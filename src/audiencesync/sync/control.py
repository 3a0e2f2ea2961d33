"""What people do to a run once it exists: cancel it, approve or discard held removals.

- Cancel (anyone who may run the export): a Running run stops at its next batch
  boundary, keeping what Iterable acknowledged; a Queued, Interrupted or Failed
  (retrying) run ends Canceled at once. A Held run only by an administrator:
  canceling it drops its held removals, which is a discard in effect.
- Approve (administrators): the held removals of the export's newest run are
  sent from the persisted plan, and the run ends Succeeded.
- Discard (administrators): the held removals are not sent; the run ends
  "Removals discarded". The people stay in the sync state, so the next run
  plans their removal again, and the brake holds it again while it is still
  too large.

Until an administrator approves, discards or cancels a Held run, the export's
later runs hold those segments' removals whatever the brake says (see
:mod:`audiencesync.sync.holds`): held removals are released only by an
administrator. The runs of a removed export can no longer be acted on.

Each of these writes one audit event (run id and export; no profile data).
The application layer (:class:`audiencesync.app.runs.RunService`) checks that
the actor may run the export and finds its credentials first; these functions
take the actor and the narrow things they need.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update

from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, Actor, check
from audiencesync.errors import AccessDeniedError, ConflictError
from audiencesync.store.models import utc_now
from audiencesync.store.runs import RunSegment
from audiencesync.sync.history import require_export, run_info
from audiencesync.sync.records import (
    finish,
    get_run,
    newer_run,
    queue_action,
    request_cancel,
)
from audiencesync.sync.runner import Pass, execute
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.store.database import Database
    from audiencesync.sync.credentials import ExportCredentials
    from audiencesync.sync.environment import RunEnv
    from audiencesync.sync.history import RunInfo
    from audiencesync.sync.progress import RunProgress
    from audiencesync.sync.segment_pass import Target

Clock = Callable[[], datetime]


def cancel_run(
    database: Database, actor: Actor, run: RunInfo, *, now: Clock = utc_now
) -> RunStatus:
    """Cancel a run; Running until its batches in flight end, else Canceled now.

    The caller has checked that ``actor`` may run (so stop) the run's export.
    """
    if run.status is RunStatus.HELD and not actor.is_admin:
        msg = (
            f"Run {run.id} is Held: canceling it would drop its held removals, and"
            " only an administrator may release or drop them. Ask an administrator"
            " to approve or discard the run."
        )
        raise AccessDeniedError(msg)
    with database.session() as session:
        status = request_cancel(session, run.id, now=now())
        _audit(session, actor, "run.cancel", run)
    return status


def approve_run(
    env: RunEnv,
    actor: Actor,
    run: RunInfo,
    target: Target,
    credentials: ExportCredentials,
    *,
    now: Clock = utc_now,
    progress: RunProgress | None = None,
    audited: bool = False,
) -> RunInfo:
    """Send the held removals of Held run ``run`` (see :func:`held_run`).

    ``audited``: the approval's audit event was written when it was queued.
    """
    check(actor, Action.APPROVE_REMOVALS)
    with env.database.session() as session:
        if not audited:
            _audit(session, actor, "run.approve", run)
        session.execute(  # kept, so a resume of a killed approval still sends them
            update(RunSegment)
            .where(RunSegment.run_id == run.id, RunSegment.held_removals)
            .values(removals_approved=True)
        )
    return execute(env, target, credentials, run.id, now=now,
                   progress=progress, fresh=False, how=Pass(approve=True))  # fmt: skip


def discard_run(
    database: Database, actor: Actor, run_id: int, *, now: Clock = utc_now
) -> RunInfo:
    """End a Held run without its removals (administrators only)."""
    check(actor, Action.APPROVE_REMOVALS)
    run = held_run(database, run_id)
    with database.session() as session:
        _settle_held(session, run_id)
        finish(session, run_id, RunStatus.DISCARDED, now=now(), error=(
            f"Held removals discarded by {actor.name}; the next run plans"
            " them again."))  # fmt: skip
        _audit(session, actor, "run.discard", run)
        return run_info(session, run_id)


def queue_pass(database: Database, actor: Actor, run: RunInfo, action: str) -> RunInfo:
    """Queue the run's approval or resume for the worker; audited now, as asked."""
    with database.session() as session:
        queue_action(session, run.id, action, by=actor.name)
        _audit(session, actor, f"run.{action}", run)
        session.flush()
        return run_info(session, run.id)


def record(database: Database, actor: Actor, action: str, run: RunInfo) -> None:
    """Write one audit event about the run (``run.resume``...) on its own."""
    with database.session() as session:
        _audit(session, actor, action, run)


def _audit(session: Session, actor: Actor, action: str, run: RunInfo) -> None:
    details = {"export": run.export_name}
    record_event(session, actor, action, target_type="run",
                 target=str(run.id), details=details)  # fmt: skip


def held_run(database: Database, run_id: int) -> RunInfo:
    """The run, if it is Held and still the export's newest run."""
    with database.session() as session:
        run = require_export(run_info(session, run_id))
        if run.status is not RunStatus.HELD:
            msg = f"Run {run_id} is {run.status}, not Held: it has no held removals."
            raise ConflictError(msg)
        newer = newer_run(session, get_run(session, run_id))
        if newer is not None:
            msg = (
                f"Run {run_id} is not the newest run of {run.export_name!r}: run"
                f" {newer.id} planned the removals again. Approve or discard the"
                " newest held run instead."
            )
            raise ConflictError(msg)
    return run


def _settle_held(session: Session, run_id: int) -> None:
    for part in get_run(session, run_id).segments:
        if part.status == RunStatus.HELD.code:
            part.status = RunStatus.DISCARDED.code
