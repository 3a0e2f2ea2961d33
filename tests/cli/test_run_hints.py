"""``runs show`` adds the command a run's status calls for (issue 12).

The run record's note says what to do in words (it is stored, e-mailed and
served by the API); the command line adds the command itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from audiencesync.cli import app
from audiencesync.emulator import ScriptedFault
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import Place, make_place
from tests.sync.test_run_lifecycle import EXODUS

pytestmark = pytest.mark.socket


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """Profiles, two segments, a shared connection to the emulator, an export."""
    with make_place(tmp_path) as made:
        yield made


def _show(place: Place, run_id: int) -> Result:
    env = {"AUDIENCESYNC_HOME": str(place.settings.home), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["runs", "show", str(run_id)], env=env)
    assert result.exit_code == 0, result.output
    return result


def test_a_held_run_shows_the_approve_and_discard_commands(place: Place) -> None:
    """The note says an administrator decides; the CLI adds both commands."""
    place.run()
    place.reimport(EXODUS)
    held = place.run()
    assert held.status is RunStatus.HELD
    assert "`" not in (held.error or "")

    text = _show(place, held.id).stdout

    assert f"held removals of run {held.id}" in text
    assert f"`audiencesync runs approve {held.id}`" in text
    assert f"`audiencesync runs discard {held.id}`" in text


def test_a_failed_retrying_run_shows_the_resume_command(place: Place) -> None:
    """Iterable down: the note says a resume continues it; the CLI names it."""
    place.emulator.script("lists/subscribe", ScriptedFault(status=503), times=50)
    failed = place.run()
    place.emulator.clear_scripts()
    assert failed.status is RunStatus.FAILED_RETRYING
    assert "`" not in (failed.error or "")

    text = _show(place, failed.id).stdout

    assert f"`audiencesync runs resume {failed.id}`" in text
