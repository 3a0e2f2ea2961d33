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

# One address: dot-separated atoms, "@", hyphenated labels each followed by a
# dot, then a letters-only TLD. Possessive quantifiers: each piece has a single
# way to match, so a failing address is refused without backtracking.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]++"
_LABEL = r"[a-z0-9]++(?:-++[a-z0-9]++)*+"
_ADDRESS = rf"{_ATOM}(?:\.{_ATOM})*+@(?:{_LABEL}\.)++[a-z]{{2,63}}"
_EMAIL = re.compile(_ADDRESS)
# The same, over newline-separated addresses: a whole batch is checked by one
# call into the regex engine instead of one Python call per address.
_EMAIL_LINES = re.compile(rf"(?:{_ADDRESS}\n)*+{_ADDRESS}")


def is_valid_email(email: str) -> bool:
    """True when a lowercased ``email`` is a deliverable-looking address."""
    return (
        len(email) <= MAX_EMAIL_LENGTH
        and _EMAIL.fullmatch(email) is not None
        and email.index("@") <= MAX_LOCAL_LENGTH
    )


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
