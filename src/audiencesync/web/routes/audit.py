"""``/api/v1/audit``: who changed what, when (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

from audiencesync.app.views import Page
from audiencesync.app.views.audit import AuditView, audit_page
from audiencesync.web.deps import WorkspaceDep
from audiencesync.web.errors import ERROR_RESPONSES
from audiencesync.web.params import DEFAULT_LIMIT, Limit, Offset

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/audit", summary="Read the audit log (administrators)")
def read_audit(
    workspace: WorkspaceDep,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AuditView]:
    """The audit events, newest first, one page at a time."""
    return audit_page(workspace.users.read_audit_page(limit=limit, offset=offset))
