"""One Iterable list is fed by one binding: who else feeds a list, and refusals.

A binding feeds its stored list while its segment is in its export. Exports on
connections that reach the same Iterable project (same API root, same key: see
:mod:`audiencesync.connections.projects`) share that project's lists, so a list
id is compared across all of them. A segment must not adopt a list that another
binding feeds; a binding that already stores such a list (from before this
rule) gives it up when the other binding is older, the rightful owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, select

from audiencesync.errors import ConflictError
from audiencesync.store.destinations import Export, ExportSegment
from audiencesync.store.models import Segment
from audiencesync.store.runs import Binding
from audiencesync.sync.checkpoints import set_segment_status
from audiencesync.sync.outcomes import SegmentOutcome
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.orm import Session

    from audiencesync.sync.segment_pass import Part, PassContext


class ListClaimError(ConflictError):
    """Raised when a segment cannot have the list it would feed; others go on."""


class AmbiguousListError(ListClaimError):
    """Raised when Iterable has several standard lists with a segment's exact name."""

    def __init__(self, name: str, list_ids: list[int]) -> None:
        self.name, self.list_ids = name, list_ids
        ids = " and ".join(str(list_id) for list_id in list_ids)
        super().__init__(
            f"Iterable has {len(list_ids)} lists named exactly {name!r} (ids {ids}),"
            " so the list to feed is ambiguous. Delete or rename all but one of"
            " them in Iterable."
        )


@dataclass(frozen=True, slots=True)
class Feeder:
    """A binding that feeds a list: its id, export and segment."""

    binding_id: int
    export: str
    segment: str
    segment_id: int


class ListOwnedError(ListClaimError):
    """Raised when the list a segment would feed is fed by another binding."""

    def __init__(
        self, list_id: int, *, segment: str, export: str, feeder: Feeder
    ) -> None:
        self.list_id, self.feeder = list_id, feeder
        if feeder.segment == segment:
            fix = (
                f"One list is fed by one export: remove segment {segment!r} from"
                f" export {export!r} or from export {feeder.export!r}."
            )
        else:
            fix = (
                f"One list is fed by one segment: rename segment {segment!r} (a new"
                f" list is then made under its new name), or rename list {list_id}"
                " in Iterable."
            )
        super().__init__(
            f"Iterable list {list_id} is already fed by segment {feeder.segment!r}"
            f" of export {feeder.export!r} on the same Iterable project. {fix}"
        )


def other_feeder(
    session: Session,
    list_id: int,
    *,
    binding_id: int,
    connection_ids: Collection[int],
    older_only: bool = False,
) -> Feeder | None:
    """Another binding feeding ``list_id`` on one of ``connection_ids``, if any.

    ``older_only``: only a binding made before ``binding_id`` counts.
    """
    query = (
        select(Binding.id, Export.name, Segment.name, Segment.id)
        .join(Export, Export.id == Binding.export_id)
        .join(
            ExportSegment,
            and_(
                ExportSegment.export_id == Binding.export_id,
                ExportSegment.segment_id == Binding.segment_id,
            ),
        )
        .join(Segment, Segment.id == Binding.segment_id)
        .where(
            Binding.list_id == list_id,
            Binding.id != binding_id,
            Export.connection_id.in_(list(connection_ids)),
        )
        .order_by(Binding.id)
        .limit(1)
    )
    if older_only:
        query = query.where(Binding.id < binding_id)
    row = session.execute(query).first()
    if row is None:
        return None
    return Feeder(binding_id=row[0], export=row[1], segment=row[2], segment_id=row[3])


def refused(ctx: PassContext, part: Part, exc: ListClaimError) -> SegmentOutcome:
    """End a part that may not feed the list it would: Failed (permanent).

    Nothing was sent for it; the run's other segments go on.
    """
    with ctx.env.database.session() as session:
        set_segment_status(session, part.id, RunStatus.FAILED_PERMANENT)
    ctx.progress.segment_finished(part.name)
    return SegmentOutcome(failed=f"Segment {part.name!r} was not synced: {exc}")


def check_claim(ctx: PassContext, part: Part, list_id: int) -> None:
    """Raise ListOwnedError when another binding feeds ``list_id``.

    For a list the binding already stores only an older binding counts (the
    list's rightful owner); the binding then gives the list up, except in a dry
    run, so its next run adopts or creates one of its own.
    """
    stored = part.list_id == list_id
    peers = ctx.env.project_peers(ctx.target.connection_id)
    with ctx.env.database.session() as session:
        feeder = other_feeder(session, list_id, binding_id=part.binding_id,
                              connection_ids=peers, older_only=stored)  # fmt: skip
    if feeder is None:
        return
    if stored and not ctx.dry_run:
        with ctx.env.database.session() as session:
            binding = session.get_one(Binding, part.binding_id)
            binding.list_id, binding.list_name = None, None
        part.list_id = None
    raise ListOwnedError(list_id, segment=part.name, export=ctx.target.name,
                         feeder=feeder)  # fmt: skip
