"""End to end: a real data folder, real segments and exports, the emulator on a port."""

from __future__ import annotations

import asyncio
import shutil

import pyarrow.parquet as pq
import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator import (
    ScriptedFault,
)
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable.client import IterableClient
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.history import run_info
from audiencesync.sync.lock import RunInProgressError, acquire, release
from audiencesync.sync.records import create_run
from audiencesync.sync.reject_list import rejects
from audiencesync.sync.runner import RunFailedError
from audiencesync.sync.segment_pass import PREPARED_FILE
from audiencesync.sync.state import commit_state, read_identity
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, FRANCE, GERMANY, SECOND, Place

pytestmark = pytest.mark.socket


def test_first_run_fills_each_list_with_the_segment_exactly(place: Place) -> None:
    run = place.run()

    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}
    france, germany = run.segments
    assert (france.list_action, germany.list_action) == ("created", "created")
    assert (france.added, france.invalid_in_source, france.rejected) == (3, 2, {})
    assert (germany.added, germany.invalid_in_source) == (2, 0)
    assert france.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert germany.status is RunStatus.SUCCEEDED
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        reported = sorted(
            (r.bucket, r.reason, r.batch) for r in rejects(session, run.id)
        )
    assert reported == [
        ("invalid_in_source", "duplicate", None),
        ("invalid_in_source", "malformed", None),
    ]


def test_second_run_sends_only_the_changes(place: Place) -> None:
    place.run()
    place.reimport(SECOND)
    place.emulator.reset_requests()

    run = place.run()

    assert place.members(run) == {
        "France": (FRANCE - {"ben@example.com"}) | {"fay@example.com"},
        "Germany": GERMANY | {"ben@example.com"},
    }
    # France: ana (changed plan) and fay (joiner) subscribed, ben unsubscribed;
    # Germany: ben subscribed. Nobody else is sent again.
    assert place.sent_items() == {"lists/subscribe": 3, "lists/unsubscribe": 1}
    france, germany = run.segments
    assert (france.added, france.updated, france.removed) == (1, 1, 1)
    assert (germany.added, germany.updated, germany.removed) == (1, 0, 0)
    assert (france.list_action, germany.list_action) == ("existing", "existing")
    assert france.unchanged == 1


def test_a_run_with_nothing_changed_sends_nothing(place: Place) -> None:
    first = place.run()
    place.emulator.reset_requests()

    again = place.run()

    assert place.sent_items() == {}
    assert [p.list_id for p in again.segments] == [p.list_id for p in first.segments]
    assert place.members(again) == {"France": FRANCE, "Germany": GERMANY}


def test_an_existing_list_with_the_segments_name_is_adopted(place: Place) -> None:
    async def make_list() -> int:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            return await client.create_list("France")

    existing = asyncio.run(make_list())

    run = place.run()

    france, germany = run.segments
    assert (france.list_id, france.list_action) == (existing, "adopted")
    assert germany.list_action == "created"
    assert place.emulator.list_members(existing) == FRANCE

    async def names() -> list[str]:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            return [found.name for found in await client.list_lists()]

    assert sorted(asyncio.run(names())) == ["France", "Germany"]


def test_a_second_run_while_the_lock_is_held_is_refused(place: Place) -> None:
    with open_workspace(place.settings) as workspace:
        database = workspace.database
        with database.session() as session:
            export_id = find_export(session, EXPORT).id
            holder = create_run(
                session, export_id, trigger="manual", requested_by="admin"
            ).id
        lease = acquire(database, export_id, holder, holder="elsewhere:1")
        try:
            with pytest.raises(RunInProgressError, match="already running") as caught:
                run_export(workspace, EXPORT)
        finally:
            release(database, lease)
        assert caught.value.run_id == holder
        with database.session() as session:
            refused = run_info(session, holder + 1)
        assert refused.status is RunStatus.CANCELED
    assert place.sent_items() == {}


def test_a_broken_run_fails_safely_and_frees_the_export(place: Place) -> None:
    place.emulator.script("lists/subscribe", ScriptedFault(status=400))

    with pytest.raises(RunFailedError, match="Run 1 failed") as caught:
        place.run()

    message = str(caught.value)
    assert "@" not in message
    assert DEFAULT_API_KEY not in message
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        failed = run_info(session, 1)
    assert failed.status is RunStatus.FAILED_PERMANENT
    assert failed.error is not None
    assert "@" not in failed.error
    assert DEFAULT_API_KEY not in failed.error
    assert failed.segments[0].status is RunStatus.FAILED_PERMANENT
    assert failed.segments[0].batches_acked == 0

    run = place.run()  # the lock was released; nothing was committed, all is sent

    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}


def test_a_clean_run_puts_the_state_prepared_during_the_sends_in_place(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every batch acked, nobody refused: the state is the prepared one, not redone."""
    # The test reads the plan after the run, which the run's end would remove.
    monkeypatch.setattr("audiencesync.sync.runner.tidy_run_files", _keep_files)
    run = place.run()
    folders = sorted((place.settings.home / "sync" / "runs" / str(run.id)).iterdir())

    for folder in folders:
        state = place.settings.home / "sync" / "state" / f"{folder.name}.parquet"
        recommitted = folder / "recommitted.parquet"
        shutil.copy(state, recommitted)
        batches = {int(b) for b in pq.read_table(folder / "plan.parquet")["batch"]}
        identity = read_identity(state)
        commit_state(recommitted, folder / "plan.parquet", batches, identity=identity)
        assert state.read_bytes() == recommitted.read_bytes()
        assert not (folder / PREPARED_FILE).exists()


def _keep_files(*_args: object, **_kwargs: object) -> None:
    """Leave a finished run's files in place."""


def test_a_refusal_makes_the_run_commit_without_the_refused(place: Place) -> None:
    """The prepared state assumed nobody refused: a refusal falls back to a commit."""
    place.forget("eve@example.com")

    run = place.run()

    france = next(p for p in run.segments if p.segment_name == "France")
    assert france.rejected == {"forgotten": 1}
    folder = place.settings.home / "sync" / "runs" / str(run.id)
    states = [
        pq.read_table(place.settings.home / "sync" / "state" / f"{f.name}.parquet")
        for f in folder.iterdir()
    ]
    kept = {str(e) for state in states for e in state["email"].to_pylist()}
    assert "eve@example.com" not in kept
    assert FRANCE - {"eve@example.com"} <= kept


def test_the_expected_size_leaves_out_members_iterable_forgot(place: Place) -> None:
    """A person Iterable forgot once listed is in the state, not the expected size."""
    place.run()
    place.forget("ana@example.com")
    place.reimport(SECOND)  # ana's plan changes: her update is refused as forgotten

    run = place.run()

    france = next(p for p in run.segments if p.segment_name == "France")
    assert france.rejected == {"forgotten": 1}
    assert france.expected_size == 2  # ana (forgotten), eve and fay in the state
