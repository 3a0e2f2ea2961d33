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
    members = lst.members
    by_email = project.by_email
    fast = project.type is ProjectType.EMAIL and not project.forgotten.emails
    success = 0
    for row in subscribers:
        email = row.get("email")
        if fast and email.__class__ is str and len(row) == 1:
            user = by_email.get(email.lower()) or _new_by_email(project, email, now)
        else:
            lookup = Lookup(
                prefer_user_id=bool(row.get("preferUserId")),
                existing_only=existing_only and project.type is not ProjectType.EMAIL,
            )
            user = write_row(project, row, lookup, now)
        if isinstance(user, User):
            members[user] = None
            success += 1
        else:
            outcome.reject(user)
    outcome.success_count = success
    return outcome


def _new_by_email(project: Project, email: str, now: float) -> User | Rejection:
    lowered = email.lower()
    if not is_valid_email(lowered):
        return Rejection("invalid", lowered, None)
    return project.add_user(lowered, None, now)


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
