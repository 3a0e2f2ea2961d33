"""Sync state kept as a base and its changes: small commits write only the changes."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from audiencesync.core.parquet_facts import parquet_key_values, parquet_rows
from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import PLAN_FILE, plan_binding
from audiencesync.sync.state import (
    CHANGES_FLOOR,
    StateIdentity,
    adopt_state,
    changes_path,
    commit_state,
    expected_members,
    live_changes,
    prepare_state,
    read_identity,
    remove_state,
)
from tests.sync.state_rows import state_emails, state_rows

POLICY = BatchPolicy(max_items=1000)
IDENTITY = StateIdentity("key-1", 7)


def emails(low: int, high: int) -> list[str]:
    """Distinct valid emails numbered ``low`` to ``high - 1``."""
    return [f"p{i}@x.com" for i in range(low, high)]


def plan(state: Path, members: Sequence[str], out: Path) -> int:
    """Plan ``members`` against ``state`` into ``out``; the plan's batch count."""
    batch = pa.record_batch(
        {"id": list(range(len(members))), "email": pa.array(members, pa.string())}
    )
    summary = plan_binding(
        [batch], mapping=ExportMapping("email"), state=state, out=out, policy=POLICY
    )
    return summary.subscribe_batches + summary.unsubscribe_batches


def sync(folder: Path, members: Sequence[str], run: str) -> int:
    """Plan ``members`` against the state in ``folder`` and commit every batch."""
    out = folder / run
    batches = plan(folder / "state.parquet", members, out)
    commit_state(folder / "state.parquet", out / PLAN_FILE, range(1, batches + 1),
                 identity=IDENTITY)  # fmt: skip
    return batches


def recommit(folder: Path, run: str, batches: int) -> None:
    """Commit every batch of ``run``'s plan to the state in ``folder`` once more."""
    commit_state(folder / "state.parquet", folder / run / PLAN_FILE,
                 range(1, batches + 1), identity=IDENTITY)  # fmt: skip


def members(state: Path) -> set[str]:
    """The state's emails."""
    return set(state_emails(state))


def test_a_small_change_writes_only_the_changes(tmp_path: Path) -> None:
    """1 % churn of a list leaves the base's bytes alone and writes a changes file."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 1000), "run1")
    base = state.read_bytes()
    sync(tmp_path, emails(10, 1010), "run2")
    assert state.read_bytes() == base
    assert live_changes(state) == changes_path(state)
    assert members(state) == set(emails(10, 1010))
    assert expected_members(state) == 1000


def test_the_changes_keep_the_order_a_whole_rewrite_gives(tmp_path: Path) -> None:
    """Base rows no change touched, in order, then joiners in the plan's order."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 5), "run1")
    sync(tmp_path, [*emails(2, 5), "b@x.com", "a@x.com"], "run2")
    sync(tmp_path, [*emails(3, 5), "b@x.com", "a@x.com", "c@x.com"], "run3")
    assert live_changes(state) is not None
    assert [e for e, _, _ in state_rows(state)] == [*emails(3, 5), "b@x.com", "a@x.com",
                                                "c@x.com"]  # fmt: skip


def test_changes_over_the_limit_are_written_as_a_new_base(tmp_path: Path) -> None:
    """Once the changes outgrow the floor and the share, one base holds the state."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 50), "run2")
    assert live_changes(state) is not None
    sync(tmp_path, emails(0, CHANGES_FLOOR + 200), "run3")
    assert live_changes(state) is None
    assert not changes_path(state).exists()
    assert members(state) == set(emails(0, CHANGES_FLOOR + 200))
    assert expected_members(state) == CHANGES_FLOOR + 200
    assert read_identity(state) == IDENTITY


def test_recommitting_a_changes_commit_gives_the_same_state(tmp_path: Path) -> None:
    """A crash after the changes were written is repaired by committing again."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    batches = sync(tmp_path, emails(5, 105), "run2")
    before = state_rows(state)
    recommit(tmp_path, "run2", batches)
    assert state_rows(state) == before
    assert expected_members(state) == 100


def test_changes_left_by_a_replaced_base_are_ignored(tmp_path: Path) -> None:
    """Changes of an earlier base (a crash before they were removed) are not read."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 90), "run2")
    stale = tmp_path / "stale.parquet"
    shutil.copy(changes_path(state), stale)
    sync(tmp_path, emails(0, CHANGES_FLOOR + 200), "run3")  # a new base
    shutil.copy(stale, changes_path(state))
    assert live_changes(state) is None
    assert members(state) == set(emails(0, CHANGES_FLOOR + 200))


def test_changes_of_another_binding_are_ignored(tmp_path: Path) -> None:
    """Changes whose identity is not the base's are not part of the state."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 90), "run2")
    moved = tmp_path / "other"
    moved.mkdir()
    shutil.copy(changes_path(state), moved / "keep.parquet")
    other = StateIdentity("key-2", 7)
    commit_state(state, tmp_path / "run1" / PLAN_FILE, [1], identity=other)
    assert read_identity(state) == other  # another owner: a whole new base
    shutil.copy(moved / "keep.parquet", changes_path(state))
    assert live_changes(state) is None
    assert members(state) == set(emails(0, 100))


