"""Password hashing with Argon2id (argon2-cffi's recommended parameters).

Only the hash is ever stored; the password itself never reaches the database,
a message or a log line. :func:`verify_password` answers yes or no whatever the
stored value looks like, and :func:`needs_rehash` tells the caller when a hash
made with older parameters should be replaced after a successful login.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from audiencesync.errors import ConfigError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing megabytes on every login would be a denial of service

_HASHER = PasswordHasher()


def check_password(password: str) -> None:
    """Raise ConfigError (never showing the password) unless it is long enough."""
    if len(password) < MIN_LENGTH:
        msg = (
            f"The password is too short: use at least {MIN_LENGTH} characters"
            " (a few random words make a good one)."
        )
        raise ConfigError(
            msg, code="password_invalid", field="password",
            details={"min": MIN_LENGTH},
        )  # fmt: skip
    if len(password) > MAX_LENGTH:
        msg = f"The password is too long: use at most {MAX_LENGTH} characters."
        raise ConfigError(
            msg, code="password_invalid", field="password",
            details={"max": MAX_LENGTH},
        )  # fmt: skip


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``, after :func:`check_password`."""
    check_password(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a malformed hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)


def rehash(password: str) -> str:
    """A new hash of a password that just verified (no length rule: it is in use)."""
    return _HASHER.hash(password)


def verify_against_nothing(password: str) -> bool:
    """Spend a real verification's time, then say no (for unknown user names).

    Answering at once for a name that does not exist would tell an attacker
    which names do.
    """
    verify_password(_unmatchable_hash(), password)
    return False


@functools.cache
def _unmatchable_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(32))
