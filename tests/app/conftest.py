"""A data folder (admin ``admin``) staged for runs against a real emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.context import AppContext
from audiencesync.app.home import initialize
from audiencesync.emulator import serve_in_thread
from audiencesync.settings import load_settings
from tests.app.stage import Stage, make_emulator, stage


@pytest.fixture
def staged(tmp_path: Path) -> Iterator[Stage]:
    """Profiles, segment France, a shared connection to the emulator, an export."""
    settings = load_settings(home=tmp_path / "home")
    initialize(settings, admin="admin")
    emulator = make_emulator()
    with serve_in_thread(emulator) as url, AppContext.open(settings) as context:
        yield stage(context, tmp_path, url, emulator)
