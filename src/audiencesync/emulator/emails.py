"""Identifier rules: which emails and userIds Iterable accepts.

Emails are compared and stored lowercased, and are not trimmed: surrounding
spaces make an address invalid, like any other space. The address grammar
itself lives in :mod:`audiencesync.core.emails`, shared with the sync plan.
"""

from __future__ import annotations

import hashlib
import re

from audiencesync.core.emails import (
    EMAIL_PATTERN,
    MAX_EMAIL_LENGTH,
    MAX_LOCAL_LENGTH,
    is_valid_email,
)

MAX_USER_ID_LENGTH = 52
PLACEHOLDER_DOMAIN = "placeholder.email"

# The same grammar as audiencesync.core.emails, over newline-separated addresses: a
# whole batch is checked by one call into the regex engine instead of one Python
# call per address.
_EMAIL_LINES = re.compile(rf"(?:{EMAIL_PATTERN}\n)*+{EMAIL_PATTERN}")


def all_valid_emails(emails: list[str], joined: str) -> bool:
    """True when every lowercased address of ``emails`` is valid.

    ``joined`` is ``"\\n".join(emails)``, and no address may contain a newline.
    Addresses of at most 64 characters cannot break either length limit, so
    then one regex call decides; otherwise each address is checked alone.
    """
    if not emails:
        return True
    if max(map(len, emails)) <= MAX_LOCAL_LENGTH:
        return _EMAIL_LINES.fullmatch(joined) is not None
    return all(map(is_valid_email, emails))


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


__all__ = [
    "MAX_EMAIL_LENGTH",
    "MAX_LOCAL_LENGTH",
    "MAX_USER_ID_LENGTH",
    "PLACEHOLDER_DOMAIN",
    "all_valid_emails",
    "is_valid_email",
    "is_valid_user_id",
    "placeholder_email",
]
