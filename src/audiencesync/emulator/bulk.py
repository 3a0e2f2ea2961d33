"""The bulk operations: lists/subscribe, lists/unsubscribe and users/bulkUpdate.

Each returns an :class:`Outcome` (the 200 ``UserBulkUpdateListResponse``) or, when
any row's ``dataFields`` conflict with the locked field types, the failing
:class:`~audiencesync.emulator.fields.FieldPlan` (a 400 for the whole call, with
nothing applied).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import compress, repeat
from operator import itemgetter, not_
from typing import Any

from audiencesync.emulator.config import ProjectType
from audiencesync.emulator.emails import all_valid_emails, is_valid_email
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
_EMAIL_OF = itemgetter("email")


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
    fast = _subscribe_plain_emails(project, lst, subscribers, now)
    if fast is not None:
        return fast
    plan = plan_fields(project, subscribers)
    if plan is not None and plan.errors:
        return plan
    outcome = _start(project, plan)
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


# The fast path. A segment sync into an email project sends rows that are
# exactly {"email": str}: they carry no fields (no plan), and each row only
# needs lowercasing, validation, find-or-create by email and a membership
# insert. Doing those per batch with C-level operations (one join, lower, split
# and regex; dict updates) instead of a Python loop over write_row makes
# subscribe several times faster. It must answer exactly as the general path
# (tests/emulator/test_subscribe_fast_path.py compares both); whatever it does
# not cover (other projects or keys, non-ASCII, forgotten emails) returns None
# and goes the general way.


def _subscribe_plain_emails(
    project: Project,
    lst: IterableList,
    rows: Sequence[Mapping[str, Any]],
    now: float,
) -> Outcome | None:
    """Subscribe rows that are just ``{"email": str}``; None when not applicable."""
    lowered = _plain_emails(project, rows)
    if lowered is None:
        return None
    emails, joined = lowered
    if not project.forgotten.emails.isdisjoint(emails):
        return None
    outcome = Outcome()
    if not all_valid_emails(emails, joined):
        emails = _drop_invalid(emails, outcome)
    lst.members.update(dict.fromkeys(_find_or_create(project, emails, now)))
    outcome.success_count = len(emails)
    return outcome


def _plain_emails(
    project: Project, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[str], str] | None:
    """The rows' lowercased emails, and them joined by newlines; or None.

    None unless the project is email-based and every row is ``{"email": str}``
    with an ASCII address (so lowercasing the joined text equals lowercasing
    each address) and no newline (so splitting gives the rows back).
    """
    if project.type is not ProjectType.EMAIL or not rows:
        return None
    if sum(map(len, rows)) != len(rows):
        return None  # a row with more than the email (each has one, or KeyError)
    try:
        emails = list(map(_EMAIL_OF, rows))
        joined = "\n".join(emails)
    except (KeyError, TypeError):
        return None  # a row without an email, or with a non-string one
    if not joined.isascii() or joined.count("\n") != len(rows) - 1:
        return None
    if not joined.islower():  # if it is, the rows' own strings are kept as-is
        joined = joined.lower()
        emails = joined.split("\n")
    return emails, joined


def _drop_invalid(emails: list[str], outcome: Outcome) -> list[str]:
    """The valid ``emails``; the invalid ones fail, listed in row order."""
    valid = list(map(is_valid_email, emails))
    invalid = list(compress(emails, map(not_, valid)))
    outcome.failed["invalidEmails"] = invalid
    outcome.fail_count = len(invalid)
    return list(compress(emails, valid))


def _find_or_create(project: Project, emails: list[str], now: float) -> list[User]:
    """The users of valid ``emails`` in first-seen order, creating unknown ones.

    A new ``User`` is offered for every address and ``setdefault`` keeps the
    existing one where there is one: a single C-level probe of the (large,
    cache-cold) email index per address, where a membership test followed by
    an insert would need two or three.
    """
    unique = dict.fromkeys(emails)
    offers = map(User, unique, repeat(None), repeat(now))
    return list(map(project.by_email.setdefault, unique, offers))


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
