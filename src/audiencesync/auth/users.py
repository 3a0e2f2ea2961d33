"""Users, their roles and API tokens: the service administrators manage them with.

:class:`UserService` adds users, changes roles, removes users and issues API
tokens. It is for administrators, except that every user may manage their own
tokens. Each change writes exactly one audit event in the same transaction, with
names and roles only: never a password, a hash or a token. :func:`ensure_first_admin`
is ``init``'s part.

Users are never deleted, only marked removed, and a removed user's name stays
reserved, so audit events and connections keep pointing at one person.

Who is acting, and the lookups other services need, live in
:mod:`audiencesync.auth.directory` and are re-exported here.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy import select

from audiencesync.auth import passwords, tokens
from audiencesync.auth.audit import (
    DEFAULT_LIMIT,
    EVERY_EVENT,
    AuditEntry,
    AuditFilter,
    AuditPage,
    list_events,
    read_page,
    record_event,
)
from audiencesync.auth.directory import (
    DEFAULT_USER,
    actor_of,
    admin_names,
    ask_admins,
    authenticate_password,
    authenticate_token,
    day,
    find_user,
    is_active_admin,
    normalize_user_name,
    resolve_actor,
    unknown_user_error,
    user_key,
)
from audiencesync.auth.roles import Action, Actor, Role, check
from audiencesync.auth.tokens import TokenInfo
from audiencesync.core.emails import is_valid_email
from audiencesync.errors import ConfigError, ConflictError
from audiencesync.store.accounts import ApiToken, SystemSetting, User
from audiencesync.store.models import utc_now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.store.database import Database

__all__ = [
    "KEEP",
    "TokenInfo",
    "UserInfo",
    "UserService",
    "actor_of",
    "admin_names",
    "ask_admins",
    "authenticate_password",
    "authenticate_token",
    "ensure_first_admin",
    "is_active_admin",
    "resolve_actor",
]

logger = logging.getLogger(__name__)

INIT_ACTOR = "init"  # who created the first administrator
LAST_ADMIN = "last_admin"  # the error code of a change that would leave no admin
REMOVE_SELF = "cannot_remove_self"


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""For :meth:`UserService.update`: leave this field as it is (None clears it)."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user as administrators see them (never their password or its hash)."""

    name: str
    role: Role
    created_at: datetime
    created_by: str | None
    removed_at: datetime | None
    has_password: bool
    email: str | None = None

    @property
    def is_active(self) -> bool:
        """Whether the user has not been removed."""
        return self.removed_at is None


# --- init ------------------------------------------------------------------------


def ensure_first_admin(
    session: Session, *, name: str, password: str | None = None
) -> tuple[str, bool]:
    """Create administrator ``name`` unless users exist; (default user, created).

    The first administrator becomes the default CLI user. Its creator, and the
    actor of its audit event, is ``init``.
    """
    default = session.get(SystemSetting, DEFAULT_USER)
    if session.scalar(select(User.id).limit(1)) is not None:
        if default is not None:
            return str(default.value), False
        return _repair_default_user(session), False
    clean = normalize_user_name(name)
    password_hash = None if password is None else passwords.hash_password(password)
    session.add(
        User(
            name=clean,
            name_key=user_key(clean),
            role=Role.ADMIN.value,
            password_hash=password_hash,
            created_at=utc_now(),
            created_by=INIT_ACTOR,
        )
    )
    session.add(SystemSetting(key=DEFAULT_USER, value=clean))
    _record(
        session,
        INIT_ACTOR,
        "user.add",
        clean,
        {
            "role": Role.ADMIN.value,
            "has_password": password is not None,
            DEFAULT_USER: True,
        },
    )
    return clean, True


def _repair_default_user(session: Session) -> str:
    """Users exist but no default user: the oldest active administrator becomes it."""
    oldest = session.scalar(
        select(User.name)
        .where(User.role == Role.ADMIN.value, User.removed_at.is_(None))
        .order_by(User.created_at, User.id)
        .limit(1)
    )
    if oldest is None:
        msg = (
            "This database has users but no active administrator, so init cannot"
            " choose a default user. Restore the database from a backup."
        )
        raise ConfigError(msg)
    session.add(SystemSetting(key=DEFAULT_USER, value=oldest))
    _record(
        session, INIT_ACTOR, "setting.default_user", oldest, {}, target_type="setting"
    )
    return oldest


# --- the service -----------------------------------------------------------------


