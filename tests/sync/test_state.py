"""Sync state: committing acknowledged batches, and what the state then holds."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.files import temporary_path
from audiencesync.sync.mapping import ExportMapping, Mode
from audiencesync.sync.plan import PlanSummary, plan_binding
from audiencesync.sync.state import (
    adopt_state,
    commit_state,
    expected_members,
    prepare_state,
)
from tests.sync.state_rows import state_emails as state_order

SMALL = BatchPolicy(max_items=2)


def plan(
    folder: Path, emails: Sequence[str | None], *, mode: Mode = "mirror"
) -> PlanSummary:
    """Plan members with these emails (keys in order) in batches of two."""
    members = pa.record_batch(
        {"id": list(range(len(emails))), "email": pa.array(emails, pa.string())}
    )
    return plan_binding(
        [members],
        mapping=ExportMapping("email", mode=mode),
        state=folder / "state.parquet",
        out=folder / "run",
        policy=SMALL,
    )


def commit(folder: Path, acked: Sequence[int], rejected: Path | None = None) -> None:
    """Commit the ``acked`` batches of the last plan."""
    commit_state(
        folder / "state.parquet",
        folder / "run" / "plan.parquet",
        acked,
        rejected=rejected,
    )


def state_emails(folder: Path) -> list[str]:
    """Emails in the state, in its order."""
    return state_order(folder / "state.parquet")


def test_commit_adds_acked_subscribe_rows(tmp_path: Path) -> None:
    """Subscribe rows of acknowledged batches enter the state."""
    plan(tmp_path, ["b@x.com", "a@x.com", "c@x.com"])
    commit(tmp_path, [1, 2])
    assert sorted(state_emails(tmp_path)) == ["a@x.com", "b@x.com", "c@x.com"]
    assert expected_members(tmp_path / "state.parquet") == 3


def test_kept_rows_come_first_then_new_ones_in_plan_order(tmp_path: Path) -> None:
    """The file's order is stable without a sort: survivors, then joiners."""
    plan(tmp_path, ["z@x.com", "y@x.com", "x@x.com"])
    commit(tmp_path, [1, 2])
    plan(tmp_path, ["z@x.com", "x@x.com", "b@x.com", "a@x.com"])
    commit(tmp_path, [1, 2])
    assert state_emails(tmp_path) == ["z@x.com", "x@x.com", "b@x.com", "a@x.com"]


def test_commit_removes_acked_unsubscribe_rows(tmp_path: Path) -> None:
    """Unsubscribe rows of acknowledged batches leave the state."""
    plan(tmp_path, ["a@x.com", "b@x.com"])
    commit(tmp_path, [1])
    plan(tmp_path, ["a@x.com"])
    commit(tmp_path, [1])
    assert state_emails(tmp_path) == ["a@x.com"]


