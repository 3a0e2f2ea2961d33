"""The emulator's address check and the product's are two readings of one rule.

They share no code (the contract tests would prove nothing if they did), so this
differential test is what keeps them saying the same thing.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audiencesync.core import emails as product
from audiencesync.emulator import emails as emulator
from tests.emulator.test_subscribe_fast_path import INVALID, VALID

# Letters, digits and every character that decides something in the grammar.
_ALPHABET = "ab0-.@_+' \t\u00fc"


@pytest.mark.parametrize("email", VALID + INVALID)
def test_listed_addresses_are_judged_alike(email: str) -> None:
    """Every listed valid and invalid address gets the same answer from both."""
    lowered = email.lower()
    assert emulator.is_valid_email(lowered) == product.is_valid_email(lowered)


@given(
    local=st.text(_ALPHABET, max_size=70),
    domain=st.text(_ALPHABET, max_size=20),
    tld=st.sampled_from(["com", "io", "c", "c0m", "", "x" * 64]),
)
def test_generated_addresses_are_judged_alike(
    local: str, domain: str, tld: str
) -> None:
    """Near-miss addresses built from the deciding characters get the same answer."""
    email = f"{local}@{domain}.{tld}"
    assert emulator.is_valid_email(email) == product.is_valid_email(email)
