"""A run whose plan inputs did not change since an empty plan skips planning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audiencesync.app.running import run_export
from audiencesync.app.workspace import open_workspace
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.iterable.batching import BatchPolicy
from audiencesync.iterable.client import IterableClient
from audiencesync.segments.where import parse_where
from audiencesync.sync import segment_pass
from audiencesync.sync.history import RunInfo
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import plan_binding
from audiencesync.sync.plan_memo import MEMO_FILE, memo_folder, plan_key
from audiencesync.sync.reject_list import rejects
from audiencesync.sync.state import changes_path
from audiencesync.sync.statuses import RunStatus
from tests.sync.place import EXPORT, FRANCE, GERMANY, HEADER, SECOND, OnBatch, Place

pytestmark = pytest.mark.socket


class Plans:
    """Counts the plans the engine makes (the real planner still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made = 0
        real: Callable[..., Any] = plan_binding

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.made += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(segment_pass, "plan_binding", counted)


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Plans:
    """The number of plans made from here on."""
    return Plans(monkeypatch)


def _quiet(place: Place) -> RunInfo:
    """Two runs: the first sends everything, the second plans and sends nothing."""
    place.run()
    return place.run()


def _counts(run: RunInfo) -> list[tuple[object, ...]]:
    return [
        (p.segment_name, p.status, p.unchanged, p.invalid_in_source, p.batches_total)
        for p in run.segments
    ]


def _memos(place: Place) -> list[Path]:
    return sorted((place.settings.run_files / "sync" / "memo").glob(f"*/{MEMO_FILE}"))


def test_a_run_after_a_run_that_sent_nothing_does_not_plan_again(
    place: Place, plans: Plans
) -> None:
    """Nothing changed since a plan that sent nothing: no segment is planned again."""
    _quiet(place)
    made = plans.made

    place.run()

    assert plans.made == made


def test_a_recalled_plan_reports_what_planning_reported(place: Place) -> None:
    """The run that skips planning shows the counts and rejects of the one before."""
    planned = _quiet(place)
    place.emulator.reset_requests()

    recalled = place.run()

    assert _counts(recalled) == _counts(planned)
    with open_workspace(place.settings) as workspace:
        database = workspace.database
        with database.session() as session:
            before = list(rejects(session, planned.id))
            after = list(rejects(session, recalled.id))
    assert before
    assert after == before
    assert place.sent_items() == {}
    assert place.members(recalled) == {"France": FRANCE, "Germany": GERMANY}


def test_a_run_after_a_plan_applied_whole_does_not_plan_again(
    place: Place, plans: Plans
) -> None:
    """Everything sent and acknowledged: the next plan would be empty, so is skipped."""
    place.run()
    made = plans.made

    place.run()

    assert plans.made == made


def test_the_plan_after_an_applied_one_counts_what_planning_counts(
    place: Place,
) -> None:
    """The remembered empty plan reports what planning the same inputs reports."""
    place.run()
    recalled = place.run()
    for memo in _memos(place):
        memo.unlink()

    planned = place.run()

    assert _counts(recalled) == _counts(planned)
    assert [p.expected_size for p in recalled.segments] == [
        p.expected_size for p in planned.segments
    ]


def test_a_run_with_a_refusal_leaves_no_memo(place: Place) -> None:
    """Someone refused by Iterable is not in the state: the next run plans again."""
    place.forget("eve@example.com")
    place.run()

    assert len(_memos(place)) == 1  # Germany's: applied whole; France's had a refusal


def test_profiles_changed_during_a_run_leave_no_memo(place: Place) -> None:
    """An import while the batches go out: the plan applied is not the new data's."""

    def reimport() -> None:
        place.reimport(SECOND)

    with open_workspace(place.settings) as workspace:
        run_export(workspace, EXPORT, progress=OnBatch(1, reimport))

    run = place.run()

    assert place.members(run) == {
        "France": (FRANCE - {"ben@example.com"}) | {"fay@example.com"},
        "Germany": GERMANY | {"ben@example.com"},
    }


def test_held_removals_leave_no_memo(place: Place, plans: Plans) -> None:
    """Removals held for an administrator are not applied: the next run plans."""
    place.run()
    place.reimport(HEADER + "C3,cleo@example.com,DE,gold\n")  # France empties
    held = place.run()
    assert held.segments[0].status == RunStatus.HELD
    made = plans.made

    place.run()

    assert plans.made == made + 1  # France; Germany lost dan, sent, applied whole


def test_new_profiles_are_planned_and_sent(place: Place, plans: Plans) -> None:
    """A re-import changes the data version: the run plans and sends the change."""
    _quiet(place)
    place.reimport(SECOND)
    made = plans.made

    run = place.run()

    assert plans.made == made + 2
    assert place.members(run) == {
        "France": (FRANCE - {"ben@example.com"}) | {"fay@example.com"},
        "Germany": GERMANY | {"ben@example.com"},
    }


def test_an_edited_segment_is_planned_again(place: Place, plans: Plans) -> None:
    """A new definition changes the members' fingerprint: that segment is planned."""
    _quiet(place)
    with open_workspace(place.settings) as workspace:
        workspace.segments.update(
            "France", definition=parse_where("country IN ('FR', 'DE')")
        )
    made = plans.made

    run = place.run()

    assert plans.made == made + 1
    assert place.members(run)["France"] == FRANCE | GERMANY


def test_a_changed_mapping_is_planned_again(place: Place, plans: Plans) -> None:
    """Mapping another field changes every row's body: both segments are planned."""
    _quiet(place)
    with open_workspace(place.settings) as workspace:
        workspace.exports.edit(EXPORT, fields={"plan": "plan", "country": "country"})
    made = plans.made

    run = place.run()

    assert plans.made == made + 2
    assert [part.updated for part in run.segments] == [len(FRANCE), len(GERMANY)]


def test_a_full_resync_always_plans(place: Place, plans: Plans) -> None:
    """A full resync sends every member again, memo or not."""
    _quiet(place)
    made = plans.made

    with open_workspace(place.settings) as workspace:
        run = run_export(workspace, EXPORT, full_resync=True)

    assert plans.made == made + 2
    assert sum(part.updated for part in run.segments) == len(FRANCE | GERMANY)


def test_a_list_deleted_in_iterable_is_refilled(place: Place) -> None:
    """A deleted list drops the sync state, so the recreated list gets everyone."""
    quiet = _quiet(place)
    france_list = quiet.segments[0].list_id

    async def delete() -> None:
        async with IterableClient(DEFAULT_API_KEY, base_url=place.url) as client:
            await client.delete_list(france_list or 0)

    asyncio.run(delete())

    run = place.run()

    assert run.segments[0].list_action == "recreated"
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}


