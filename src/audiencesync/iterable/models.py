"""Value objects of the Iterable client: who is sent, and what Iterable answered.

Everything here is frozen and slotted. Objects that hold emails, userIds or
profile fields mask them in their repr, so a stray log line cannot leak them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class IdentifierKind(StrEnum):
    """Which identifier of a user Iterable refers to."""

    EMAIL = "email"
    USER_ID = "userId"


class RejectBucket(StrEnum):
    """Why a user was not accepted (Iterable's ``failedUpdates`` buckets, plus ours)."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORGOTTEN = "forgotten"
    CONFLICT = "conflict"
    INVALID_DATA = "invalid_data"
    TOO_LARGE = "too_large"


class ListType(StrEnum):
    """Kinds of Iterable list; only ``Standard`` (static) lists can be written."""

    STANDARD = "Standard"
    DYNAMIC = "Dynamic"
    SUPPRESSION = "Suppression"
    INTERNAL = "Internal"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One user to add to a list or to update: an email, a userId, or both."""

    email: str | None = None
    user_id: str | None = None
    data_fields: Mapping[str, object] | None = None
    prefer_user_id: bool = False

    def __post_init__(self) -> None:
        if not self.email and not self.user_id:
            msg = "a subscriber needs an email or a userId"
            raise ValueError(msg)

    @property
    def identifier(self) -> str:
        """The identifier results report for this user, as the caller sent it."""
        if self.kind is IdentifierKind.USER_ID:
            return self.user_id or ""
        return self.email or ""

    @property
    def kind(self) -> IdentifierKind:
        """Email unless there is none or ``prefer_user_id`` asks for the userId."""
        if self.user_id and (self.prefer_user_id or not self.email):
            return IdentifierKind.USER_ID
        return IdentifierKind.EMAIL

    def __repr__(self) -> str:
        fields = len(self.data_fields) if self.data_fields else 0
        return (
            f"Subscriber(email={_mask(self.email)}, user_id={_mask(self.user_id)}, "
            f"data_fields=<{fields} fields>, prefer_user_id={self.prefer_user_id})"
        )


def _mask(value: str | None) -> str:
    return "None" if value is None else "***"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A user Iterable did not accept, and the bucket that says why."""

    identifier: str = field(repr=False)
    kind: IdentifierKind
    bucket: RejectBucket
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BulkResult:
    """Iterable's per-identifier answer to a subscribe, unsubscribe or bulkUpdate."""

    accepted: tuple[str, ...] = field(default=(), repr=False)
    rejected: tuple[Rejection, ...] = field(default=(), repr=False)
    success_count: int = 0
    fail_count: int = 0
    created_fields: tuple[str, ...] = ()
    filtered_out_fields: tuple[str, ...] = ()

    def merge(self, other: BulkResult) -> BulkResult:
        """The result of both requests, as if they had been one."""
        return BulkResult(
            accepted=self.accepted + other.accepted,
            rejected=self.rejected + other.rejected,
            success_count=self.success_count + other.success_count,
            fail_count=self.fail_count + other.fail_count,
            created_fields=_union(self.created_fields, other.created_fields),
            filtered_out_fields=_union(
                self.filtered_out_fields, other.filtered_out_fields
            ),
        )


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(first + second))


@dataclass(frozen=True, slots=True)
class IterableList:
    """One list of the project, as ``GET /api/lists`` describes it."""

    id: int
    name: str
    list_type: ListType = ListType.STANDARD
    created_at_ms: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class UserProfile:
    """One user's profile as ``GET /api/users/...`` returns it (masked repr)."""

    email: str | None = field(repr=False)
    user_id: str | None = field(repr=False)
    data_fields: Mapping[str, object] = field(repr=False)
