"""Held removals are released only by an administrator (issue 11, item 17)."""

from __future__ import annotations

import pytest

from audiencesync.app.workspace import open_workspace
from audiencesync.auth.roles import Role
from audiencesync.emulator import ScriptedFault
from audiencesync.errors import AccessDeniedError
from audiencesync.settings import load_settings
from audiencesync.sync.control import approve_run, cancel_run, discard_run
from audiencesync.sync.history import RunInfo
from audiencesync.sync.run_history import RunHistory
from audiencesync.sync.runner import resume_run, run_export
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, FRANCE, Place
from tests.sync.test_run_lifecycle import EXODUS

pytestmark = pytest.mark.socket

# dan leaves Germany: one of its two members (50 %, not over the 50 % brake).
DAN_LEAVES = EXODUS.replace("C4,dan@example.com,DE,free\n", "")


def _held(place: Place) -> RunInfo:
    """Run 1 fills the lists; run 2 finds 2 of France's 3 gone: Held."""
    with open_workspace(place.settings) as workspace:
        workspace.users.add("cora", role=Role.CONTRIBUTOR)
    place.run()
    place.reimport(EXODUS)
    held = place.run()
    assert held.status is RunStatus.HELD
    return held


def _contributor_run(place: Place, *, brake: int = 100) -> RunInfo:
    with open_workspace(load_settings(home=place.settings.home, user="cora")) as cora:
        cora.exports.edit(EXPORT, removal_brake=brake)
        return run_export(cora, EXPORT)


def test_a_raised_brake_does_not_release_held_removals(place: Place) -> None:
    """A contributor raises the brake to 100 % and runs: nothing is removed."""
    _held(place)
    place.emulator.reset_requests()

    again = _contributor_run(place)

    assert again.status is RunStatus.HELD
    assert again.segments[0].held_removals
    assert "lists/unsubscribe" not in place.sent_items()
    assert place.members(again)["France"] == FRANCE


def test_a_run_in_add_only_mode_does_not_release_them(place: Place) -> None:
    """add-only for one run, then mirror at 100 %: the removals stay held."""
    _held(place)
    with open_workspace(load_settings(home=place.settings.home, user="cora")) as cora:
        cora.exports.edit(EXPORT, mode="add-only")
        assert run_export(cora, EXPORT).status is RunStatus.SUCCEEDED
        cora.exports.edit(EXPORT, mode="mirror")
    place.emulator.reset_requests()

    again = _contributor_run(place)

    assert again.status is RunStatus.HELD
    assert "lists/unsubscribe" not in place.sent_items()


def test_an_administrator_approves_what_a_later_run_still_held(place: Place) -> None:
    """The newest Held run carries the removals; approving it sends them."""
    _held(place)
    again = _contributor_run(place)

    with open_workspace(place.settings) as workspace:
        approved = approve_run(workspace, again.id)

    assert approved.status is RunStatus.SUCCEEDED
    assert place.members(approved)["France"] == {"ana@example.com"}


def test_after_a_discard_the_brake_decides_again(place: Place) -> None:
    """Once an administrator discarded them, the next run's brake applies."""
    held = _held(place)
    with open_workspace(place.settings) as workspace:
        discard_run(workspace, held.id)

    after = _contributor_run(place)

    assert after.status is RunStatus.SUCCEEDED
    assert place.members(after)["France"] == {"ana@example.com"}


def test_other_segments_are_not_held_by_anothers_hold(place: Place) -> None:
    """Only the segment whose removals are held stays held."""
    _held(place)
    place.reimport(DAN_LEAVES)

    again = _contributor_run(place, brake=50)

    france, germany = again.segments
    assert (france.status, germany.status) == (
        RunStatus.HELD,
        RunStatus.SUCCEEDED,
    )
    assert "dan@example.com" not in place.members(again)["Germany"]


def test_a_contributor_cannot_cancel_a_held_run(place: Place) -> None:
    """Canceling a Held run would drop its removals: administrators only."""
    held = _held(place)

    with (
        open_workspace(load_settings(home=place.settings.home, user="cora")) as cora,
        pytest.raises(AccessDeniedError, match="administrator to approve or discard"),
    ):
        cancel_run(cora, held.id)
    with open_workspace(place.settings) as workspace:
        assert cancel_run(workspace, held.id) is RunStatus.CANCELED


def test_an_approval_that_stopped_half_way_is_finished_by_its_resume(
    place: Place,
) -> None:
    """Approve, Iterable down during the removals, resume: removed, Succeeded."""
    held = _held(place)
    place.emulator.script("lists/unsubscribe", ScriptedFault(status=503), times=50)
    with open_workspace(place.settings) as workspace:
        stopped = approve_run(workspace, held.id)
    place.emulator.clear_scripts()
    assert stopped.status is RunStatus.FAILED_RETRYING

    with open_workspace(place.settings) as workspace:
        resumed = resume_run(workspace, held.id)

    assert resumed.status is RunStatus.SUCCEEDED
    assert place.members(resumed)["France"] == {"ana@example.com"}


def test_an_approved_hold_does_not_hold_the_next_run(place: Place) -> None:
    """After an approval that stopped half way, a small removal is not held."""
    held = _held(place)
    place.emulator.script("lists/unsubscribe", ScriptedFault(status=503), times=50)
    with open_workspace(place.settings) as workspace:
        approve_run(workspace, held.id)
    place.emulator.clear_scripts()
    place.reimport(DAN_LEAVES)

    with open_workspace(place.settings) as workspace:
        later = run_export(workspace, EXPORT)

    assert later.status is not RunStatus.HELD
    assert "dan@example.com" not in place.members(later)["Germany"]


def test_a_superseded_held_run_no_longer_invites_an_approval(place: Place) -> None:
    """A newer run came: the older Held run's note points at the newest instead."""
    first = _held(place)
    again = _contributor_run(place)

    with open_workspace(place.settings) as workspace:
        history = RunHistory(workspace.database, workspace.actor)
        older, newer = history.show(first.id), history.show(again.id)

    assert older.status is RunStatus.HELD
    assert (older.error or "").startswith(f"Superseded by run {again.id}")
    assert f"held removals of run {first.id}" not in (older.error or "")
    assert f"approve or discard the held removals of run {again.id}" in (
        newer.error or ""
    )


def test_a_removed_exports_held_run_says_nothing_will_be_sent(place: Place) -> None:
    """Its export is gone: the Held run says its removals will not be sent."""
    held = _held(place)
    with open_workspace(place.settings) as workspace:
        workspace.exports.remove(EXPORT)
        shown = RunHistory(workspace.database, workspace.actor).show(held.id)

    assert (shown.error or "").startswith("Its export was removed")
    assert "approve or discard" not in (shown.error or "")
