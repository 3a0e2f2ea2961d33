"""Full resyncs: when a run re-sends every member, and what a drifted run says.

A full resync plans every valid member as a subscribe (and, in mirror mode,
every state row that is no longer a valid member as an unsubscribe), so a list
that lost members in Iterable behind our back gets them back. It runs on demand
(``exports run --full``) or, for an export with auto resync on, as the next run
after one that ended Succeeded with drift. A full resync that itself drifts
does not start another: the drift is then not ours to repair (an adopted list's
own members, Iterable's delay), and the status says so until it settles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.store.destinations import Export
from audiencesync.store.runs import Run, RunSegment
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_ENDED_WELL = (
    RunStatus.SUCCEEDED.code,
    RunStatus.SUCCEEDED_WITH_REJECTS.code,
    RunStatus.DRIFTED.code,
)


def needs_resync(session: Session, export_id: int) -> bool:
    """Whether the export's next run is a full resync by its auto resync setting.

    It is when auto resync is on and the export's last run that went through
    (dry runs aside) drifted without having been a full resync itself.
    """
    export = session.get(Export, export_id)
    if export is None or not export.auto_resync:
        return False
    last = session.execute(
        select(Run.status, Run.full_resync)
        .where(
            Run.export_id == export_id,
            ~Run.dry_run,
            Run.status.in_(_ENDED_WELL),
        )
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    return (
        last is not None
        and last.status == RunStatus.DRIFTED.code
        and (not last.full_resync)
    )


def drift_note(session: Session, run_id: int) -> str:
    """What a drifted run tells its reader: which lists, by how much, what next."""
    run = session.get_one(Run, run_id)
    parts = session.scalars(
        select(RunSegment)
        .where(
            RunSegment.run_id == run_id,
            RunSegment.status == RunStatus.DRIFTED.code,
        )
        .order_by(RunSegment.id)
    ).all()
    lists = "; ".join(
        f"{part.segment_name!r}: {part.actual_size} members in Iterable,"
        f" {part.expected_size} expected"
        for part in parts
    )
    export = session.get(Export, run.export_id) if run.export_id else None
    threshold = export.drift_threshold if export else 0
    if run.full_resync:
        follow = (
            "this run was a full resync, so the difference is not one a resend"
            " repairs (Iterable may still be counting, or the list holds members"
            " audiencesync did not add)."
        )
    elif export is not None and export.auto_resync:
        follow = "the next run re-sends every member (auto resync)."
    else:
        follow = "a full resync (exports run --full) re-sends every member."
    return (
        f"The list differs from what audiencesync sent by more than {threshold} %"
        f" ({lists}): {follow}"
    )
