"""Fixtures of the runner's end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.place import Place, make_place


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """Profiles, two segments, a shared connection to the emulator, an export."""
    with make_place(tmp_path) as made:
        yield made
