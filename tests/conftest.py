"""Shared fixtures: asyncio for async tests, retries without real waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _retries_without_waiting() -> Iterator[None]:
    """Keep stamina's retry attempts but drop its backoff sleeps in every test."""
    stamina.set_testing(True, attempts=10, cap=True)
    yield
    stamina.set_testing(False)
