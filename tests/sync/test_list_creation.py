"""Creating a list is idempotent, and a list that is not ready yet is not gone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import EmulatorConfig, ScriptedFault
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable import IterableClient
from audiencesync.sync.history import run_info
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, FRANCE, GERMANY, Crash, Place, make_place


def list_names(place: Place) -> list[str]:
    """The names of every list in the emulated project, sorted."""

    async def names() -> list[str]:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            return sorted(found.name for found in await client.list_lists())

    return asyncio.run(names())


class CrashOnStart:
    """A progress receiver that kills the run when its first segment starts sending."""

    def segment_started(self, segment: str, *, rows: int) -> None:
        """Die: the list exists, nothing was sent."""
        del segment, rows
        raise Crash

    def advanced(self, segment: str, *, rows: int, rate: float | None) -> None:
        """Never reached."""

    def segment_finished(self, segment: str) -> None:
        """Never reached."""


@pytest.mark.parametrize(
    "fault",
    [ScriptedFault(drop=True), ScriptedFault(status=503)],
    ids=["dropped-after-create", "503-before-create"],
)
def test_a_create_whose_answer_was_lost_makes_one_list(
    place: Place, fault: ScriptedFault
) -> None:
    """A dropped (applied) or refused create is followed by exactly one list."""
    place.emulator.script("lists/create", fault)

    run = place.run()

    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS  # the invalid emails
    assert list_names(place) == ["France", "Germany"]
    assert [p.list_action for p in run.segments] == ["created", "created"]
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}


def test_a_resume_while_the_new_list_is_not_ready_keeps_it(tmp_path: Path) -> None:
    """invalidListId for a list Iterable still lists: waited for, never recreated."""
    config = EmulatorConfig(rate_limits_enabled=False, new_list_invalid_seconds=2.0)
    with make_place(tmp_path, config=config) as place:
        with open_workspace(place.settings) as workspace, pytest.raises(Crash):
            run_export(workspace, EXPORT, progress=CrashOnStart())

        run = place.run()  # a new process: its client never saw the list made

        with (
            open_workspace(place.settings) as workspace,
            workspace.database.session() as s,
        ):
            resumed = run_info(s, 1)
        assert resumed.status is RunStatus.SUCCEEDED_WITH_REJECTS  # invalid emails
        assert [p.list_action for p in resumed.segments] == ["created", "created"]
        assert list_names(place) == ["France", "Germany"]
        assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}
