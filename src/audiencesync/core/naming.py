"""Names people give segments, exports and connections, and how text is shown.

A segment's name becomes its Iterable list's name, so two names that look the same
must be the same name: characters that print nothing are refused. Refused are
control characters (category Cc: tabs, line breaks, NUL...), line and paragraph
separators (Zl, Zp), invisible format characters (Cf: zero-width spaces and
joiners, the byte order mark U+FEFF, bidirectional marks, overrides and isolates
U+200E/U+200F, U+202A-U+202E, U+2066-U+2069...) and lone surrogates (Cs: bytes
that were not UTF-8 on the command line). One check serves the three services.

:func:`shown` escapes the same characters as ``\\u200b``-style codes, for text
printed to a terminal (descriptions, conditions, names in ``show`` and ``list``).
"""

from __future__ import annotations

import unicodedata

from audiencesync.errors import ConfigError

MAX_NAME_LENGTH = 255
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_invisible(char: str) -> bool:
    """Whether ``char`` prints nothing (or moves the cursor): refused in names."""
    return unicodedata.category(char) in INVISIBLE_CATEGORIES


def clean_name(
    raw: str,
    *,
    subject: str,
    empty: str,
    error: type[ConfigError] = ConfigError,
    field: str | None = None,
) -> str:
    """``raw`` trimmed, or ``error`` saying why it cannot name a ``subject``.

    ``empty`` is the message for a blank name (it shows a good example);
    ``field`` is the input the name came from, set on the error.
    """
    name = raw.strip()
    if not name:
        raise error(empty, field=field)
    if len(name) > MAX_NAME_LENGTH:
        msg = (
            f"The {subject} name is {len(name)} characters long; the limit is"
            f" {MAX_NAME_LENGTH}. Choose a shorter name."
        )
        raise error(msg, field=field)
    for position, char in enumerate(name, start=1):
        if is_invisible(char):
            msg = (
                f"{subject.capitalize()} names cannot contain tabs, line breaks,"
                " invisible characters or other control characters (found"
                f" {describe(char)} at character {position}). Type the name again"
                " without it."
            )
            raise error(msg, field=field)
    return name


def describe(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``; for a lone surrogate, the byte it stands for."""
    code = ord(char)
    if unicodedata.category(char) == "Cs":
        return f"U+{code:04X}, a byte that is not UTF-8 text"
    name = unicodedata.name(char, "")
    return f"U+{code:04X} {name}".rstrip()


def shown(text: str) -> str:
    """``text`` with every invisible or control character escaped (``\\u200b``)."""
    if not any(is_invisible(char) for char in text):
        return text
    return "".join(_escaped(char) if is_invisible(char) else char for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