def test_partial_acks_apply_only_acked_batches(tmp_path: Path) -> None:
    """A batch without an ack is not recorded as synced (T02)."""
    plan(tmp_path, ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"])
    commit(tmp_path, [2])
    assert state_emails(tmp_path) == ["c@x.com", "d@x.com"]


def test_commit_is_idempotent(tmp_path: Path) -> None:
    """Committing the same acks twice gives a byte-identical state (crash repair)."""
    plan(tmp_path, ["a@x.com", "b@x.com", "c@x.com"])
    commit(tmp_path, [1, 2])
    first = (tmp_path / "state.parquet").read_bytes()
    commit(tmp_path, [1, 2])
    assert (tmp_path / "state.parquet").read_bytes() == first


@pytest.mark.parametrize(
    ("rejected", "expected"),
    [
        ([(1, "A@x.com")], ["b@x.com", "c@x.com"]),
        ([(2, "a@x.com")], ["a@x.com", "b@x.com", "c@x.com"]),
        ([], ["a@x.com", "b@x.com", "c@x.com"]),
    ],
    ids=["rejected-in-batch", "other-batch", "none"],
)
def test_rejected_rows_do_not_enter_the_state(
    tmp_path: Path, rejected: list[tuple[int, str]], expected: list[str]
) -> None:
    """Rows Iterable refused inside an acked batch are left out, per batch."""
    plan(tmp_path, ["a@x.com", "b@x.com", "c@x.com"])
    path = tmp_path / "rejected.parquet"
    batches, emails = zip(*rejected, strict=True) if rejected else ((), ())
    pq.write_table(
        pa.table(
            {
                "batch": pa.array(batches, pa.int64()),
                "email": pa.array(emails, pa.string()),
            }
        ),
        path,
    )
    commit(tmp_path, [1, 2], rejected=path)
    assert state_emails(tmp_path) == expected


def test_rejected_unsubscribe_stays_in_state(tmp_path: Path) -> None:
    """A leaver whose unsubscribe was refused is still owned, and retried later."""
    plan(tmp_path, ["a@x.com"])
    commit(tmp_path, [1])
    plan(tmp_path, [])
    path = tmp_path / "rejected.parquet"
    pq.write_table(pa.table({"batch": [1], "email": ["a@x.com"]}), path)
    commit(tmp_path, [1], rejected=path)
    assert state_emails(tmp_path) == ["a@x.com"]


def test_leftover_temporary_file_does_not_break_the_next_commit(tmp_path: Path) -> None:
    """A half-written temporary file from a crash is overwritten, state intact."""
    plan(tmp_path, ["a@x.com"])
    temporary_path(tmp_path / "state.parquet").write_bytes(b"PAR1 half written")
    commit(tmp_path, [1])
    assert state_emails(tmp_path) == ["a@x.com"]
    assert not temporary_path(tmp_path / "state.parquet").exists()


def test_missing_state_is_empty(tmp_path: Path) -> None:
    """A binding that never committed expects no members."""
    assert expected_members(tmp_path / "state.parquet") == 0


def test_commit_without_a_plan_is_refused(tmp_path: Path) -> None:
    """Committing needs the plan the acks refer to."""
    with pytest.raises(FileNotFoundError, match="no plan"):
        commit(tmp_path, [1])


EMAILS = st.lists(
    st.tuples(
        st.sampled_from(["a", "B", "c", "d", "e", "f"]), st.sampled_from(["", " "])
    ).map(lambda pair: f"{pair[1]}{pair[0]}@x.com")
    | st.sampled_from(["", "bad", None]),
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(
    runs=st.lists(EMAILS, min_size=1, max_size=5),
    mode=st.sampled_from(["mirror", "add-only"]),
)
def test_state_follows_members_after_each_full_commit(
    runs: list[list[str | None]], mode: Mode
) -> None:
    """After plan + commit of all batches: mirror = valid members, add-only = union."""
    union: set[str] = set()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for emails in runs:
            summary = plan(folder, emails, mode=mode)
            commit(
                folder,
                range(1, summary.subscribe_batches + summary.unsubscribe_batches + 1),
            )
            valid = {e.strip().lower() for e in emails if e and "@" in e}
            union |= valid
            expected = valid if mode == "mirror" else union
            assert sorted(state_emails(folder)) == sorted(expected)
            assert expected_members(folder / "state.parquet") == len(expected)


def test_a_prepared_state_is_what_committing_every_batch_writes(
    tmp_path: Path,
) -> None:
    """prepare_state then adopt_state gives the very file commit_state writes."""
    plan(tmp_path, ["z@x.com", "y@x.com", "x@x.com"])
    commit(tmp_path, [1, 2])
    summary = plan(tmp_path, ["x@x.com", "b@x.com", "a@x.com"])
    batches = summary.subscribe_batches + summary.unsubscribe_batches
    state, plan_file = tmp_path / "state.parquet", tmp_path / "run" / "plan.parquet"
    prepared = prepare_state(state, plan_file, batches, out=tmp_path / "ready.parquet")
    committed = tmp_path / "committed.parquet"
    shutil.copy(state, committed)
    commit_state(committed, plan_file, range(1, batches + 1))

    adopt_state(prepared, state)

    assert state.read_bytes() == committed.read_bytes()
    assert not prepared.exists()
