"""The data privacy statement: documented word for word, versioned."""

from __future__ import annotations

from pathlib import Path

from audiencesync.connections import CONSENT_VERSION, PRIVACY_STATEMENT

DOC = Path(__file__).parents[2] / "docs" / "connections.md"


def test_the_statement_is_in_the_docs_word_for_word() -> None:
    """docs/connections.md shows exactly the text `add` prints."""
    assert PRIVACY_STATEMENT.strip() in DOC.read_text(encoding="utf-8")


def test_the_docs_name_the_current_version() -> None:
    """The documented version is the one consents record."""
    assert f"(currently `{CONSENT_VERSION}`" in DOC.read_text(encoding="utf-8")
