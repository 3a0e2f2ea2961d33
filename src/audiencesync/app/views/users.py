"""Users and API tokens as ``users ... --json`` and ``/api/v1/users`` show them.

A token's view holds its label and last 4 characters, never the token: the
token itself is in :class:`CreatedTokenView` only, the one answer that creates
it (audiencesync keeps only its digest).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Self

from pydantic import Field

from audiencesync.app.views import Page, View
from audiencesync.auth.roles import Role

if TYPE_CHECKING:
    from audiencesync.auth.tokens import TokenInfo
    from audiencesync.auth.users import UserInfo

SHOWN_ONCE = (
    "Copy this token now: it is not shown again (audiencesync keeps only its digest)."
)


class UserView(View):
    """A user: name, role, whether active; never a password or its hash."""

    name: str
    role: Role
    active: bool = Field(description="False once the user was removed.")
    has_password: bool
    email: str | None
    created_at: datetime
    created_by: str | None
    removed_at: datetime | None

    @classmethod
    def of(cls, info: UserInfo) -> Self:
        """The view of a user record."""
        return cls(
            name=info.name,
            role=info.role,
            active=info.is_active,
            has_password=info.has_password,
            email=info.email,
            created_at=info.created_at,
            created_by=info.created_by,
            removed_at=info.removed_at,
        )


class TokenView(View):
    """An API token by label and last 4 characters (never the token itself)."""

    user: str
    label: str
    last4: str = Field(description="The token's last 4 characters.")
    active: bool = Field(description="False once revoked.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, info: TokenInfo) -> Self:
        """The view of a token record."""
        return cls(
            user=info.user,
            label=info.label,
            last4=info.last4,
            active=info.is_active,
            created_at=info.created_at,
            last_used_at=info.last_used_at,
            revoked_at=info.revoked_at,
        )


class CreatedTokenView(TokenView):
    """A token just created: the only answer that holds the token itself."""

    token: str = Field(description="The bearer token; it is never shown again.")
    warning: str = SHOWN_ONCE

    @classmethod
    def created(cls, token: str, info: TokenInfo) -> Self:
        """The view of a new token and its record."""
        return cls(token=token, **TokenView.of(info).model_dump())


def users_page(infos: Sequence[UserInfo], *, limit: int, offset: int) -> Page[UserView]:
    """The page of users from ``offset`` (the service reads the list whole)."""
    shown = infos[offset : offset + limit]
    return Page[UserView](
        items=[UserView.of(info) for info in shown],
        total=len(infos),
        limit=limit,
        offset=offset,
    )


def tokens_page(
    infos: Sequence[TokenInfo], *, limit: int, offset: int
) -> Page[TokenView]:
    """The page of a user's tokens from ``offset``, oldest first."""
    shown = infos[offset : offset + limit]
    return Page[TokenView](
        items=[TokenView.of(info) for info in shown],
        total=len(infos),
        limit=limit,
        offset=offset,
    )
