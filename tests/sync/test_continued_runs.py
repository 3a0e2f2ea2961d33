"""A stopped run continued: what may have been sent is settled, the rest planned again.

A run killed (or stopped by an outage) is continued by ``runs resume``, ``serve``
or the export's next run. Only the first batches Iterable had not acknowledged
can have reached it; they are sent again as planned, and the rest of the old
plan, made from the data of the run's start, gives way to a plan made now.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.iterable import BatchPolicy
from audiencesync.iterable.client import IterableClient
from audiencesync.sync import runner
from audiencesync.sync.history import RunInfo, run_info
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import CROWD, EXPORT, MANY, Crash, Place, make_place

pytestmark = pytest.mark.socket

LEAVER = "P2400,p02400@example.com,"  # in the 16th call of 100 (keys sort as text)


@pytest.fixture
def small_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs call Iterable with 100 people a call: CROWD takes 25 calls."""
    small = functools.partial(IterableClient, batch=BatchPolicy(max_items=100))
    monkeypatch.setattr(runner, "IterableClient", small)


def _info(place: Place, run_id: int) -> RunInfo:
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        return run_info(session, run_id)


@pytest.mark.usefixtures("small_calls")
def test_a_continued_run_subscribes_nobody_who_left_since_its_plan(
    tmp_path: Path,
) -> None:
    """Killed after its first call; someone of a later call leaves: never subscribed."""
    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()
        place.reimport(CROWD.replace(f"{LEAVER}FR", f"{LEAVER}DE"))
        place.emulator.reset_requests()

        place.run()

        continued = _info(place, 1)
        lists = place.members(continued)
        sent = place.sent_items()
    # France's 2,399 not sent yet and Germany's newcomer; nobody to unsubscribe.
    assert sent == {"lists/subscribe": MANY - 100}
    assert "p02400@example.com" not in lists["France"]
    assert "p02400@example.com" in lists["Germany"]
    france = next(part for part in continued.segments if part.segment_name == "France")
    assert (france.added, france.planned_add) == (MANY - 1, MANY - 1)


def test_a_run_stopped_before_its_segment_was_renamed_is_continued(
    tmp_path: Path,
) -> None:
    """Killed, the segment renamed, the next run: the stopped run ends well."""
    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()
        with open_workspace(place.settings) as workspace:
            workspace.segments.update("France", new_name="France (all)")

        caught_up = place.run()

        continued = _info(place, 1)
        lists = place.members(caught_up)
    assert continued.status is RunStatus.SUCCEEDED
    assert len(lists["France (all)"]) == MANY


@pytest.mark.usefixtures("small_calls")
def test_a_run_whose_plan_file_was_lost_is_planned_again_whole(
    tmp_path: Path,
) -> None:
    """Killed, its plan file deleted by hand: the next run sends every member."""
    with make_place(tmp_path, profiles=CROWD) as place:
        place.crash_after_first_batch()
        for plan in (place.settings.home / "sync" / "runs").rglob("plan.parquet"):
            plan.unlink()

        caught_up = place.run()

        continued = _info(place, 1)
        lists = place.members(caught_up)
    assert continued.status is RunStatus.SUCCEEDED
    assert len(lists["France"]) == MANY


@pytest.mark.usefixtures("small_calls")
def test_a_run_killed_in_its_first_call_sends_only_that_call_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing acknowledged: only the first call can have been sent; then a new plan."""
    original = IterableClient._bulk_rows

    async def dying(self: IterableClient, *args: Any, **kwargs: Any) -> Any:
        await original(self, *args, **kwargs)  # Iterable applies it; no answer
        raise Crash

    second_call = "P1133,p01133@example.com,"  # keys sort as text: the 2nd call
    with make_place(tmp_path, profiles=CROWD) as place:
        monkeypatch.setattr(IterableClient, "_bulk_rows", dying)
        with open_workspace(place.settings) as workspace, pytest.raises(Crash):
            run_export(workspace, EXPORT)
        monkeypatch.undo()
        place.reimport(CROWD.replace(f"{second_call}FR", f"{second_call}DE"))
        place.emulator.reset_requests()

        place.run()

        continued = _info(place, 1)
        lists = place.members(continued)
        sent = place.sent_items()
    # The first call again (100), then France's other 2,399 and Germany's newcomer.
    assert sent == {"lists/subscribe": 100 + MANY - 100}
    assert "p01133@example.com" not in lists["France"]
    assert continued.status is RunStatus.SUCCEEDED
