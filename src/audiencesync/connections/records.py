"""Connection rows, and what each reader may see of them.

Administrators see a connection's settings (the API key only as its last four
characters); contributors and viewers see its name, its type and whether they
may use it, nothing more. Lookups by name ignore case.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.auth.directory import find_user
from audiencesync.auth.users import is_active_admin
from audiencesync.core.naming import clean_name
from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.store.accounts import User
from audiencesync.store.destinations import Connection, Export
from audiencesync.sync.credentials import (
    ExportCredentials as ExportCredentials,  # noqa: PLC0414 - re-exported
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KIND_ITERABLE = "iterable"


class ConnectionState(StrEnum):
    """Whether exports on a connection can run."""

    OK = "ok"
    UNAUTHORISED = "export user no longer authorised"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """The state and, unless it is OK, what is wrong and who fixes it how."""

    state: ConnectionState
    message: str

    @property
    def is_ok(self) -> bool:
        """Whether exports on the connection may run."""
        return self.state is ConnectionState.OK


@dataclass(frozen=True, slots=True)
class Consent:
    """Who agreed to the data privacy statement, when, and to which version."""

    version: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """What administrators see of a connection (never the key itself)."""

    shared: bool
    region: str | None
    base_url: str | None
    key_hint: str
    export_user: str | None
    consent: Consent
    status: ConnectionStatus
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    revision: int


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A connection as its reader may see it.

    ``usable``: whether the reader may create and run exports on it.
    ``settings``: ``None`` unless the reader is an administrator.
    """

    name: str
    kind: str
    usable: bool
    settings: ConnectionSettings | None


def key_hint(last4: str) -> str:
    """The only form of a key ever shown: ``…abcd``."""
    return f"…{last4}"


def normalize_name(raw: str) -> str:
    """``raw`` trimmed, or ConfigError saying why it cannot name a connection."""
    empty = 'A connection needs a name that says what it is for, e.g. "Iterable US".'
    return clean_name(raw, subject="connection", empty=empty)


def name_key(name: str) -> str:
    """The key two names share when they name the same connection."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def find(session: Session, name: str) -> Connection:
    """The connection called ``name`` (in any case), or NotFoundError."""
    row = session.scalars(
        select(Connection).where(Connection.name_key == name_key(name))
    ).one_or_none()
    if row is not None:
        return row
    names = session.scalars(select(Connection.name).order_by(Connection.name_key))
    known = ", ".join(repr(n) for n in names) or "none yet"
    msg = f"No connection named {name.strip()!r}. Connections: {known}."
    raise NotFoundError(msg, code="connection_not_found", details={"name": name})


def ensure_free(session: Session, name: str) -> None:
    """Raise ConflictError when a connection already has this name (in any case)."""
    taken = session.scalars(
        select(Connection.name).where(Connection.name_key == name_key(name))
    ).one_or_none()
    if taken is not None:
        msg = (
            f"A connection named {taken!r} already exists; names are unique"
            " regardless of case. Choose another name."
        )
        raise ConflictError(
            msg,
            code="name_taken",
            field="name",
            details={"kind": "connection", "name": taken},
        )


def export_names(session: Session, connection: Connection) -> list[str]:
    """The exports that use ``connection``, by name."""
    return list(
        session.scalars(
            select(Export.name)
            .where(Export.connection_id == connection.id)
            .order_by(Export.name_key)
        )
    )


# --- users ------------------------------------------------------------------


def active_user_id(session: Session, name: str) -> int:
    """The id of the active user called ``name``; NotFoundError if there is none."""
    user = find_user(session, name)
    if user is None or user.removed_at is not None:
        msg = f"There is no active user named {name!r} to become the export user."
        raise NotFoundError(msg)
    return user.id


def export_user_name(session: Session, connection: Connection) -> str | None:
    """The export user's name (even if removed or demoted), or None."""
    if connection.export_user_id is None:
        return None
    user = session.get(User, connection.export_user_id)
    return user.name if user is not None else None


def export_user_problem(session: Session, connection: Connection) -> str | None:
    """Why the export user can no longer authorise exports, or None if they can."""
    user_id = connection.export_user_id
    if user_id is not None and is_active_admin(session, user_id):
        return None
    user = (
        session.get(User, connection.export_user_id)
        if connection.export_user_id is not None
        else None
    )
    if user is None:
        why = "the connection has no export user"
    elif user.removed_at is not None:
        why = f"its export user {user.name} was removed"
    else:
        why = f"its export user {user.name} is no longer an administrator"
    return (
        f"{ConnectionState.UNAUTHORISED.value}: {why}. An administrator must"
        " authorise the connection (and become its export user) before exports on"
        f" {connection.name!r} can run."
    )


def status_of(
    session: Session, connection: Connection, *, readable: bool
) -> ConnectionStatus:
    """Broken (key unreadable), no longer authorised, or ok: the first that holds."""
    if not readable:
        return ConnectionStatus(
            ConnectionState.BROKEN,
            "broken: the stored API key cannot be decrypted (an administrator must"
            " enter it again)",
        )
    problem = export_user_problem(session, connection)
    if problem is not None:
        return ConnectionStatus(ConnectionState.UNAUTHORISED, problem)
    return ConnectionStatus(ConnectionState.OK, "ok")
