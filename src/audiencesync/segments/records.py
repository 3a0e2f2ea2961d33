"""Segment rows in the control-plane database, and what readers see of them.

Lookups by name ignore case (``name_key``), clashes are refused with the reason,
and a segment used by an export cannot be deleted.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.segments.names import name_key
from audiencesync.segments.rules import Definition, definition_from_json, describe
from audiencesync.store.destinations import Export, ExportSegment
from audiencesync.store.models import Segment, SegmentEvaluation
from audiencesync.store.runs import Binding

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One evaluation of a segment: when, how many members, how long it took."""

    evaluated_at: datetime
    member_count: int | None
    duration_ms: int
    engine: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """A saved segment as readers see it, with its latest evaluation."""

    name: str
    description: str | None
    definition: Definition
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    last: EvaluationRecord | None
    revision: int = 1

    @property
    def kind(self) -> str:
        """``rules`` or ``where``."""
        return self.definition.kind

    @property
    def summary(self) -> str:
        """The definition in one human line."""
        return describe(self.definition)

    @property
    def member_count(self) -> int | None:
        """Members at the latest successful evaluation (``None`` if never)."""
        return self.last.member_count if self.last else None

    @property
    def evaluated_at(self) -> datetime | None:
        """When the segment was last evaluated."""
        return self.last.evaluated_at if self.last else None


@dataclass(frozen=True, slots=True)
class Preview:
    """The first members of a segment and how many there are in all."""

    segment: str
    member_count: int
    members: pa.Table


def find(session: Session, name: str) -> Segment:
    key = name_key(name.strip())
    segment = session.scalars(select(Segment).where(Segment.name_key == key)).first()
    if segment is None:
        names = session.scalars(select(Segment.name)).all()
        raise NotFoundError(
            not_found_message(name, list(names)),
            code="segment_not_found",
            details={"name": name, "known": bool(names)},
        )
    return segment


def not_found_message(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""
    return f"There is no segment named {name!r}.{hint}"


def ensure_free(session: Session, name: str) -> None:
    clash = session.scalars(
        select(Segment.name).where(Segment.name_key == name_key(name))
    ).first()
    if clash is not None:
        same = "" if clash == name else f" ({clash!r} differs only in case)"
        msg = (
            f"A segment named {name!r} already exists{same}. Each segment becomes an"
            " Iterable list of the same name, so names must be unique: choose"
            " another name, or edit or delete the existing segment."
        )
        raise ConflictError(
            msg,
            code="name_taken",
            field="name",
            details={"kind": "segment", "name": clash},
        )


def ensure_unused(session: Session, segment: Segment) -> None:
    users = session.scalars(
        select(Export.name)
        .join(ExportSegment, ExportSegment.export_id == Export.id)
        .where(ExportSegment.segment_id == segment.id)
        .order_by(Export.name)
    ).all()
    if users:
        names = ", ".join(repr(name) for name in users)
        msg = (
            f"Segment {segment.name!r} is exported by {names}. Remove it from those"
            " exports (or remove the exports) first, so no Iterable list is left"
            " without its segment."
        )
        raise ConflictError(
            msg,
            code="segment_in_use",
            details={"segment": segment.name, "exports": list(users)},
        )
    _ensure_no_sync_history(session, segment)


def _ensure_no_sync_history(session: Session, segment: Segment) -> None:
    synced = session.scalars(
        select(Export.name)
        .join(Binding, Binding.export_id == Export.id)
        .where(Binding.segment_id == segment.id)
        .order_by(Export.name)
    ).all()
    if synced:
        names = ", ".join(repr(name) for name in synced)
        msg = (
            f"Segment {segment.name!r} was sent to Iterable by {names}, and their run"
            " history refers to it, so it cannot be deleted yet. Its Iterable list"
            " stays as it is; to stop syncing it, remove it from the export."
        )
        raise ConflictError(msg)


def changes(
    new_name: str | None,
    definition: Definition | None,
    description: str | None,
    old_name: str,
) -> dict[str, object]:
    changes: dict[str, object] = {}
    if new_name is not None:
        changes["renamed_from"] = old_name
    if definition is not None:
        changes["definition"] = definition.kind
    if description is not None:
        changes["description"] = True
    return changes


def clean_description(description: str | None) -> str | None:
    text = (description or "").strip()
    return text or None


def info(session: Session, segment: Segment) -> SegmentInfo:
    latest = session.scalars(
        select(SegmentEvaluation)
        .where(SegmentEvaluation.segment_id == segment.id)
        .order_by(SegmentEvaluation.evaluated_at.desc(), SegmentEvaluation.id.desc())
        .limit(1)
    ).first()
    return _info(segment, record(latest) if latest else None)


def _info(segment: Segment, last: EvaluationRecord | None) -> SegmentInfo:
    return SegmentInfo(
        name=segment.name,
        description=segment.description,
        definition=definition_from_json(segment.definition),
        created_at=segment.created_at,
        updated_at=segment.updated_at,
        created_by=segment.created_by,
        last=last,
        revision=segment.revision,
    )


def infos(session: Session, segments: Sequence[Segment]) -> list[SegmentInfo]:
    """The infos of ``segments`` in order; their latest evaluations read at once."""
    latest = latest_records(session, [segment.id for segment in segments], limit=1)
    return [
        _info(segment, latest[segment.id][0] if segment.id in latest else None)
        for segment in segments
    ]


def latest_records(
    session: Session, segment_ids: Sequence[int], *, limit: int
) -> dict[int, list[EvaluationRecord]]:
    """The latest ``limit`` evaluations of each segment, newest first, in one query.

    Segments never evaluated are absent.
    """
    if not segment_ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=SegmentEvaluation.segment_id,
            order_by=(
                SegmentEvaluation.evaluated_at.desc(),
                SegmentEvaluation.id.desc(),
            ),
        )
        .label("rank")
    )
    ranked = (
        select(SegmentEvaluation, rank)
        .where(SegmentEvaluation.segment_id.in_(list(segment_ids)))
        .subquery()
    )
    columns = ranked.c
    rows = session.execute(  # plain rows, not ORM objects: many rows, read only
        select(
            columns.segment_id, columns.evaluated_at, columns.member_count,
            columns.duration_ms, columns.engine, columns.error,
        )
        .where(columns.rank <= limit)
        .order_by(columns.segment_id, columns.rank)
    ).all()  # fmt: skip
    found: dict[int, list[EvaluationRecord]] = {}
    for row in rows:
        found.setdefault(row.segment_id, []).append(
            EvaluationRecord(
                evaluated_at=row.evaluated_at,
                member_count=row.member_count,
                duration_ms=row.duration_ms,
                engine=row.engine,
                error=row.error,
            )
        )
    return found


def record(row: SegmentEvaluation) -> EvaluationRecord:
    return EvaluationRecord(
        evaluated_at=row.evaluated_at,
        member_count=row.member_count,
        duration_ms=row.duration_ms,
        engine=row.engine,
        error=row.error,
    )
