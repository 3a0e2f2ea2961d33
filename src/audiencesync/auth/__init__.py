"""Who may do what: roles, actions, the acting user, passwords and API tokens."""

from __future__ import annotations

from audiencesync.auth.roles import (
    ALLOWED,
    Action,
    Actor,
    ConnectionScope,
    Role,
    check,
)

__all__ = ["ALLOWED", "Action", "Actor", "ConnectionScope", "Role", "check"]