def test_a_prepared_changes_file_is_what_the_commit_writes(tmp_path: Path) -> None:
    """prepare_state then adopt_state gives the very changes commit_state writes."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    out = tmp_path / "run2"
    batches = plan(state, emails(5, 100), out)
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(state, copy / "state.parquet")
    prepared = prepare_state(state, out / PLAN_FILE, batches,
                             out=out / "ready.parquet", identity=IDENTITY)  # fmt: skip
    commit_state(copy / "state.parquet", out / PLAN_FILE, range(1, batches + 1),
                 identity=IDENTITY)  # fmt: skip
    adopt_state(prepared, state)
    assert changes_path(state).read_bytes() == (
        changes_path(copy / "state.parquet").read_bytes()
    )
    assert state.read_bytes() == (copy / "state.parquet").read_bytes()
    assert not prepared.exists()


def test_a_changes_file_says_what_it_is(tmp_path: Path) -> None:
    """Its metadata names the kind, the base's generation, the members, the owner."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 97), "run2")
    facts = parquet_key_values(changes_path(state))
    base = parquet_key_values(state)
    assert facts["audiencesync_state_kind"] == "changes-3"
    assert (
        facts["audiencesync_state_generation"]
        == (base["audiencesync_state_generation"])
    )
    assert facts["audiencesync_state_members"] == "97"
    assert read_identity(changes_path(state)) == IDENTITY


def test_removing_a_state_removes_its_changes(tmp_path: Path) -> None:
    """No changes file outlives its base: nobody's emails are left behind."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 90), "run2")
    remove_state(state)
    assert not state.exists()
    assert not changes_path(state).exists()
    assert expected_members(state) == 0


def test_a_removal_the_base_never_held_is_not_counted(tmp_path: Path) -> None:
    """Someone who joined and left since the base was written is gone, and uncounted."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 110), "run2")
    sync(tmp_path, emails(0, 100), "run3")
    assert parquet_rows(changes_path(state)) == 10  # their rows, as removals
    assert members(state) == set(emails(0, 100))
    assert expected_members(state) == 100


def test_recommitting_a_removal_the_base_never_held_counts_true(
    tmp_path: Path,
) -> None:
    """A crash after such a removal was committed, repaired by committing again."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 110), "run2")
    batches = sync(tmp_path, emails(0, 100), "run3")
    before = state_rows(state)
    recommit(tmp_path, "run3", batches)
    assert state_rows(state) == before
    assert expected_members(state) == 100


def test_a_plan_committed_in_two_steps_counts_true(tmp_path: Path) -> None:
    """Its first batch, then both: the first batch's removals count once."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 2000), "run1")
    joiners = [f"a{i}@x.com" for i in range(50)]  # before the base's in email order
    sync(tmp_path, [*emails(0, 2000), *joiners], "run2")
    out = tmp_path / "run3"
    assert plan(state, emails(0, 1000), out) == 2  # the joiners leave in the first
    commit_state(state, out / PLAN_FILE, [1], identity=IDENTITY)
    commit_state(state, out / PLAN_FILE, [1, 2], identity=IDENTITY)
    assert members(state) == set(emails(0, 1000))
    assert expected_members(state) == 1000


def test_a_plan_made_against_an_earlier_base_counts_true(tmp_path: Path) -> None:
    """A plan committed after its base was replaced still counts the members right."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    late = tmp_path / "late"
    batches = plan(state, emails(50, 150), late)
    sync(tmp_path, emails(0, CHANGES_FLOOR + 200), "run2")  # a new base meanwhile
    commit_state(state, late / PLAN_FILE, range(1, batches + 1), identity=IDENTITY)
    assert live_changes(state) is not None
    expected = set(emails(50, CHANGES_FLOOR + 200))
    assert members(state) == expected
    assert expected_members(state) == len(expected)


def test_changes_of_an_unknown_format_are_not_read(tmp_path: Path) -> None:
    """An older changes file is ignored: the base alone, and the next sync is right."""
    state = tmp_path / "state.parquet"
    sync(tmp_path, emails(0, 100), "run1")
    sync(tmp_path, emails(0, 90), "run2")
    facts = parquet_key_values(changes_path(state))
    older = {**facts, "audiencesync_state_kind": "changes"}
    pairs = ", ".join(f"{key}: '{value}'" for key, value in older.items())
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT email, user_id, field_hash, removed"  # noqa: S608
            f" FROM '{changes_path(state)}') TO '{tmp_path / 'older.parquet'}'"
            f" (FORMAT parquet, KV_METADATA {{{pairs}}})"
        )
    (tmp_path / "older.parquet").replace(changes_path(state))

    assert live_changes(state) is None
    assert members(state) == set(emails(0, 100))
    sync(tmp_path, emails(0, 80), "run3")
    assert members(state) == set(emails(0, 80))
    assert expected_members(state) == 80
