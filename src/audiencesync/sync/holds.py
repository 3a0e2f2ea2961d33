"""Held removals stay held until an administrator releases them.

The removal brake holds a segment's removals and the run ends Held; only an
administrator approves (sends them) or discards them (design section 6). The
people stay in the sync state, so a later run plans their removal again. Were
that run to apply only the brake, anyone who may run the export could get the
held removals through: raise the brake to 100 % (or switch to add-only for one
run, then back) and run it. So the rule is:

    A segment's removals, once held, stay held in every later run of the
    export, whatever the brake, until an administrator releases them.

They are released when the newest run that held them (a run segment with
``held_removals``) was approved (``removals_approved``, set before the removals
are sent, so an approval killed half way still counts and its resume sends
them), discarded (Removals discarded) or canceled while Held (only
administrators may). A later run that
plans removals while they are not released holds them too, and is the run an
administrator then approves or discards. Dry runs never count. A run that plans
no removal at all (the people came back) is simply not held.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audiencesync.store.runs import Run, RunSegment
from audiencesync.sync.statuses import RunStatus

RELEASED = frozenset(
    status.code
    for status in (
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED_WITH_REJECTS,
        RunStatus.DRIFTED,
        RunStatus.DISCARDED,
    )
)
"""Statuses of a run segment that held removals and had them released."""


def held_earlier(session: Session, binding_id: int, *, before: int) -> int | None:
    """The run (older than run ``before``) whose held removals are not released."""
    newest = session.execute(
        select(Run.id, Run.status, RunSegment.status, RunSegment.removals_approved)
        .join(RunSegment, RunSegment.run_id == Run.id)
        .where(
            RunSegment.binding_id == binding_id,
            RunSegment.held_removals,
            Run.id < before,
            ~Run.dry_run,
        )
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    run_id, run_status, part_status, approved = newest
    canceled_while_held = (
        run_status == RunStatus.CANCELED.code and part_status == RunStatus.HELD.code
    )
    released = part_status in RELEASED or canceled_while_held or approved
    return None if released else run_id
