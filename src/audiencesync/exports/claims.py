"""One segment, one export per Iterable project: checked when an export is saved.

Each (export, segment) pair feeds its own Iterable list. Two exports of one
segment to the same project (the same connection, or connections with the same
API root and key) would share the list named after the segment, each with its
own sync state, and their removals would fight. Saving such an export is
refused, naming the export that already has the segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.errors import ConflictError
from audiencesync.segments.names import name_key
from audiencesync.store.destinations import Export, ExportSegment
from audiencesync.store.models import Segment

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from sqlalchemy.orm import Session


def ensure_unclaimed(
    session: Session,
    segments: Sequence[str],
    *,
    connection_ids: Collection[int],
    export: str,
    export_id: int | None = None,
) -> None:
    """Refuse ``segments`` another export on the same Iterable project exports."""
    keys = [name_key(name) for name in segments]
    query = (
        select(Export.name, Segment.name)
        .join(ExportSegment, ExportSegment.export_id == Export.id)
        .join(Segment, Segment.id == ExportSegment.segment_id)
        .where(
            Export.connection_id.in_(list(connection_ids)),
            Segment.name_key.in_(keys),
        )
        .order_by(Export.name_key, Segment.name_key)
        .limit(1)
    )
    if export_id is not None:
        query = query.where(Export.id != export_id)
    row = session.execute(query).first()
    if row is None:
        return
    other, segment = row
    msg = (
        f"Segment {segment!r} is already exported to this Iterable project by export"
        f" {other!r}; each list is fed by one export, so export {export!r} cannot"
        f" have it too. Add the segment to {other!r} only, or remove it there first."
    )
    raise ConflictError(msg)
