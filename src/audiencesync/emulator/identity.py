"""Finding (or creating) the user a request names, by the project type's rules.

=============  ==========================  =====================================
project type   identifies by               unknown user
=============  ==========================  =====================================
email          email (userId only with     email: created. userId alone: created
               ``preferUserId``)           with a placeholder email when
                                           ``preferUserId``, else not found
userId         userId                      created, unless
                                           ``updateExistingUsersOnly``; email
                                           alone: not found
hybrid         email or userId             created, unless
                                           ``updateExistingUsersOnly``; email and
                                           userId of two users: conflict
=============  ==========================  =====================================
"""

from __future__ import annotations

from typing import NamedTuple

from audiencesync.emulator.config import ProjectType
from audiencesync.emulator.emails import (
    is_valid_email,
    is_valid_user_id,
    placeholder_email,
)
from audiencesync.emulator.store import Project, User


class Rejection(NamedTuple):
    """Why a user was refused: a ``failedUpdates`` bucket and identifiers to list."""

    bucket: str
    email: str | None
    user_id: str | None


class Lookup(NamedTuple):
    """How to look a user up."""

    create: bool = True
    prefer_user_id: bool = False
    existing_only: bool = False


FIND_ONLY = Lookup(create=False)


def primary(project: Project, email: str | None, user_id: str | None) -> Rejection:
    """A rejection naming the identifier the project would identify by."""
    if user_id is not None and (email is None or project.type is ProjectType.USER_ID):
        return Rejection("", None, user_id)
    return Rejection("", email, None)


def _reject(
    bucket: str, project: Project, email: str | None, user_id: str | None
) -> Rejection:
    return primary(project, email, user_id)._replace(bucket=bucket)


def clean(raw_email: object, raw_user_id: object) -> Rejection:
    """Normalize identifiers; bucket "invalid" when malformed, else "" (usable)."""
    email = _text(raw_email)
    user_id = _text(raw_user_id, lower=False)
    bad_email = email is not None and not (
        isinstance(raw_email, str) and is_valid_email(email)
    )
    bad_user_id = user_id is not None and not (
        isinstance(raw_user_id, str) and is_valid_user_id(user_id)
    )
    if bad_email or bad_user_id:
        return Rejection(
            "invalid", email if bad_email else None, user_id if bad_user_id else None
        )
    if email is None and user_id is None:
        return Rejection("invalid", "", None)
    return Rejection("", email, user_id)


def _text(value: object, *, lower: bool = True) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.lower() if lower else text


def resolve(
    project: Project,
    email: str | None,
    user_id: str | None,
    *,
    lookup: Lookup,
    now: float,
) -> User | Rejection:
    """The user named by clean identifiers, created when the rules allow."""
    forgotten = project.forgotten
    if forgotten.has(email, user_id):
        return Rejection(
            "forgotten",
            email if email in forgotten.emails else None,
            user_id if user_id in forgotten.user_ids else None,
        )
    if project.type is ProjectType.EMAIL:
        return _resolve_email(project, email, user_id, lookup, now)
    if project.type is ProjectType.USER_ID:
        return _resolve_user_id(project, email, user_id, lookup, now)
    return _resolve_hybrid(project, email, user_id, lookup, now)


def _resolve_email(
    project: Project, email: str | None, user_id: str | None, lookup: Lookup, now: float
) -> User | Rejection:
    if email is None:
        user = project.by_user_id.get(user_id) if user_id is not None else None
        if user is None and user_id and lookup.create and lookup.prefer_user_id:
            user = project.add_user(placeholder_email(user_id), user_id, now)
        return user or _reject("notFound", project, email, user_id)
    user = project.by_email.get(email)
    if user is None and not lookup.create:
        return _reject("notFound", project, email, user_id)
    if user is None:
        return project.add_user(email, user_id, now)
    if lookup.create and user_id is not None and user.user_id != user_id:
        project.set_user_id(user, user_id)
    return user


def _resolve_user_id(
    project: Project, email: str | None, user_id: str | None, lookup: Lookup, now: float
) -> User | Rejection:
    if user_id is None:
        return _reject("notFound", project, email, user_id)
    user = project.by_user_id.get(user_id)
    if user is None and (not lookup.create or lookup.existing_only):
        return _reject("notFound", project, email, user_id)
    if user is None:
        return project.add_user(email, user_id, now)
    if lookup.create and email is not None and user.email != email:
        project.set_email(user, email)
    return user


def _resolve_hybrid(
    project: Project, email: str | None, user_id: str | None, lookup: Lookup, now: float
) -> User | Rejection:
    by_email = project.by_email.get(email) if email is not None else None
    by_user_id = project.by_user_id.get(user_id) if user_id is not None else None
    if by_email is not None and by_user_id is not None and by_email is not by_user_id:
        return Rejection("conflict", email, user_id)
    user = by_email or by_user_id
    if user is None and (not lookup.create or lookup.existing_only):
        return _reject("notFound", project, email, user_id)
    if user is None:
        return project.add_user(email, user_id, now)
    if lookup.create and email is not None and user.email != email:
        project.set_email(user, email)
    if lookup.create and user_id is not None and user.user_id != user_id:
        project.set_user_id(user, user_id)
    return user
