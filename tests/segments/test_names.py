"""Segment names: trimmed, printable, at most 255 characters; keys ignore case."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audiencesync.errors import RuleError
from audiencesync.segments import MAX_NAME_LENGTH, name_key, normalize_name


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  VIP France  ", "VIP France"),
        ("Été 2026 — clients fidèles 🎉", "Été 2026 — clients fidèles 🎉"),
        ("Quotes ' \" and / \\ ; -- are fine", "Quotes ' \" and / \\ ; -- are fine"),
        ("x" * MAX_NAME_LENGTH, "x" * MAX_NAME_LENGTH),
        ("\u00a0non-breaking\u00a0", "non-breaking"),
    ],
    ids=["trimmed", "unicode", "punctuation", "longest", "nbsp trimmed"],
)
def test_valid_names_are_kept_exactly(raw: str, name: str) -> None:
    """Any printable name is kept as typed, minus surrounding whitespace."""
    assert normalize_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "A segment needs a name"),
        ("   \t ", "A segment needs a name"),
        ("x" * (MAX_NAME_LENGTH + 1), "256 characters long; the limit is 255"),
        ("VIP\tFrance", r"control characters \(found U\+0009 at character 4\)"),
        ("VIP\nFrance", r"found U\+000A"),
        ("VIP\u2028France", r"found U\+2028"),
        ("VIP\x00", r"found U\+0000"),
        ("EU/counts", r"cannot end in '/counts'.*counts page of segment 'EU'"),
        ("EU/preview", r"cannot end in '/preview'"),
        ("EU/explain", r"cannot end in '/explain'"),
    ],
    ids=[
        "empty", "blank", "too long", "tab", "newline", "line separator", "NUL",
        "an API page: counts", "preview", "explain",
    ],
)  # fmt: skip
def test_invalid_names_are_refused(raw: str, message: str) -> None:
    """Empty, too long or control characters: a clear RuleError."""
    with pytest.raises(RuleError, match=message):
        normalize_name(raw)


@given(st.text(max_size=300))
def test_normalize_name_either_trims_or_refuses(raw: str) -> None:
    """The result is the trimmed text, valid by every rule, or a RuleError."""
    try:
        name = normalize_name(raw)
    except RuleError:
        return
    assert name == raw.strip()
    assert 0 < len(name) <= MAX_NAME_LENGTH
    assert all(unicodedata.category(char) != "Cc" for char in name)


@pytest.mark.parametrize(
    ("first", "second"),
    [("VIP", "vip"), ("Straße", "STRASSE"), (" Café", "cafe\u0301"), ("ÉTÉ", "été")],
    ids=["ascii", "sharp s", "composed accents", "accents"],
)
def test_names_differing_only_by_case_share_a_key(first: str, second: str) -> None:
    """name_key makes "VIP" and "vip" the same segment."""
    assert name_key(first) == name_key(second)


def test_different_names_have_different_keys() -> None:
    """Keys only fold case, nothing else."""
    assert name_key("VIP") != name_key("VIP 2")
