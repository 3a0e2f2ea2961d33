"""Run files are private, go once no resume can need them, and reports expire."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from audiencesync.app.running import approve_run, discard_run
from audiencesync.app.workspace import open_workspace
from audiencesync.sync.history import RunInfo, run_info
from audiencesync.sync.retention import runs_folder, sweep_run_files
from audiencesync.sync.state import changes_path
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import HEADER, Place, make_place

pytestmark = pytest.mark.socket

# ben and eve leave France: 2 of its 3 members go, over the 50 % brake.
EXODUS = HEADER + (
    "C1,ana@example.com,FR,gold\n"
    "C2,ben@example.com,DE,free\n"
    "C3,cleo@example.com,DE,gold\n"
    "C4,dan@example.com,DE,free\n"
    "C7,eve@example.com,DE,free\n"
)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask (022), as most shells have; restored afterwards."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def place(tmp_path: Path, open_umask: None) -> Iterator[Place]:
    """The runner's place, built under umask 022."""
    with make_place(tmp_path) as made:
        yield made


def _files(run: RunInfo, place: Place) -> set[str]:
    folder = runs_folder(place.settings.home) / str(run.id)
    return {path.name for path in folder.rglob("*") if path.is_file()}


def _sweep(place: Place, run: RunInfo, *, days_after: float) -> list[int]:
    with open_workspace(place.settings) as workspace:
        assert run.finished_at is not None
        return sweep_run_files(
            workspace.database,
            place.settings.home,
            now=run.finished_at + timedelta(days=days_after),
            retention_days=30,
        )


def test_every_file_and_folder_of_a_run_is_private(place: Place) -> None:
    """Under umask 022, the data folder's files are 0600 and its folders 0700."""
    place.run()
    home = place.settings.home
    modes = {
        str(path.relative_to(home)): stat.S_IMODE(path.stat().st_mode)
        for path in [home, *home.rglob("*")]
    }
    assert {m for p, m in modes.items() if (home / p).is_dir()} == {0o700}
    assert {m for p, m in modes.items() if (home / p).is_file()} == {0o600}
    assert "audiencesync.db" in modes
    assert any(p.startswith("sync/state/") for p in modes)


def test_a_finished_run_keeps_only_its_reports(place: Place) -> None:
    """Succeeded: the plan and final files are gone at once, the reports stay."""
    run = place.run()
    assert run.status is RunStatus.SUCCEEDED_WITH_REJECTS
    assert _files(run, place) <= {"invalid.parquet", "rejected.parquet"}
    assert "invalid.parquet" in _files(run, place)


def test_reports_go_after_the_retention_and_the_run_row_stays(place: Place) -> None:
    """29 days after the run its reports stay; 31 days after, its folder goes."""
    run = place.run()

    assert _sweep(place, run, days_after=29) == []
    assert _sweep(place, run, days_after=31) == [run.id]

    assert not (runs_folder(place.settings.home) / str(run.id)).exists()
    with (
        open_workspace(place.settings) as workspace,
        workspace.database.session() as session,
    ):
        kept = run_info(session, run.id)
    assert kept.status is run.status
    assert kept.counts == run.counts


def test_a_held_run_keeps_its_plan_until_it_ends(place: Place) -> None:
    """Held: the plan stays (approve needs it), even past the retention."""
    place.run()
    place.reimport(EXODUS)
    held = place.run()
    assert held.status is RunStatus.HELD
    assert "plan.parquet" in _files(held, place)

    assert held.id not in _sweep_held(place, held)
    assert "plan.parquet" in _files(held, place)

    with open_workspace(place.settings) as workspace:
        approved = approve_run(workspace, held.id)
    assert approved.status is RunStatus.SUCCEEDED
    assert "plan.parquet" not in _files(approved, place)


def _sweep_held(place: Place, run: RunInfo) -> list[int]:
    with open_workspace(place.settings) as workspace:
        return sweep_run_files(
            workspace.database,
            place.settings.home,
            now=(run.started_at or run.created_at) + timedelta(days=365),
            retention_days=30,
        )


def test_a_discarded_run_loses_its_plan_at_the_next_sweep(place: Place) -> None:
    """Discard ends the run: the next run's end (or serve) removes its plan."""
    place.run()
    place.reimport(EXODUS)
    held = place.run()
    with open_workspace(place.settings) as workspace:
        discard_run(workspace, held.id)

    place.run()

    assert "plan.parquet" not in _files(held, place)


def test_a_folder_without_a_run_is_removed(place: Place) -> None:
    """Files of a run that no longer exists (its export was removed) go."""
    run = place.run()
    orphan = runs_folder(place.settings.home) / "999" / "1"
    orphan.mkdir(parents=True)
    (orphan / "plan.parquet").write_bytes(b"old")

    assert _sweep(place, run, days_after=0) == [999]


def test_the_sync_state_of_a_removed_export_goes(place: Place) -> None:
    """Its bindings are gone: their state files (every member's email) go too."""
    run = place.run()
    states = place.settings.home / "sync" / "state"
    kept = sorted(path.name for path in states.glob("*.parquet"))
    assert kept  # the run left one state per segment
    with open_workspace(place.settings) as workspace:
        workspace.exports.remove(run.export_name)

    _sweep(place, run, days_after=0)

    assert sorted(path.name for path in states.glob("*.parquet")) == []


def test_the_sync_state_changes_of_a_removed_export_go(place: Place) -> None:
    """A state kept as a base and changes: both files go with the binding."""
    run = place.run()
    states = place.settings.home / "sync" / "state"
    for base in list(states.glob("*.parquet")):
        shutil.copy(base, changes_path(base))  # stands for a state's changes
    with open_workspace(place.settings) as workspace:
        workspace.exports.remove(run.export_name)

    _sweep(place, run, days_after=0)

    assert sorted(path.name for path in states.iterdir()) == []


def test_the_sync_state_of_a_live_binding_stays(place: Place) -> None:
    """A sweep leaves the states of bindings that still exist alone."""
    run = place.run()
    states = place.settings.home / "sync" / "state"
    kept = sorted(path.name for path in states.glob("*.parquet"))

    _sweep(place, run, days_after=365)

    assert kept
    assert sorted(path.name for path in states.glob("*.parquet")) == kept


def test_the_plan_memos_of_a_removed_export_go(place: Place) -> None:
    """A memo holds rejected emails: it lives as long as its binding, no longer."""
    place.run()
    run = place.run()  # nothing to send: each segment's plan is remembered
    memos = place.settings.home / "sync" / "memo"
    kept = sorted(path.name for path in memos.iterdir())
    _sweep(place, run, days_after=0)
    assert sorted(path.name for path in memos.iterdir()) == kept == ["1", "2"]
    with open_workspace(place.settings) as workspace:
        workspace.exports.remove(run.export_name)

    _sweep(place, run, days_after=0)

    assert list(memos.iterdir()) == []
