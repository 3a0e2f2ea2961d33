"""Full resyncs: when a run re-sends every member, and what a drifted run says.

A full resync plans every valid member as a subscribe (and, in mirror mode,
every state row that is no longer a valid member as an unsubscribe), so a list
that lost members in Iterable behind our back gets them back. It runs on demand
(``exports run --full``) or, for an export with auto resync on, as the next run
after one that ended Succeeded with drift. A full resync that itself drifts
does not start another until a run ended without drift: that drift is not one
a resend repairs (Iterable still counting), and the status says so until it
settles. Drift is members missing from the list: members Iterable holds that
audiencesync did not add (an adopted list's own) are not its to remove.
"""

from __future__ import annotations

from itertools import takewhile
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.store.destinations import Export
from audiencesync.store.runs import Run, RunSegment
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_DRIFTED = RunStatus.DRIFTED.code
_LOOK_BACK = 100  # drifted runs in a row looked at for an earlier full resync
_ENDED_WELL = (
    RunStatus.SUCCEEDED.code,
    RunStatus.SUCCEEDED_WITH_REJECTS.code,
    RunStatus.DRIFTED.code,
)


def needs_resync(session: Session, export_id: int) -> bool:
    """Whether the export's next run is a full resync by its auto resync setting.

    It is when auto resync is on and the export's runs that went through (dry
    runs aside) have drifted since the last one that did not, none of those
    drifted runs having been a full resync: one full resync per drift.
    """
    export = session.get(Export, export_id)
    if export is None or not export.auto_resync:
        return False
    streak = _drifted_streak(session, export_id)
    return bool(streak) and not any(streak)


def _drifted_streak(session: Session, export_id: int) -> list[bool]:
    """Of the newest runs that drifted in a row, whether each was a full resync."""
    recent = session.execute(
        select(Run.status, Run.full_resync)
        .where(
            Run.export_id == export_id,
            ~Run.dry_run,
            Run.status.in_(_ENDED_WELL),
        )
        .order_by(Run.id.desc())
        .limit(_LOOK_BACK)
    ).all()
    streak = takewhile(lambda run: run.status == _DRIFTED, recent)
    return [run.full_resync for run in streak]


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
    resent = run.full_resync or any(_drifted_streak(session, run.export_id or 0))
    if resent:
        follow = (
            "a full resync already re-sent every member, so the difference is not"
            " one a resend repairs (Iterable may still be counting)."
        )
    elif export is not None and export.auto_resync:
        follow = "the next run re-sends every member (auto resync)."
    else:
        follow = "a full resync of the export re-sends every member."
    return (
        f"A list lacks more than {threshold} % of the members audiencesync sent"
        f" ({lists}): {follow}"
    )
