"""The test suite never reaches the real Iterable, whatever a test asks for."""

from __future__ import annotations

import httpx
import pytest


def test_a_request_to_a_real_iterable_host_fails_as_a_network_error() -> None:
    """A real transport refuses iterable.com hosts before any byte leaves."""
    with httpx.Client() as client, pytest.raises(httpx.ConnectError, match="emulator"):
        client.get("https://api.iterable.com/api/lists")
