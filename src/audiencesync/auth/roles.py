"""The role matrix of design section 6, as data, and the one check that reads it.

Every service method that reads or changes something calls :func:`check` with the
acting user and the action first; the CLI, the REST API and the web pages therefore
enforce the same rules. Actions on exports are also scoped by their connection:
contributors may act only on connections shared with them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from audiencesync.errors import AccessDeniedError


class Role(enum.StrEnum):
    """The three roles of Customer Insights."""

    ADMIN = "admin"
    CONTRIBUTOR = "contributor"
    VIEWER = "viewer"

    @property
    def title(self) -> str:  # type: ignore[override]
        """The role as people say it: "an administrator", "a contributor"."""
        return {
            Role.ADMIN: "an administrator",
            Role.CONTRIBUTOR: "a contributor",
            Role.VIEWER: "a viewer",
        }[self]


class Action(enum.StrEnum):
    """Everything the matrix rules on; the value reads after "cannot"."""

    MANAGE_USERS = "manage users"
    MANAGE_SCHEDULE = "change the refresh schedule"
    MANAGE_CONNECTIONS = "add, change or remove connections"
    VIEW_CONNECTION_SETTINGS = "see connection settings"
    MANAGE_PROFILES = "import or generate profiles"
    EDIT_SEGMENTS = "create, edit or delete segments"
    EDIT_EXPORTS = "create, edit or remove exports"
    RUN_EXPORTS = "run exports"
    APPROVE_REMOVALS = "approve or discard held removals"
    READ = "read segments, exports and runs"
    VIEW_PROFILES = "see profile data (segment previews, run rejects)"
    DOWNLOAD_REJECTS = "download rejected profiles"
    READ_AUDIT = "read the audit log"


_EVERYONE = frozenset(Role)
_EDITORS = frozenset({Role.ADMIN, Role.CONTRIBUTOR})
_ADMINS = frozenset({Role.ADMIN})

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.MANAGE_USERS: _ADMINS,
    Action.MANAGE_SCHEDULE: _ADMINS,
    Action.MANAGE_CONNECTIONS: _ADMINS,
    Action.VIEW_CONNECTION_SETTINGS: _ADMINS,
    Action.MANAGE_PROFILES: _EDITORS,
    Action.EDIT_SEGMENTS: _EDITORS,
    Action.EDIT_EXPORTS: _EDITORS,
    Action.RUN_EXPORTS: _EDITORS,
    Action.APPROVE_REMOVALS: _ADMINS,
    Action.READ: _EVERYONE,
    Action.VIEW_PROFILES: _EDITORS,
    Action.DOWNLOAD_REJECTS: _EDITORS,
    Action.READ_AUDIT: _ADMINS,
}
CONNECTION_SCOPED = frozenset({Action.EDIT_EXPORTS, Action.RUN_EXPORTS})


@dataclass(frozen=True, slots=True)
class Actor:
    """The user a command acts as."""

    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """Administrators may do everything."""
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class ConnectionScope:
    """What :func:`check` needs to know of a connection: its name and sharing."""

    name: str
    shared: bool


def check(
    actor: Actor,
    action: Action,
    *,
    connection: ConnectionScope | None = None,
    admins: Sequence[str] = (),
) -> None:
    """Raise :class:`AccessDeniedError` unless ``actor`` may do ``action``.

    ``admins`` (the administrators' names) makes the message say whom to ask.
    """
    if actor.role not in ALLOWED[action]:
        msg = (
            f"{actor.name} is {actor.role.title} and cannot {action.value}."
            f" {_ask(admins)} if you need this."
        )
        details = {"kind": actor.role.value, "user": actor.name,
                   "action": action.value, **_admins(admins)}  # fmt: skip
        raise AccessDeniedError(msg, details=details)
    if (
        action in CONNECTION_SCOPED
        and connection is not None
        and not connection.shared
        and not actor.is_admin
    ):
        msg = (
            f"Connection {connection.name!r} is for administrators only, so"
            f" {actor.name} cannot {action.value} on it. {_ask(admins)} to share"
            " it with contributors, or to do this for you."
        )
        details = {
            "kind": "connection_admins_only", "connection": connection.name,
            "user": actor.name, "action": action.value, **_admins(admins),
        }  # fmt: skip
        raise AccessDeniedError(msg, details=details)


def _admins(admins: Sequence[str]) -> dict[str, object]:
    """The administrators to ask, when known (for the error's details)."""
    return {"admins": sorted(admins)} if admins else {}


def _ask(admins: Sequence[str]) -> str:
    if not admins:
        return "Ask an administrator"
    return f"Ask an administrator ({', '.join(sorted(admins))})"
