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

from sqlalchemy import Select, func, select

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
class AuditFilter:
    """Which events to read: by one actor, one action, from a moment on (all: None).

    The actor is matched in any letter case; ``since`` is inclusive.
    """

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """``query`` narrowed to the events this filter keeps."""
        if self.actor:
            query = query.where(func.lower(AuditEvent.actor) == self.actor.lower())
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        return query


EVERY_EVENT = AuditFilter()


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the audit log, newest first, and how many events there are."""

    entries: list[AuditEntry]
    total: int
    limit: int
    offset: int


def list_events(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    where: AuditFilter = EVERY_EVENT,
) -> list[AuditEntry]:
    """The latest events ``where`` keeps, newest first, after the ``offset`` newest."""
    rows = session.scalars(
        where.apply(select(AuditEvent))
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


def count_events(session: Session, where: AuditFilter = EVERY_EVENT) -> int:
    """How many audit events ``where`` keeps."""
    query = where.apply(select(func.count()).select_from(AuditEvent))
    return session.scalar(query) or 0


def read_page(
    session: Session, *, limit: int, offset: int = 0, where: AuditFilter = EVERY_EVENT
) -> AuditPage:
    """The page of events from ``offset`` (newest first), with the total."""
    entries = list_events(session, limit=limit, offset=offset, where=where)
    return AuditPage(entries, count_events(session, where), limit, offset)