class UserService:
    """Users, roles and API tokens, as ``actor`` may manage them."""

    def __init__(self, database: Database, actor: Actor) -> None:
        self._database = database
        self.actor = actor

    def add(
        self,
        name: str,
        *,
        role: Role,
        password: str | None = None,
        email: str | None = None,
    ) -> UserInfo:
        """Add a user (administrators only); names are unique in any letter case.

        A removed user's name stays reserved and cannot be added again. The
        optional e-mail address is where notifications to administrators go.
        """
        address = None if email is None else normalize_user_email(email)
        with self._database.session() as session:
            self._require_admin(session)
            clean = normalize_user_name(name)
            _refuse_taken(find_user(session, clean))
            password_hash = (
                None if password is None else passwords.hash_password(password)
            )
            user = User(
                name=clean,
                name_key=user_key(clean),
                role=Role(role).value,
                password_hash=password_hash,
                email=address,
                created_at=utc_now(),
                created_by=self.actor.name,
            )
            session.add(user)
            details: dict[str, object] = {
                "role": user.role,
                "has_password": password is not None,
            }
            if address is not None:
                details["has_email"] = True
            _record(session, self.actor, "user.add", clean, details)
            return _info(user)

    def list_all(self) -> list[UserInfo]:
        """Every user, removed ones included, by name (administrators only)."""
        with self._database.session() as session:
            self._require_admin(session)
            users = session.scalars(select(User).order_by(User.name_key))
            return [_info(user) for user in users]

    def get(self, name: str) -> UserInfo:
        """One user, removed or not: administrators see anyone, others themselves."""
        with self._database.session() as session:
            return _info(self._owner(session, name))

    def set_role(self, name: str, role: Role) -> UserInfo:
        """Change a user's role; the last active administrator keeps theirs."""
        return self.update(name, role=role)

    def set_email(self, name: str, email: str | None) -> UserInfo:
        """Set (or, with None, clear) a user's e-mail address; no-op if unchanged.

        The audit event says whether an address is set, never the address.
        """
        return self.update(name, email=email)

    def update(
        self,
        name: str,
        *,
        role: Role | None = None,
        email: str | Literal[_Keep.KEEP] | None = KEEP,
    ) -> UserInfo:
        """Change a user's role and/or e-mail address in one transaction.

        ``role`` None and ``email`` :data:`KEEP` leave them as they are; ``email``
        None clears the address. Each change writes its own audit event; a value
        that is already the user's writes nothing.
        """
        address = (
            email if email is KEEP or email is None else normalize_user_email(email)
        )
        with self._database.session() as session:
            self._require_admin(session)
            user = _active_user(session, name)
            if role is not None:
                self._change_role(session, user, Role(role))
            if address is not KEEP:
                self._change_email(session, user, address)
            return _info(user)

    def set_password(self, name: str, password: str) -> UserInfo:
        """Set a user's sign-in password: your own, or anyone's for administrators.

        The audit event says that it changed, never the password.
        """
        passwords.check_password(password)
        with self._database.session() as session:
            user = self._owner(session, name)
            if user.removed_at is not None:
                raise ConflictError(_removed(user))
            had = user.password_hash is not None
            user.password_hash = passwords.hash_password(password)
            _record(session, self.actor, "user.set_password", user.name,
                    {"had_password": had})  # fmt: skip
            return _info(user)

    def _change_role(self, session: Session, user: User, new: Role) -> None:
        old = Role(user.role)
        if new is old:
            return
        if old is Role.ADMIN and _is_last_admin(session, user):
            msg = (
                f"{user.name} is the last active administrator and must stay one;"
                f" make another user an administrator first."
            )
            raise ConflictError(msg, code=LAST_ADMIN, details={"name": user.name})
        user.role = new.value
        details = {"from": old.value, "to": new.value}
        _record(session, self.actor, "user.set_role", user.name, details)

    def _change_email(self, session: Session, user: User, address: str | None) -> None:
        if user.email == address:
            return
        details = {"had_email": user.email is not None, "has_email": bool(address)}
        user.email = address
        _record(session, self.actor, "user.set_email", user.name, details)

    def remove(self, name: str) -> UserInfo:
        """Mark a user removed and revoke their tokens.

        Nobody may remove themselves, and the last active administrator stays.
        """
        with self._database.session() as session:
            self._require_admin(session)
            user = _active_user(session, name)
            if user.name_key == user_key(self.actor.name):
                msg = (
                    f"You cannot remove yourself ({user.name});"
                    " another administrator must do it."
                )
                raise ConflictError(msg, code=REMOVE_SELF, details={"name": user.name})
            if user.role == Role.ADMIN and _is_last_admin(session, user):
                msg = (
                    f"{user.name} is the last active administrator and cannot be"
                    " removed; make another user an administrator first."
                )
                raise ConflictError(msg, code=LAST_ADMIN, details={"name": user.name})
            now = utc_now()
            user.removed_at = now
            revoked = tokens.revoke_all(user, now)
            details = {"role": user.role, "tokens_revoked": revoked}
            _record(session, self.actor, "user.remove", user.name, details)
            return _info(user)

    def create_token(
        self, name: str, *, label: str | None = None
    ) -> tuple[str, TokenInfo]:
        """A new API token for ``name`` and its info; the token is never stored.

        Administrators may create tokens for anyone, other users for themselves.
        Without a label the token is called ``token-N``.
        """
        with self._database.session() as session:
            user = self._owner(session, name)
            if user.removed_at is not None:
                raise ConflictError(_removed(user))
            chosen = (
                tokens.free_label(user)
                if label is None
                else tokens.checked_label(user, label)
            )
            token = tokens.new_token()
            row = ApiToken(
                label=chosen,
                digest=tokens.digest(token),
                last4=tokens.last4(token),
                created_at=utc_now(),
            )
            user.tokens.append(row)
            _record(session, self.actor, "token.create", user.name, {"label": chosen})
            return token, tokens.token_info(row, user)

    def list_tokens(self, name: str) -> list[TokenInfo]:
        """The user's tokens, revoked ones included, oldest first."""
        with self._database.session() as session:
            user = self._owner(session, name)
            return [tokens.token_info(row, user) for row in tokens.tokens_of(user)]

    def revoke_token(self, name: str, which: str) -> TokenInfo:
        """Revoke the active token with this label, or these last 4 characters."""
        with self._database.session() as session:
            user = self._owner(session, name)
            row = tokens.pick_token(user, which)
            row.revoked_at = utc_now()
            _record(
                session, self.actor, "token.revoke", user.name, {"label": row.label}
            )
            return tokens.token_info(row, user)

    def read_audit(
        self, *, limit: int = DEFAULT_LIMIT, offset: int = 0
    ) -> list[AuditEntry]:
        """The latest audit events, newest first (administrators only)."""
        with self._database.session() as session:
            check(self.actor, Action.READ_AUDIT, admins=admin_names(session))
            return list_events(session, limit=limit, offset=offset)

    def read_audit_page(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
        where: AuditFilter = EVERY_EVENT,
    ) -> AuditPage:
        """One page of the events ``where`` keeps, newest first, with their total.

        Administrators only.
        """
        with self._database.session() as session:
            check(self.actor, Action.READ_AUDIT, admins=admin_names(session))
            return read_page(session, limit=limit, offset=offset, where=where)

    def authenticate_password(self, name: str, password: str) -> Actor:
        """See :func:`authenticate_password`."""
        return authenticate_password(self._database, name, password)

    def authenticate_token(self, token: str) -> Actor:
        """See :func:`authenticate_token`."""
        return authenticate_token(self._database, token)

    def _require_admin(self, session: Session) -> None:
        check(self.actor, Action.MANAGE_USERS, admins=admin_names(session))

    def _owner(self, session: Session, name: str) -> User:
        """The user at stake, or whose tokens are: yourself, or anyone for admins."""
        if user_key(name) != user_key(self.actor.name):
            self._require_admin(session)
        user = find_user(session, name)
        if user is None:
            raise unknown_user_error(session, name)
        return user


