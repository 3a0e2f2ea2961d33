"""Whether a sync state file on disk is this binding's state for this list.

A sync state says who Iterable already has on a list because of us; a state
that is not the binding's own makes the planner skip members nobody ever sent
(a data folder kept after its database was lost, a binding id reused). So a
state file is trusted only when it proves whose it is:

- its identity (:class:`~audiencesync.sync.state.StateIdentity`) names the
  binding's ``state_key`` and the list the run is about to plan for;
- a file written before identities existed (it has none) is trusted when the
  binding could have written it: the binding has the same list, an earlier
  real run of the binding used that list, and the file is newer than the
  binding. Its next commit stamps it with the identity.

Any other file (another binding's or another list's, no identity without that
proof, unreadable) is ignored: the binding is planned against an empty state,
so every member is sent. One log line says so, with ids only; a real run then
removes the file, a dry run leaves it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.store.runs import Binding, Run, RunSegment
from audiencesync.sync.state import read_identity, remove_state

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StateOwner:
    """The binding a state must belong to, and what it knows of its past."""

    binding_id: int
    state_key: str
    list_id: int | None  # the list the run plans for; None: no list yet
    created_at: datetime  # the binding's creation
    ran_before: bool  # an earlier real run of the binding used ``list_id``


def state_owner(
    session: Session, binding_id: int, *, list_id: int | None, run_id: int
) -> StateOwner:
    """The owner a state file of ``binding_id`` must prove, for run ``run_id``."""
    binding = session.get_one(Binding, binding_id)
    earlier = session.scalar(
        select(RunSegment.id)
        .join(Run, Run.id == RunSegment.run_id)
        .where(
            RunSegment.binding_id == binding_id,
            RunSegment.list_id == list_id,
            RunSegment.run_id != run_id,
            Run.dry_run.is_(False),
        )
        .limit(1)
    )
    return StateOwner(
        binding_id=binding_id,
        state_key=binding.state_key,
        list_id=list_id,
        created_at=_aware(binding.created_at),
        ran_before=list_id is not None and earlier is not None,
    )


def trusted_state(path: Path, owner: StateOwner, *, discard: bool) -> Path | None:
    """``path`` when it holds the owner's state (or nothing); None when it does not.

    A state that is not the owner's is removed when ``discard`` is set.
    """
    if not path.exists():
        return path
    doubt = _doubt(path, owner)
    if doubt is None:
        return path
    _log.warning(
        "sync state of binding %d ignored (%s): every member of its segment is sent",
        owner.binding_id,
        doubt,
    )
    if discard:
        remove_state(path)
    return None


def _doubt(path: Path, owner: StateOwner) -> str | None:
    """Why the file is not the owner's state, or None when it is."""
    try:
        identity = read_identity(path)
    except Exception as exc:  # any unreadable file is not trusted
        return f"unreadable: {type(exc).__name__}"
    if owner.list_id is None:
        return "the binding has no list yet"
    if identity is None:
        return _legacy_doubt(path, owner)
    if identity.state_key != owner.state_key:
        return "written for another binding"
    if identity.list_id != owner.list_id:
        return f"written for list {identity.list_id}, not list {owner.list_id}"
    return None


def _legacy_doubt(path: Path, owner: StateOwner) -> str | None:
    """Why a file without identity cannot be the owner's, or None when it can."""
    if not owner.ran_before:
        return "no identity, and no earlier run of the binding used its list"
    written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if written < owner.created_at:
        return "no identity, and older than the binding"
    _log.info(
        "sync state of binding %d predates state identities; trusted, and stamped"
        " at its next commit",
        owner.binding_id,
    )
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
