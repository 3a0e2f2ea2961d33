"""The bulk operations: lists/subscribe, lists/unsubscribe and users/bulkUpdate.

Each returns an :class:`Outcome` (the 200 ``UserBulkUpdateListResponse``) or, when
any row's ``dataFields`` conflict with the locked field types, the failing
:class:`~audiencesync.emulator.fields.FieldPlan` (a 400 for the whole call, with
nothing applied).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audiencesync.emulator.config import ProjectType
from audiencesync.emulator.emails import is_valid_email
from audiencesync.emulator.fields import FieldPlan, is_oversized
from audiencesync.emulator.identity import (
    FIND_ONLY,
    Lookup,
    Rejection,
    clean,
    primary,
    resolve,
)
from audiencesync.emulator.store import IterableList, Project, User

BUCKETS = ("invalid", "notFound", "forgotten", "conflict", "invalidData")


class Outcome:
    """Counts and per-identifier failures of one bulk call."""

    __slots__ = ("created", "fail_count", "failed", "filtered", "success_count")

    def __init__(self) -> None:
        self.success_count = 0
        self.fail_count = 0
        self.failed: dict[str, list[str]] = {}
        for bucket in BUCKETS:
            self.failed[bucket + "Emails"] = []
            self.failed[bucket + "UserIds"] = []
        self.created: list[str] = []
        self.filtered: list[str] = []

    def reject(self, rejection: Rejection) -> None:
        """Count one refused row under its bucket."""
        self.fail_count += 1
        if rejection.email is not None:
            self.failed[rejection.bucket + "Emails"].append(rejection.email)
        if rejection.user_id is not None:
            self.failed[rejection.bucket + "UserIds"].append(rejection.user_id)

    def body(self) -> dict[str, object]:
        """The JSON answer."""
        return {
            "successCount": self.success_count,
            "failCount": self.fail_count,
            "invalidEmails": self.failed["invalidEmails"],
            "invalidUserIds": self.failed["invalidUserIds"],
            "failedUpdates": self.failed,
            "createdFields": self.created,
            "filteredOutFields": self.filtered,
        }


def plan_fields(
    project: Project, rows: Sequence[Mapping[str, Any]], *, create_new: bool = True
) -> FieldPlan | None:
    """Type-check every row's ``dataFields`` at once (None when no row has any)."""
    data = [
        (str(index), fields)
        for index, row in enumerate(rows)
        if isinstance(fields := row.get("dataFields"), dict) and fields
    ]
    if not data:
        return None
    return project.schema.plan(data, create_new=create_new)


def _start(project: Project, plan: FieldPlan | None) -> Outcome:
    outcome = Outcome()
    if plan is not None:
        outcome.created = project.schema.lock(plan)
        outcome.filtered = sorted(plan.filtered)
    return outcome


def _bad_data(row: Mapping[str, Any]) -> bool:
    data = row.get("dataFields")
    if data is None:
        return False
    return not isinstance(data, dict) or any(map(is_oversized, data.values()))


def write_row(
    project: Project, row: Mapping[str, Any], lookup: Lookup, now: float
) -> User | Rejection:
    """Resolve one row to a user and write its fields; or say why not."""
    cleaned = clean(row.get("email"), row.get("userId"))
    if cleaned.bucket:
        return cleaned
    if _bad_data(row):
        return primary(project, cleaned.email, cleaned.user_id)._replace(
            bucket="invalidData"
        )
    user = resolve(project, cleaned.email, cleaned.user_id, lookup=lookup, now=now)
    data = row.get("dataFields")
    if isinstance(user, User) and data:
        merge = bool(row.get("mergeNestedObjects"))
        project.schema.apply(user.fields, data, merge_nested=merge)
        user.updated = now
    return user


def subscribe(
    project: Project,
    lst: IterableList,
    subscribers: Sequence[Mapping[str, Any]],
    *,
    existing_only: bool,
    now: float,
) -> Outcome | FieldPlan:
    """Add ``subscribers`` to ``lst``, creating and updating users on the way."""
    plan = plan_fields(project, subscribers)
    if plan is not None and plan.errors:
        return plan
    outcome = _start(project, plan)
    if _only_emails(project, subscribers):
        _subscribe_emails(project, lst, subscribers, outcome, now)
        return outcome
    lookup = Lookup(
        existing_only=existing_only and project.type is not ProjectType.EMAIL
    )
    prefer = lookup._replace(prefer_user_id=True)
    members = lst.members
    for row in subscribers:
        user = write_row(
            project, row, prefer if row.get("preferUserId") else lookup, now
        )
        if isinstance(user, User):
            members[user] = None
            outcome.success_count += 1
        else:
            outcome.reject(user)
    return outcome


def _only_emails(project: Project, rows: Sequence[Mapping[str, Any]]) -> bool:
    """True for the hot path: an email project, rows of a single string email."""
    return (
        project.type is ProjectType.EMAIL
        and not project.forgotten.emails
        and all(len(row) == 1 and row.get("email").__class__ is str for row in rows)
    )


def _subscribe_emails(
    project: Project,
    lst: IterableList,
    rows: Sequence[Mapping[str, Any]],
    outcome: Outcome,
    now: float,
) -> None:
    """Subscribe rows that are just ``{"email": str}``, with minimal work per row."""
    by_email, members = project.by_email, lst.members
    invalid: list[str] = []
    for row in rows:
        email = row["email"].lower()
        user = by_email.get(email)
        if user is None:
            if not is_valid_email(email):
                invalid.append(email)
                continue
            user = by_email[email] = User(email, None, now)
        members[user] = None
    outcome.success_count = len(rows) - len(invalid)
    outcome.fail_count = len(invalid)
    outcome.failed["invalidEmails"] = invalid


def unsubscribe(
    project: Project,
    lst: IterableList,
    subscribers: Sequence[Mapping[str, Any]],
    *,
    now: float,
) -> Outcome:
    """Remove ``subscribers`` from ``lst``; unknown users and non-members: not found."""
    outcome = Outcome()
    members = lst.members
    for row in subscribers:
        cleaned = clean(row.get("email"), row.get("userId"))
        if cleaned.bucket:
            outcome.reject(cleaned)
            continue
        user = resolve(
            project, cleaned.email, cleaned.user_id, lookup=FIND_ONLY, now=now
        )
        if isinstance(user, Rejection):
            outcome.reject(user)
        elif members.pop(user, 0) is None:
            outcome.success_count += 1
        else:
            outcome.reject(
                primary(project, cleaned.email, cleaned.user_id)._replace(
                    bucket="notFound"
                )
            )
    return outcome


def bulk_update(
    project: Project,
    users: Sequence[Mapping[str, Any]],
    *,
    create_new: bool,
    now: float,
) -> Outcome | FieldPlan:
    """Create or update ``users`` and their fields."""
    plan = plan_fields(project, users, create_new=create_new)
    if plan is not None and plan.errors:
        return plan
    outcome = _start(project, plan)
    for row in users:
        lookup = Lookup(prefer_user_id=bool(row.get("preferUserId")))
        user = write_row(project, row, lookup, now)
        if isinstance(user, User):
            outcome.success_count += 1
        else:
            outcome.reject(user)
    return outcome
