"""``exports run --full`` and the drift options of ``exports add | edit``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from tests.sync.place import EXPORT, Place, make_place

pytestmark = pytest.mark.socket


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """The runner's place: profiles, two segments, the emulator, an export."""
    with make_place(tmp_path) as made:
        yield made


def _cli(place: Place, *args: str) -> Result:
    home = str(place.settings.home)
    return CliRunner().invoke(app, [*args, "--home", home], env={"COLUMNS": "200"})


def test_drift_options_are_saved_and_shown(place: Place) -> None:
    """``edit --drift-threshold 12 --no-auto-resync``: ``show --json`` says so."""
    edited = _cli(place, "exports", "edit", EXPORT, "--drift-threshold", "12",
                  "--no-auto-resync")  # fmt: skip
    shown = json.loads(_cli(place, "exports", "show", EXPORT, "--json").stdout)
    text = _cli(place, "exports", "show", EXPORT).stdout

    assert edited.exit_code == 0, edited.output
    assert (shown["drift_threshold"], shown["auto_resync"]) == (12, False)
    assert "Drift threshold: 12 %, auto resync off" in text


def test_an_out_of_range_drift_threshold_is_refused(place: Place) -> None:
    """101 % is refused in one line, nothing saved."""
    result = _cli(place, "exports", "edit", EXPORT, "--drift-threshold", "101")
    shown = json.loads(_cli(place, "exports", "show", EXPORT, "--json").stdout)

    assert result.exit_code != 0
    assert "--drift-threshold: The drift threshold 101 is out of range" in result.output
    assert shown["drift_threshold"] == 5


def test_run_full_resends_every_member(place: Place) -> None:
    """A second run sends nothing; with ``--full`` it sends every member again."""
    _cli(place, "exports", "run", EXPORT)
    place.emulator.reset_requests()
    quiet = _cli(place, "exports", "run", EXPORT, "--json")
    sent_quietly = place.sent_items()

    full = _cli(place, "exports", "run", EXPORT, "--full", "--json")

    assert quiet.exit_code == 0, quiet.output
    assert sent_quietly == {}
    assert full.exit_code == 0, full.output
    assert (json.loads(quiet.stdout)["full_resync"],
            json.loads(full.stdout)["full_resync"]) == (False, True)  # fmt: skip
    assert place.sent_items() == {"lists/subscribe": 5}  # France 3, Germany 2
