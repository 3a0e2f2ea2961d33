"""Which email addresses the product sends to Iterable (the sync plan, user emails).

The emulator keeps its own reading of Iterable's rules, on purpose (see
:mod:`audiencesync.emulator.emails`): the contract tests compare the two.

Addresses are checked lowercased. One definition of the address grammar serves
two regex engines: Python's ``re`` gets possessive quantifiers (each piece has a
single way to match, so a failing address is refused without backtracking), and
DuckDB's RE2 (linear time, no possessive syntax) gets the same grammar with plain
greedy quantifiers. Because no piece of the grammar can give characters back to
the next one (atoms stop at ``.`` and ``@``, labels at ``-`` and ``.``), both
accept exactly the same addresses.
"""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64


def address_pattern(*, possessive: bool) -> str:
    """The address grammar: dot-separated atoms, "@", dotted labels, letters TLD."""
    more, any_ = ("++", "*+") if possessive else ("+", "*")
    atom = rf"[a-z0-9!#$%&'*+/=?^_`{{|}}~-]{more}"
    label = rf"[a-z0-9]{more}(?:-{more}[a-z0-9]{more}){any_}"
    return rf"{atom}(?:\.{atom}){any_}@(?:{label}\.){more}[a-z]{{2,63}}"


EMAIL_PATTERN = address_pattern(possessive=True)
"""For Python's ``re``."""
EMAIL_SQL_PATTERN = address_pattern(possessive=False)
"""For DuckDB's ``regexp_full_match`` (RE2); add the two length checks."""
_EMAIL = re.compile(EMAIL_PATTERN)


def is_valid_email(email: str) -> bool:
    """True when a lowercased ``email`` is a deliverable-looking address."""
    return (
        len(email) <= MAX_EMAIL_LENGTH
        and _EMAIL.fullmatch(email) is not None
        and email.index("@") <= MAX_LOCAL_LENGTH
    )
