"""Identifier rules: which emails and userIds Iterable accepts.

Emails are compared and stored lowercased, and are not trimmed: surrounding
spaces make an address invalid, like any other space.
"""

from __future__ import annotations

import hashlib
import re

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64
MAX_USER_ID_LENGTH = 52
PLACEHOLDER_DOMAIN = "placeholder.email"

_EMAIL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9.-]+\.[a-z]{2,63}")


def is_valid_email(email: str) -> bool:
    """True when a lowercased ``email`` is a deliverable-looking address."""
    return (
        len(email) <= MAX_EMAIL_LENGTH
        and _EMAIL.fullmatch(email) is not None
        and ".." not in email
        and ".@" not in email
        and "@." not in email
        and "@-" not in email
        and "-." not in email
        and email[0] != "."
        and email.index("@") <= MAX_LOCAL_LENGTH
    )


def is_valid_user_id(user_id: str) -> bool:
    """True for a non-empty, ≤52-char, printable-ASCII userId without trailing space."""
    return (
        0 < len(user_id) <= MAX_USER_ID_LENGTH
        and user_id.isascii()
        and user_id.isprintable()
        and not user_id.endswith(" ")
    )


def placeholder_email(user_id: str) -> str:
    """The generated address of a user created from a userId alone (stable per id)."""
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:20]
    return f"{digest}@{PLACEHOLDER_DOMAIN}"
