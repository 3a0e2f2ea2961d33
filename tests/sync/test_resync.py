"""Drift beyond the export's threshold is a warning status; a full resync repairs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select, update

from audiencesync.app.workspace import open_workspace
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.store.destinations import Export
from audiencesync.store.runs import Run
from audiencesync.sync.records import create_run, finish, start
from audiencesync.sync.resync import needs_resync
from audiencesync.sync.runner import run_export
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, HEADER, Place, make_place

pytestmark = pytest.mark.socket

MEMBERS = 200
PEOPLE = HEADER + "".join(
    f"P{i:03d},p{i:03d}@example.com,FR,free\n" for i in range(MEMBERS)
)
SEGMENT = frozenset(f"p{i:03d}@example.com" for i in range(MEMBERS))


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[Place, int]]:
    """200 French members sent once; the France list's id."""
    with make_place(tmp_path, profiles=PEOPLE) as place:
        run = place.run()
        assert run.status is RunStatus.SUCCEEDED
        [france] = [p for p in run.segments if p.segment_name == "France"]
        yield place, france.list_id or 0


def _unsubscribe_behind_our_back(place: Place, list_id: int, count: int) -> None:
    """Someone removes ``count`` members from the list in Iterable itself."""
    leavers = [{"email": f"p{i:03d}@example.com"} for i in range(count)]
    answer = httpx.post(
        f"{place.url}/api/lists/unsubscribe",
        json={"listId": list_id, "subscribers": leavers},
        headers={"Api-Key": DEFAULT_API_KEY},
    )
    assert answer.status_code == 200
    place.emulator.reset_requests()


def _full_resync(place: Place, run_id: int) -> bool:
    with open_workspace(place.settings) as ws, ws.database.session() as session:
        return session.get_one(Run, run_id).full_resync


def test_drift_beyond_the_threshold_is_repaired_by_the_next_run(
    synced: tuple[Place, int],
) -> None:
    """50 of 200 gone: the next run is Succeeded with drift, the one after resends."""
    place, list_id = synced
    _unsubscribe_behind_our_back(place, list_id, 50)

    drifted = place.run()
    sent_while_drifted = place.sent_items()
    repaired = place.run()

    assert drifted.status is RunStatus.DRIFTED
    assert "150 members in Iterable, 200 expected" in (drifted.error or "")
    assert "next run re-sends every member" in (drifted.error or "")
    assert sent_while_drifted == {}
    assert _full_resync(place, repaired.id)
    assert repaired.status is RunStatus.SUCCEEDED
    assert place.emulator.list_members(list_id) == SEGMENT


def test_without_auto_resync_a_full_run_repairs_on_demand(
    synced: tuple[Place, int],
) -> None:
    """Auto resync off: drift stays reported until ``full_resync`` is asked for."""
    place, list_id = synced
    with open_workspace(place.settings) as ws, ws.database.session() as session:
        session.execute(update(Export).values(auto_resync=False))
    _unsubscribe_behind_our_back(place, list_id, 50)

    first, second = place.run(), place.run()
    with open_workspace(place.settings) as workspace:
        full = run_export(workspace, EXPORT, full_resync=True)

    assert (first.status, second.status) == (RunStatus.DRIFTED, RunStatus.DRIFTED)
    assert "a full resync of the export re-sends" in (second.error or "")
    assert full.status is RunStatus.SUCCEEDED
    assert full.segments[0].updated == MEMBERS  # everyone re-sent, counted updated
    assert place.emulator.list_members(list_id) == SEGMENT


def test_drift_within_the_threshold_is_a_plain_success(
    synced: tuple[Place, int],
) -> None:
    """5 of 200 gone is 2.5 %: under the default 5 %, Succeeded, no resync."""
    place, list_id = synced
    _unsubscribe_behind_our_back(place, list_id, 5)

    run = place.run()

    assert run.status is RunStatus.SUCCEEDED
    assert run.segments[0].drift == -5


def test_members_audiencesync_did_not_add_are_no_drift_warning(
    synced: tuple[Place, int],
) -> None:
    """50 strangers subscribed in Iterable: positive drift, shown, Succeeded."""
    place, list_id = synced
    strangers = [{"email": f"s{i}@example.org"} for i in range(50)]
    answer = httpx.post(
        f"{place.url}/api/lists/subscribe",
        json={"listId": list_id, "subscribers": strangers},
        headers={"Api-Key": DEFAULT_API_KEY},
    )
    assert answer.status_code == 200

    run = place.run()

    assert run.status is RunStatus.SUCCEEDED
    assert run.segments[0].drift == 50


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], False),
        ([(RunStatus.SUCCEEDED, False)], False),
        ([(RunStatus.DRIFTED, False)], True),
        ([(RunStatus.DRIFTED, False), (RunStatus.DRIFTED, True)], False),
        ([(RunStatus.DRIFTED, True), (RunStatus.DRIFTED, False)], False),
        ([(RunStatus.DRIFTED, True), (RunStatus.SUCCEEDED, False),
          (RunStatus.DRIFTED, False)], True),
        ([(RunStatus.DRIFTED, False), (RunStatus.FAILED_PERMANENT, False)], True),
    ],
    ids=["no runs", "fine", "drifted", "resynced, drifted again",
         "drifted after a drifted resync", "fine in between", "a failure after"],
)  # fmt: skip
def test_one_full_resync_per_drift(
    synced: tuple[Place, int],
    history: list[tuple[RunStatus, bool]],
    expected: bool,
) -> None:
    """Auto resync follows a drift once; a drifted full resync waits for a fine run."""
    place, _ = synced
    with open_workspace(place.settings) as ws, ws.database.session() as session:
        session.execute(delete(Run))
        export_id = session.scalars(select(Export.id)).one()
        for status, full in history:
            run = create_run(session, export_id, trigger="manual",
                             requested_by="admin", full_resync=full)  # fmt: skip
            start(session, run.id)
            finish(session, run.id, status)
        assert needs_resync(session, export_id) is expected
