"""Held removals stay held until an administrator releases them.

The removal brake holds a segment's removals and the run ends Held; only an
administrator approves (sends them) or discards them (design section 6). The
people stay in the sync state, so a later run plans their removal again. Were
that run to apply only the brake, anyone who may run the export could get the
held removals through: raise the brake to 100 % and run it. So the rule is:

    While a segment's newest decided run holds its removals (that run is Held
    and the segment in it is Held), every later run holds that segment's
    removals too, whatever the brake.

A decided run is one that got as far as the brake and ended: Held, Succeeded
(with or without rejects or drift) or Removals discarded. Runs that stopped
(Canceled, Failed, Interrupted) decide nothing and are skipped, and dry runs
never count. An administrator's approve (the run ends Succeeded), discard
(Removals discarded) or cancel (Canceled, which drops the hold) ends it; a
contributor may not cancel a Held run. A later run that plans no removal for the
segment (the people came back) ends the hold as well, as it ends Succeeded.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audiencesync.store.runs import Run, RunSegment
from audiencesync.sync.statuses import RunStatus

DECIDED = tuple(
    status.code
    for status in (
        RunStatus.HELD,
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED_WITH_REJECTS,
        RunStatus.DRIFTED,
        RunStatus.DISCARDED,
    )
)


def held_earlier(session: Session, binding_id: int, *, before: int) -> int | None:
    """The run (older than run ``before``) still holding the binding's removals."""
    newest = session.execute(
        select(Run.id, Run.status, RunSegment.status)
        .join(RunSegment, RunSegment.run_id == Run.id)
        .where(
            RunSegment.binding_id == binding_id,
            Run.id < before,
            ~Run.dry_run,
            Run.status.in_(DECIDED),
        )
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    run_id, run_status, part_status = newest
    held = RunStatus.HELD.code
    return run_id if run_status == held and part_status == held else None
