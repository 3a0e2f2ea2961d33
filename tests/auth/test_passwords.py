"""Password hashing (audiencesync.auth.passwords): Argon2id, length rules, rehash."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from audiencesync.auth.passwords import (
    hash_password,
    needs_rehash,
    rehash,
    verify_against_nothing,
    verify_password,
)
from audiencesync.errors import ConfigError

PASSWORD = "correct horse battery"


def test_a_hash_verifies_its_password() -> None:
    """The hash of a password verifies that password."""
    assert verify_password(hash_password(PASSWORD), PASSWORD)


def test_a_hash_is_argon2id_and_does_not_contain_the_password() -> None:
    """The stored form is an Argon2id hash, never the password."""
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed


def test_a_wrong_password_does_not_verify() -> None:
    """Another password gives False, not an exception."""
    assert not verify_password(hash_password(PASSWORD), PASSWORD + "!")


def test_a_malformed_hash_does_not_verify() -> None:
    """A value that is no Argon2 hash gives False, not an exception."""
    assert not verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass1", "too short: use at least 12 characters"),
        ("x" * 1025, "too long: use at most 1024 characters"),
    ],
    ids=["11 characters", "1025 characters"],
)
def test_password_length_is_checked_without_showing_it(
    password: str, message: str
) -> None:
    """Too short or too long: a ConfigError that never repeats the password."""
    with pytest.raises(ConfigError, match=message) as caught:
        hash_password(password)
    assert password not in str(caught.value)


def test_twelve_characters_are_enough() -> None:
    """The minimum length itself is accepted."""
    assert verify_password(hash_password("a" * 12), "a" * 12)


def test_a_hash_with_older_parameters_needs_rehash() -> None:
    """A hash made with weaker parameters is flagged; a fresh one is not."""
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)
    assert not needs_rehash(rehash(PASSWORD))


def test_verify_against_nothing_says_no() -> None:
    """The stand-in check for unknown users always fails."""
    assert not verify_against_nothing(PASSWORD)
