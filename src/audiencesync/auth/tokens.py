"""API tokens for the REST API: made once, shown once, stored as a digest.

A token is ``as_`` followed by 32 random bytes (url-safe base64). The database
keeps only its SHA-256 digest and its last 4 characters (to tell tokens apart).

A plain, unsalted SHA-256 is the right digest here, unlike for passwords: a token
carries 256 bits of randomness, so no dictionary or brute-force search over
possible tokens can succeed, and a salt or a slow hash would add nothing but
cost. An unsalted digest also lets a request's token be found with one indexed
lookup instead of trying every stored hash.

The helpers at the end work on a user's token rows: labels, picking the token to
revoke, revoking all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from audiencesync.errors import ConfigError, ConflictError, NotFoundError
from audiencesync.store.accounts import ApiToken, User

PREFIX = "as_"
ENTROPY_BYTES = 32
SHOWN_CHARACTERS = 4
LABEL_MAX = 64


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as its owner sees it after creation: label and last 4 only."""

    user: str
    label: str
    last4: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def is_active(self) -> bool:
        """Whether the token still authenticates (its user may still be removed)."""
        return self.revoked_at is None


def new_token() -> str:
    """A fresh random token: ``as_`` and 43 url-safe characters.

    Its last four characters (how people name a token, e.g. ``users revoke-token
    ana xY3k``) never start with ``-``, which a command line would read as a flag.
    """
    while True:
        token = PREFIX + secrets.token_urlsafe(ENTROPY_BYTES)
        if not token[-4:].startswith("-"):
            return token


def digest(token: str) -> str:
    """The SHA-256 hex digest the database stores instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def last4(token: str) -> str:
    """The token's last characters: enough to tell tokens apart, never to guess."""
    return token[-SHOWN_CHARACTERS:]


def matches(token: str, stored_digest: str) -> bool:
    """Whether ``token`` has ``stored_digest``, compared in constant time."""
    return hmac.compare_digest(digest(token), stored_digest)


def looks_like_token(text: str) -> bool:
    """Whether ``text`` could be a whole token (so it must never be echoed)."""
    return text.startswith(PREFIX) and len(text) > len(PREFIX) + SHOWN_CHARACTERS * 4


# --- a user's token rows --------------------------------------------------------


def token_info(row: ApiToken, user: User) -> TokenInfo:
    """What may be shown of a stored token."""
    return TokenInfo(
        user=user.name,
        label=row.label,
        last4=row.last4,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, oldest first."""
    return sorted(user.tokens, key=lambda row: (row.created_at, row.id or 0))


def revoke_all(user: User, now: datetime) -> int:
    """Revoke every active token of ``user``; how many there were."""
    active = [row for row in user.tokens if row.revoked_at is None]
    for row in active:
        row.revoked_at = now
    return len(active)


def free_label(user: User) -> str:
    """``token-N``: the first such label ``user`` has not used yet."""
    taken = {row.label for row in user.tokens}
    number = len(taken) + 1
    while f"token-{number}" in taken:
        number += 1
    return f"token-{number}"


def checked_label(user: User, label: str) -> str:
    """``label`` trimmed, or an error if it is malformed or an active one's."""
    clean = label.strip()
    if not 1 <= len(clean) <= LABEL_MAX or not clean.isprintable():
        msg = f"A token label needs 1 to {LABEL_MAX} printable characters."
        raise ConfigError(msg, field="label")
    if looks_like_token(clean):
        msg = "A token label must not look like a token: labels are shown in lists."
        raise ConfigError(msg, field="label")
    if any(row.label == clean and row.revoked_at is None for row in user.tokens):
        msg = (
            f"{user.name} already has an active token labelled {clean!r}; choose"
            " another label, or revoke that token first."
        )
        raise ConflictError(msg, field="label")
    return clean


def pick_token(user: User, which: str) -> ApiToken:
    """The active token labelled ``which``, else the one ending in ``which``."""
    if looks_like_token(which):
        msg = "Give the token's label or its last 4 characters, never the whole token."
        raise ConfigError(msg)
    active = [row for row in tokens_of(user) if row.revoked_at is None]
    found = [row for row in active if row.label == which] or [
        row for row in active if row.last4 == which
    ]
    if len(found) == 1:
        return found[0]
    if found:
        msg = (
            f"{len(found)} active tokens of {user.name} end in {which!r};"
            " give the label instead (each token is listed with its label)."
        )
        raise ConflictError(
            msg, code="token_ambiguous", details={"user": user.name, "which": which}
        )
    listed = ", ".join(f"{row.label} (…{row.last4})" for row in active) or "none"
    msg = (
        f"{user.name} has no active token labelled or ending in {which!r}."
        f" Active tokens: {listed}."
    )
    raise NotFoundError(msg)
