"""The data folder is private: init narrows what exists; opening it does too."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.app.home import initialize
from audiencesync.app.workspace import open_workspace
from audiencesync.errors import ConfigError
from audiencesync.profiles.service import import_profiles
from audiencesync.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _open_umask() -> Iterator[None]:
    """A permissive umask (022), as most shells have; restored afterwards."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An initialised data folder with an imported profile table."""
    made = load_settings(home=tmp_path / "home")
    initialize(made)
    source = tmp_path / "c.csv"
    source.write_text("customer_id,email\nC1,ana@example.com\n", encoding="utf-8")
    import_profiles(made, source)
    return made


def _modes(home: Path) -> dict[str, int]:
    return {
        str(path.relative_to(home)): stat.S_IMODE(path.stat().st_mode)
        for path in [home, *home.rglob("*")]
    }


def _widen(home: Path) -> None:
    """What an older version (or umask 022) left: folders 0755, files 0644.

    The key file stays 0600: one others could read is refused, not fixed.
    """
    (home / "audiencesync.db-wal").write_bytes(b"")
    for path in [home, *home.rglob("*")]:
        if path.name != "secret.key":
            path.chmod(0o755 if path.is_dir() else 0o644)


def _private(home: Path) -> bool:
    return all(
        mode == (0o700 if (home / name).is_dir() else 0o600)
        for name, mode in _modes(home).items()
    )


def test_a_new_data_folder_is_private(settings: Settings) -> None:
    """Under umask 022, init and import still make folders 0700 and files 0600."""
    modes = _modes(settings.home)
    assert modes["."] == 0o700
    assert modes["audiencesync.db"] == 0o600
    assert modes["secret.key"] == 0o600
    assert modes["profiles/customers.parquet"] == 0o600
    assert _private(settings.home)


def test_init_narrows_an_existing_folder_and_is_idempotent(settings: Settings) -> None:
    """init again narrows every folder and file, the SQLite -wal file included."""
    _widen(settings.home)

    initialize(settings)
    first = _modes(settings.home)
    initialize(settings)

    assert _private(settings.home)
    assert first.get("audiencesync.db-wal", 0o600) == 0o600  # SQLite may drop it
    assert _modes(settings.home) == first


def test_opening_the_folder_narrows_its_top(settings: Settings) -> None:
    """Any command (a workspace) narrows the folder and the database files."""
    _widen(settings.home)

    with open_workspace(settings):
        modes = _modes(settings.home)

    assert modes["."] == 0o700
    assert modes["audiencesync.db"] == 0o600
    assert modes["audiencesync.db-wal"] == 0o600
    assert modes["profiles"] == 0o700


def test_a_key_file_others_can_read_is_still_refused(settings: Settings) -> None:
    """Narrowing never hides a key file that was open to others: it is refused."""
    (settings.home / "secret.key").chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        initialize(settings)
    with (
        pytest.raises(ConfigError, match="readable by others"),
        open_workspace(settings) as w,
    ):
        w.connections.list_all()
