"""Identifier rules: which emails and userIds the emulated Iterable accepts.

The emulator keeps its own reading of Iterable's rules, written from
``iterable-api.md`` (section 3) and ``docs/emulator.md``, and deliberately shares
no code with the product's address check (:mod:`audiencesync.core.emails`): the
contract tests send addresses through the client to the emulator, and they only
prove something if the two sides could disagree.

What Iterable documents: an ``email`` is format-validated (``user @example.com``
is refused), emails are stored lowercased, and a malformed address is listed in
``invalidEmails`` (e.g. ``bad@@example``) or, in a path, answered with 400
``InvalidEmailAddressError`` (e.g. ``000``). Where it says no more, the emulator
models an address as an RFC 5321 dot-atom: a local part of at most 64 characters
made of atoms joined by single dots, one ``@``, one or more domain labels
(letters and digits, dashes only inside) each followed by a dot, and a top-level
domain of 2 to 63 letters; at most 254 characters in all. Emails are compared
lowercased and never trimmed: a surrounding space makes an address invalid.
"""

from __future__ import annotations

import hashlib
import re

MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
MAX_USER_ID_LENGTH = 52
PLACEHOLDER_DOMAIN = "placeholder.email"

# Possessive quantifiers: each piece can match in one way only (an atom stops at
# "." and "@", a label at "-" and "."), so a bad address fails without backtracking.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]++"
_LOCAL_PART = rf"{_ATOM}(?:\.{_ATOM})*+"
_LABEL = r"[a-z0-9]++(?:-++[a-z0-9]++)*+"
_DOMAIN = rf"(?:{_LABEL}\.)++[a-z]{{2,63}}"
_ADDRESS = rf"{_LOCAL_PART}@{_DOMAIN}"
_ONE = re.compile(_ADDRESS)
# The same grammar over newline-separated addresses: a whole batch is checked by
# one call into the regex engine instead of one Python call per address.
_LINES = re.compile(rf"(?:{_ADDRESS}\n)*+{_ADDRESS}")


def is_valid_email(email: str) -> bool:
    """True when the lowercased ``email`` is an address Iterable would accept."""
    if len(email) > MAX_ADDRESS_LENGTH or _ONE.fullmatch(email) is None:
        return False
    local_part, _, _ = email.partition("@")
    return len(local_part) <= MAX_LOCAL_PART_LENGTH


def all_valid_emails(emails: list[str], joined: str) -> bool:
    """True when every lowercased address of ``emails`` is valid.

    ``joined`` is ``"\\n".join(emails)``, and no address may contain a newline.
    Addresses of at most 64 characters cannot break either length limit, so
    then one regex call decides; otherwise each address is checked alone.
    """
    if not emails:
        return True
    if max(map(len, emails)) <= MAX_LOCAL_PART_LENGTH:
        return _LINES.fullmatch(joined) is not None
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
    "MAX_ADDRESS_LENGTH",
    "MAX_LOCAL_PART_LENGTH",
    "MAX_USER_ID_LENGTH",
    "PLACEHOLDER_DOMAIN",
    "all_valid_emails",
    "is_valid_email",
    "is_valid_user_id",
    "placeholder_email",
]
