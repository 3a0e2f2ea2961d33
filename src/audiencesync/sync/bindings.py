"""Bindings: each (export, segment) pair, its Iterable list, and its final rejects.

A binding is made the first time an export syncs a segment and then kept: the
list id it stores is how a renamed segment keeps its list. Final rejects are the
identifiers Iterable reported as forgotten; the planner leaves them out, so they
are never sent to that list again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from audiencesync.store.runs import Binding, FinalReject

if TYPE_CHECKING:
    from audiencesync.sync.checkpoints import Reject

CHUNK = 500  # identifiers per IN (...) lookup: well under every engine's limit


def ensure_binding(session: Session, export_id: int, segment_id: int) -> Binding:
    """The export's binding of the segment, made (without a list) if new."""
    binding = session.scalars(
        select(Binding).where(
            Binding.export_id == export_id, Binding.segment_id == segment_id
        )
    ).one_or_none()
    if binding is None:
        binding = Binding(export_id=export_id, segment_id=segment_id)
        session.add(binding)
        session.flush()
    return binding


def set_list(binding: Binding, *, list_id: int, list_name: str) -> None:
    """Store the Iterable list the binding feeds, and the name it was made with."""
    binding.list_id, binding.list_name = list_id, list_name


def final_identifiers(session: Session, binding_id: int) -> set[str]:
    """The identifiers never to be sent to the binding's list again."""
    rows = session.scalars(
        select(FinalReject.identifier).where(FinalReject.binding_id == binding_id)
    )
    return set(rows)


def add_final(
    session: Session, binding_id: int, rejects: Sequence[Reject], *, run_id: int
) -> int:
    """Record final rejects not yet known for the binding; return how many were new."""
    fresh = {reject.identifier: reject for reject in rejects}
    for chunk in _chunks(list(fresh)):
        known = session.scalars(
            select(FinalReject.identifier).where(
                FinalReject.binding_id == binding_id,
                FinalReject.identifier.in_(chunk),
            )
        )
        for identifier in known:
            del fresh[identifier]
    if fresh:
        rows = [_final_row(binding_id, reject, run_id) for reject in fresh.values()]
        session.execute(insert(FinalReject), rows)
    return len(fresh)


def _final_row(binding_id: int, reject: Reject, run_id: int) -> dict[str, object]:
    return {
        "binding_id": binding_id,
        "identifier": reject.identifier,
        "bucket": str(reject.bucket),
        "first_seen_run_id": run_id,
    }


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
