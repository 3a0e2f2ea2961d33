"""Who exists: user names, lookups, the acting user, and logins.

Every service asks this module who the acting user is (:func:`resolve_actor`),
whom to send people to for access (:func:`admin_names`, :func:`ask_admins`) and
whether a user still holds the administrator role (:func:`is_active_admin`, for
connections whose export user may have been removed or demoted). The
authentication functions serve the REST API and the web pages; the CLI trusts
whoever can read the data folder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.auth import passwords, tokens
from audiencesync.auth.roles import Actor, Role
from audiencesync.errors import AccessDeniedError, ConfigError, NotFoundError
from audiencesync.store.accounts import ApiToken, SystemSetting, User
from audiencesync.store.models import utc_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.store.database import Database

DEFAULT_USER = "default_user"  # the SystemSetting key ``init`` writes
NAME_MAX = 64
NAME_PUNCTUATION = frozenset("._-@")
WRONG_LOGIN = "Wrong user name or password."
BEARER_REFUSED = (
    "This API token is not valid: it is unknown or revoked, or its user was removed."
)


def normalize_user_name(name: str) -> str:
    """``name`` trimmed, or ConfigError unless it is 1-64 letters, digits or ._-@."""
    clean = name.strip()
    if not 1 <= len(clean) <= NAME_MAX:
        msg = (
            f"A user name needs 1 to {NAME_MAX} characters; {clean!r} has {len(clean)}."
        )
        raise ConfigError(
            msg, code="user_name_invalid", field="name", details={"max": NAME_MAX}
        )
    if not all(char.isalnum() or char in NAME_PUNCTUATION for char in clean):
        msg = (
            f"The user name {clean!r} has a character that is not allowed; use"
            " letters, digits and . _ - @ only."
        )
        raise ConfigError(
            msg, code="user_name_invalid", field="name",
            details={"allowed": ". _ - @"},
        )  # fmt: skip
    return clean


def user_key(name: str) -> str:
    """The case-insensitive key names are unique by."""
    return name.strip().casefold()


def find_user(session: Session, name: str) -> User | None:
    """The user called ``name`` in any letter case, removed or not."""
    return session.scalar(select(User).where(User.name_key == user_key(name)))


def admin_names(session: Session) -> list[str]:
    """The active administrators' names, sorted: whom to ask for access."""
    return sorted(
        session.scalars(
            select(User.name).where(
                User.role == Role.ADMIN.value, User.removed_at.is_(None)
            )
        )
    )


def is_active_admin(session: Session, user_id: int) -> bool:
    """Whether user ``user_id`` is still an administrator and not removed."""
    user = session.get(User, user_id)
    return user is not None and user.removed_at is None and user.role == Role.ADMIN


def ask_admins(session: Session) -> str:
    """The hint "ask an administrator (ana, bo)", naming whoever can help."""
    names = admin_names(session)
    return (
        f"ask an administrator ({', '.join(names)})"
        if names
        else "ask an administrator"
    )


def resolve_actor(database: Database, name: str | None) -> Actor:
    """The acting user: ``name`` (any case), else the default user ``init`` set."""
    with database.session() as session:
        chosen = default_user(session) if name is None else name
        user = find_user(session, chosen)
        if user is None:
            raise unknown_user_error(session, chosen)
        if user.removed_at is not None:
            msg = (
                f"User {user.name!r} was removed on {day(user.removed_at)};"
                f" {ask_admins(session)} if you need access."
            )
            if name is None:
                msg += " It was the default user; act as another user."
                raise AccessDeniedError(
                    msg, code="default_user_removed", details={"user": user.name}
                )
            raise AccessDeniedError(msg)
        return actor_of(user)


def default_user(session: Session) -> str:
    """The name ``init`` recorded as the default CLI user, or ConfigError."""
    setting = session.get(SystemSetting, DEFAULT_USER)
    if setting is None or not isinstance(setting.value, str):
        msg = (
            "This data folder has no default user: its first administrator was"
            " never created. Initialise it, or act as a user by name."
        )
        raise ConfigError(msg, code="no_default_user")
    return setting.value


def unknown_user_error(session: Session, name: str) -> NotFoundError:
    """The error for a user name nobody has: the active users, and the fix."""
    names = sorted(
        session.scalars(select(User.name).where(User.removed_at.is_(None))),
        key=str.casefold,
    )
    details = {"name": name}
    if not names:
        msg = (
            f"No user named {name!r}, and no users yet: initialising the data"
            " folder creates the first administrator."
        )
        return NotFoundError(msg, code="no_users", details=details)
    msg = (
        f"No user named {name!r}. Users: {', '.join(names)}."
        " An administrator can add one."
    )
    return NotFoundError(msg, code="user_not_found", details=details)


def authenticate_password(database: Database, name: str, password: str) -> Actor:
    """The actor whose name and password these are, or AccessDeniedError.

    The message never says which of the two was wrong. A hash made with older
    parameters is replaced on success (not a change people make: no audit event).
    """
    with database.session() as session:
        user = find_user(session, name)
        if user is None or user.password_hash is None:
            passwords.verify_against_nothing(password)
            raise AccessDeniedError(WRONG_LOGIN)
        if not passwords.verify_password(user.password_hash, password):
            raise AccessDeniedError(WRONG_LOGIN)
        if user.removed_at is not None:
            raise AccessDeniedError(WRONG_LOGIN)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.rehash(password)
        return actor_of(user)


def authenticate_token(database: Database, token: str) -> Actor:
    """The actor owning this active API token, or AccessDeniedError.

    Records when the token was last used (no audit event: nothing changed).
    """
    with database.session() as session:
        row = session.scalar(
            select(ApiToken).where(ApiToken.digest == tokens.digest(token))
        )
        if (
            row is None
            or not tokens.matches(token, row.digest)
            or row.revoked_at is not None
            or row.user.removed_at is not None
        ):
            raise AccessDeniedError(BEARER_REFUSED)
        row.last_used_at = utc_now()
        return actor_of(row.user)


def actor_of(user: User) -> Actor:
    """The actor ``user`` acts as."""
    return Actor(user.name, Role(user.role))


def day(moment: datetime) -> str:
    """A date as messages show it: ``2025-06-30``."""
    return moment.date().isoformat()
