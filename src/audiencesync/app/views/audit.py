"""The audit log as ``audit --json`` and ``/api/v1/audit`` show it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from audiencesync.app.views import Page, View

if TYPE_CHECKING:
    from audiencesync.auth.audit import AuditEntry, AuditPage


class AuditView(View):
    """One change: who, what, when, on which target; names, counts and flags only."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target: str
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> Self:
        """The view of an audit entry."""
        return cls(
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target_type=entry.target_type,
            target=entry.target,
            details=dict(entry.details),
        )


def audit_page(page: AuditPage) -> Page[AuditView]:
    """A page of the audit log, newest first."""
    return Page[AuditView](
        items=[AuditView.of(entry) for entry in page.entries],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
