"""What quickstart says of the web pages before it serves: where, how to sign in."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from audiencesync.auth.directory import authenticate_password
from audiencesync.demo.quickstart import LandedList, run_quickstart
from audiencesync.settings import Settings, load_settings
from audiencesync.store.database import Database
from audiencesync.sync.history import RunInfo
from audiencesync.sync.progress import RunProgress

ADDRESS = "http://127.0.0.1:8000/"


class Recorded:
    """A quickstart display that keeps the steps' lines."""

    def __init__(self) -> None:
        self.steps: dict[str, str] = {}

    def step(self, step: str, detail: str) -> None:
        """Keep the line."""
        self.steps[step] = detail

    @contextlib.contextmanager
    def running(self) -> Iterator[RunProgress | None]:
        """No progress display."""
        yield None

    def run(self, info: RunInfo) -> None:
        """Nothing to draw."""

    def landed(self, lists: Sequence[LandedList]) -> None:
        """Nothing to draw."""


def _quickstart(settings: Settings) -> Recorded:
    display = Recorded()
    run_quickstart(settings, display=display, profiles=200,  # type: ignore[arg-type]
                   serve=lambda _: None, web_address=ADDRESS)  # fmt: skip
    return display


def test_the_first_quickstart_prints_a_password_that_signs_in(tmp_path: Path) -> None:
    """The admin gets a password, shown once beside the address; it works."""
    settings = load_settings(home=tmp_path / "home")

    line = _quickstart(settings).steps["Web pages"]

    found = re.search(r"sign in as (\S+) with password (\S+) ", line)
    assert found is not None, line
    assert line.startswith(ADDRESS)
    database = Database.open(settings.database)
    try:
        actor = authenticate_password(database, found.group(1), found.group(2))
    finally:
        database.close()
    assert actor.is_admin


def test_a_later_quickstart_shows_no_password(tmp_path: Path) -> None:
    """The password was set: the next quickstart only says to use it."""
    settings = load_settings(home=tmp_path / "home")
    _quickstart(settings)

    line = _quickstart(settings).steps["Web pages"]

    assert line.endswith("with your password")
