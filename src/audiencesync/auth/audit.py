"""The audit log: who changed what, when, and on which target.

Services call :func:`record_event` inside the same session (the same transaction)
as the change itself, so a change and its audit event commit or fail together.
Details hold names, counts and flags only: never a secret, a key fragment, a
password or any profile value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from audiencesync.store.accounts import AuditEvent
from audiencesync.store.models import utc_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.auth.roles import Actor

DEFAULT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit event as readers see it."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target: str
    details: Mapping[str, Any]


def record_event(
    session: Session,
    actor: Actor | str,
    action: str,
    *,
    target_type: str,
    target: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add one audit event to ``session`` (committed with the change)."""
    session.add(
        AuditEvent(
            at=utc_now(),
            actor=actor if isinstance(actor, str) else actor.name,
            action=action,
            target_type=target_type,
            target=target,
            details=dict(details or {}),
        )
    )


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the audit log, newest first, and how many events there are."""

    entries: list[AuditEntry]
    total: int
    limit: int
    offset: int


def list_events(
    session: Session, *, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> list[AuditEntry]:
    """The latest events, newest first, skipping the ``offset`` newest."""
    rows = session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        AuditEntry(
            row.at, row.actor, row.action, row.target_type, row.target, row.details
        )
        for row in rows
    ]


def count_events(session: Session) -> int:
    """How many audit events there are."""
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def read_page(session: Session, *, limit: int, offset: int = 0) -> AuditPage:
    """The page of events from ``offset`` (newest first), with the total."""
    entries = list_events(session, limit=limit, offset=offset)
    return AuditPage(entries, count_events(session), limit, offset)
