"""API tokens (audiencesync.auth.tokens): shape, digest, constant-time match."""

from __future__ import annotations

import hashlib

import pytest

from audiencesync.auth.tokens import (
    digest,
    last4,
    looks_like_token,
    matches,
    new_token,
)


def test_a_token_is_the_prefix_and_43_url_safe_characters() -> None:
    """``as_`` plus 32 random bytes in url-safe base64."""
    token = new_token()
    assert token.startswith("as_")
    assert len(token) == 46
    assert token[3:].replace("-", "").replace("_", "").isalnum()


def test_tokens_are_unique() -> None:
    """Two tokens are never equal."""
    assert len({new_token() for _ in range(100)}) == 100


def test_the_digest_is_sha256_hex() -> None:
    """The stored digest is the token's SHA-256 in hex."""
    token = new_token()
    assert digest(token) == hashlib.sha256(token.encode()).hexdigest()


def test_matches_accepts_the_token_and_refuses_another() -> None:
    """A digest matches its own token only."""
    token = new_token()
    assert matches(token, digest(token))
    assert not matches(new_token(), digest(token))


def test_last4_is_the_end_of_the_token() -> None:
    """Only the last four characters are kept in the clear."""
    assert last4("as_abcdefgh") == "efgh"


@pytest.mark.parametrize(
    ("text", "expected"),
    [(new_token(), True), ("ci", False), ("abcd", False), ("as_deploy", False)],
    ids=["token", "label", "last4", "label with the prefix"],
)
def test_looks_like_token(text: str, expected: bool) -> None:
    """Whole tokens are recognised so they are never echoed back."""
    assert looks_like_token(text) is expected


def test_last_four_never_look_like_a_flag() -> None:
    """A token's last four characters never start with "-" (revoke-token takes them)."""
    assert not any(new_token()[-4:].startswith("-") for _ in range(2_000))