def test_a_damaged_memo_is_ignored(place: Place, plans: Plans) -> None:
    """A memo that is not valid JSON, or whose files changed, means planning."""
    _quiet(place)
    first, second = _memos(place)
    first.write_text("{not json", encoding="utf-8")
    (second.parent / "invalid.parquet").write_bytes(b"changed")
    made = plans.made

    run = place.run()

    assert plans.made == made + 2
    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}
    assert len(_memos(place)) == 2  # each plan sent nothing again: remembered anew


def test_the_recalled_run_is_in_the_segments_history(place: Place) -> None:
    """The segment's history counts its members at the run that skipped planning."""
    _quiet(place)
    with open_workspace(place.settings) as workspace:
        before = len(workspace.segments.history("France"))

    place.run()

    with open_workspace(place.settings) as workspace:
        history = workspace.segments.history("France")
    assert len(history) == before + 1
    assert history[0].member_count == len(FRANCE) + 2  # C5 malformed, C6 duplicate


def test_the_memo_keeps_its_files_private(place: Place) -> None:
    """The remembered rejects hold emails: their files are the owner's alone."""
    _quiet(place)

    folder = memo_folder(place.settings.run_files, 1)

    modes = {path.name: path.stat().st_mode & 0o777 for path in folder.iterdir()}
    assert modes == dict.fromkeys(modes, 0o600)
    assert set(modes) == {MEMO_FILE, "plan.parquet", "invalid.parquet"}


def test_new_changes_to_the_sync_state_change_the_plan_key(tmp_path: Path) -> None:
    """A commit that wrote only the state's changes still makes the memo miss."""
    state = tmp_path / "state.parquet"
    state.write_bytes(b"base")

    def key() -> str:
        return plan_key(
            members="m", mapping=ExportMapping("email"), state=state,
            state_key="k", list_id=1, forgotten=(), policy=BatchPolicy(),
        )  # fmt: skip

    before = key()
    changes_path(state).write_bytes(b"changes")
    first = key()
    changes_path(state).write_bytes(b"other changes")

    assert len({before, first, key()}) == 3