# --- helpers -------------------------------------------------------------------


def _record(
    session: Session,
    actor: Actor | str,
    action: str,
    target: str,
    details: Mapping[str, Any],
    *,
    target_type: str = "user",
) -> None:
    """One audit event (and a log line) for one change; names and roles only."""
    record_event(
        session, actor, action, target_type=target_type, target=target, details=details
    )
    who = actor if isinstance(actor, str) else actor.name
    logger.info("%s %s %s by %s", action, target_type, target, who)


def _info(user: User) -> UserInfo:
    return UserInfo(
        name=user.name,
        role=Role(user.role),
        created_at=user.created_at,
        created_by=user.created_by,
        removed_at=user.removed_at,
        has_password=user.password_hash is not None,
        email=user.email,
    )


def normalize_user_email(raw: str) -> str:
    """A user's address trimmed and lowercased, or ConfigError if it is not one."""
    address = raw.strip().lower()
    if not is_valid_email(address):
        msg = (
            "That is not a valid e-mail address for a user: use the form"
            " name@example.com."
        )
        raise ConfigError(msg, code="user_email_invalid", field="email")
    return address


def _removed(user: User) -> str:
    when = "an earlier day" if user.removed_at is None else day(user.removed_at)
    return f"User {user.name!r} was removed on {when} and cannot be changed."


def _refuse_taken(existing: User | None) -> None:
    if existing is None:
        return
    if existing.removed_at is not None:
        msg = (
            f"The name {existing.name!r} belonged to a user removed on"
            f" {day(existing.removed_at)}; names of removed users stay reserved so"
            " the audit log keeps pointing at one person. Choose another name."
        )
        details = {"kind": "removed_user", "name": existing.name}
    else:
        msg = (
            f"User {existing.name!r} already exists ({Role(existing.role).title});"
            " an administrator can change their role."
        )
        details = {"kind": "user", "name": existing.name}
    raise ConflictError(msg, code="name_taken", field="name", details=details)


def _active_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise unknown_user_error(session, name)
    if user.removed_at is not None:
        raise ConflictError(_removed(user))
    return user


def _is_last_admin(session: Session, user: User) -> bool:
    """Whether ``user`` is the only active admin (admin rows locked on PostgreSQL)."""
    others = session.scalars(
        select(User.id)
        .where(
            User.role == Role.ADMIN.value,
            User.removed_at.is_(None),
            User.id != user.id,
        )
        .with_for_update()
    ).all()
    return not others
