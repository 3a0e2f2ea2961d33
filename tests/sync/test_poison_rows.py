"""A batch Iterable refuses whole for one row's field type is bisected (T08)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable.client import IterableClient
from audiencesync.store.runs import RunBatch, RunReject
from audiencesync.sync.history import run_info
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, HEADER, Crash, Place, make_place

pytestmark = pytest.mark.socket

BATCH = 1000  # one subscribe batch: the French members
BOUND = 2 * math.ceil(math.log2(BATCH)) + 1  # T08: extra requests per poison row


def _profiles(poison: frozenset[int]) -> str:
    """1,000 French members whose ``plan`` is a date, except the ``poison`` ones."""
    rows = [
        f"P{i:04d},p{i:04d}@example.com,FR,{'soon' if i in poison else '2024-01-02'}\n"
        for i in range(BATCH)
    ]
    return HEADER + "".join(rows)


def _lock_plan_as_date(place: Place) -> None:
    """Iterable's project has ``plan`` as a date field (a first value fixed it)."""
    answer = httpx.post(
        f"{place.url}/api/users/update",
        json={"email": "seed@example.org", "dataFields": {"plan": "2020-01-01"}},
        headers={"Api-Key": DEFAULT_API_KEY},
    )
    assert answer.status_code == 200
    place.emulator.reset_requests()


def _rejects(place: Place, part_id: int) -> list[RunReject]:
    with open_workspace(place.settings) as ws, ws.database.session() as session:
        query = select(RunReject).where(RunReject.run_segment_id == part_id)
        return list(session.scalars(query))


@pytest.mark.parametrize(
    "poison", [frozenset({417}), frozenset({0, 500, 999})],
    ids=["one poison row", "three poison rows"],
)  # fmt: skip
def test_a_refused_batch_is_split_down_to_its_poison_rows(
    tmp_path: Path,
    poison: frozenset[int],
    record_property: Callable[[str, object], None],
) -> None:
    """Good rows are delivered, each poison row is a reject; T08's request bound."""
    with make_place(tmp_path, profiles=_profiles(poison)) as place:
        _lock_plan_as_date(place)

        run = place.run()

        france = next(p for p in run.segments if p.segment_name == "France")
        rejects = _rejects(place, france.id)
        members = place.emulator.list_members(france.list_id or 0)
        calls = [r for r in place.emulator.requests if r.endpoint == "lists/subscribe"]
    extra = len(calls) - 1  # after the batch's own call (Germany has nobody)
    record_property("t08_poison_rows", len(poison))  # the T08 figure, in the report
    record_property("t08_extra_requests", extra)  # 1 row: 20, 3 rows: 50
    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert len(members) == BATCH - len(poison)  # good rows lost: 0
    assert extra <= len(poison) * BOUND
    assert {r.profile_key for r in rejects} == {f"P{i:04d}" for i in poison}
    assert {(r.bucket, r.retryable) for r in rejects} == {("invalid_data", True)}
    assert all(r.reason.startswith("RequestFieldsTypesMismatched: ") for r in rejects)
    assert all("'plan'" in r.reason for r in rejects)
    assert france.batches_acked == france.batches_total == 1


def test_a_crash_during_a_split_sends_the_batch_again_and_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after 6 calls of a split: nothing checkpointed; the resume redoes it."""
    original = IterableClient._bulk_rows
    calls: list[int] = []

    async def dying(self: IterableClient, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 6:
            raise Crash
        return await original(self, *args, **kwargs)

    with make_place(tmp_path, profiles=_profiles(frozenset({417}))) as place:
        _lock_plan_as_date(place)
        monkeypatch.setattr(IterableClient, "_bulk_rows", dying)
        with open_workspace(place.settings) as workspace, pytest.raises(Crash):
            run_export(workspace, EXPORT)
        monkeypatch.undo()
        with open_workspace(place.settings) as ws, ws.database.session() as session:
            acked = session.scalars(select(RunBatch)).all()
        place.emulator.reset_requests()

        place.run()

        with open_workspace(place.settings) as ws, ws.database.session() as session:
            continued = run_info(session, 1)
        [france] = [p for p in continued.segments if p.segment_name == "France"]
        members = place.emulator.list_members(france.list_id or 0)
        first = next(r for r in place.emulator.requests
                     if r.endpoint == "lists/subscribe")  # fmt: skip
        rejects = _rejects(place, france.id)
    assert acked == []  # the checkpoint never ran ahead of the split
    assert first.items == BATCH  # the batch is sent again, whole, and no more
    assert len(members) == BATCH - 1
    assert [r.profile_key for r in rejects] == ["P0417"]
