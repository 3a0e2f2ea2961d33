"""Suggestions for mistyped names."""

from __future__ import annotations

from audiencesync.core.suggest import closest, listed


def test_same_letters_in_another_case_win() -> None:
    """``Country`` suggests ``country`` even when another name is as close."""
    assert closest("Country", ["county", "country"]) == "country"


def test_nothing_close_suggests_nothing() -> None:
    """A name far from every known one gets no suggestion."""
    assert closest("zzz", ["email", "country"]) is None


def test_long_lists_are_cut_with_a_count() -> None:
    """Past the limit, the rest is counted, not listed."""
    assert listed(["a", "b", "c"], limit=2) == "a, b, and 1 more"
    assert listed([]) == "none"
