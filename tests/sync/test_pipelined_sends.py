"""Batches of a segment go to Iterable several at a time (issue 14).

The emulator answers every call after a delay, as Iterable a network away
does, and counts the calls it is answering at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import EmulatorConfig, ScriptedFault
from audiencesync.iterable.client import MAX_IN_FLIGHT
from audiencesync.store.runs import RunBatch
from audiencesync.sync.outcomes import RunFailedError
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, HEADER, OnBatch, make_place

pytestmark = pytest.mark.socket

MEMBERS = 20_500  # French members: 21 subscribe batches
CROWD = HEADER + "".join(f"P{i},p{i:05d}@example.com,FR,free\n" for i in range(MEMBERS))
DISTANT = EmulatorConfig(rate_limits_enabled=False, latency=0.05)


def test_batches_overlap_within_the_client_window(tmp_path: Path) -> None:
    """Over a 50 ms network several batches are in flight, never more than 8."""
    with make_place(tmp_path, profiles=CROWD, config=DISTANT) as place:
        run = place.run()
        peak = place.emulator.peak_in_flight

    assert run.status is RunStatus.SUCCEEDED
    assert len(place.members(run)["France"]) == MEMBERS
    assert 2 <= peak <= MAX_IN_FLIGHT


def test_each_batch_is_sent_once(tmp_path: Path) -> None:
    """Overlapping sends still send every member exactly once."""
    with make_place(tmp_path, profiles=CROWD, config=DISTANT) as place:
        run = place.run()

    assert place.sent_items() == {"lists/subscribe": MEMBERS}
    assert run.segments[0].batches_acked == run.segments[0].batches_total == 21


def test_a_failed_batch_keeps_the_answers_of_those_in_flight(tmp_path: Path) -> None:
    """A permanent refusal stops the run; every batch Iterable took is checkpointed."""
    with make_place(tmp_path, profiles=CROWD, config=DISTANT) as place:
        fault = ScriptedFault(status=400)
        refuse = OnBatch(2, lambda: place.emulator.script("lists/subscribe", fault))
        with open_workspace(place.settings) as workspace:
            with pytest.raises(RunFailedError):
                run_export(workspace, EXPORT, progress=refuse)
            with workspace.database.session() as session:
                acked = session.scalar(
                    select(func.count()).where(RunBatch.acked_at.is_not(None))
                )
        taken = [
            r for r in place.emulator.requests
            if r.endpoint == "lists/subscribe" and r.status == 200
        ]  # fmt: skip

    assert acked == len(taken) < 21
