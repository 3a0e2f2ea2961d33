"""Finding an export's row by name: the engine's one read of export setups."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.errors import NotFoundError
from audiencesync.segments.names import name_key
from audiencesync.store.destinations import Export

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def find_export(session: Session, name: str) -> Export:
    """The export called ``name`` (any case), or a NotFoundError with a hint."""
    key = name_key(name)
    row = session.scalars(select(Export).where(Export.name_key == key)).first()
    if row is not None:
        return row
    names = list(session.scalars(select(Export.name).order_by(Export.name_key)))
    hint = did_you_mean(name, names)
    msg = f"There is no export named {name.strip()!r}.{hint}"
    raise NotFoundError(
        msg, code="export_not_found", details={"name": name, "known": bool(names)}
    )


def did_you_mean(name: str, names: list[str]) -> str:
    """`` Did you mean 'X'?`` for the closest of ``names``, or nothing."""
    close = difflib.get_close_matches(name.strip(), names, n=1, cutoff=0.6)
    return f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""
