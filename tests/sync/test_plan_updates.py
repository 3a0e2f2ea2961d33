"""Which subscribe rows update someone already listed: the plan says so itself."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import PLAN_FILE, plan_binding
from audiencesync.sync.sending import updates_by_batch
from audiencesync.sync.state import commit_state

MAPPING = ExportMapping("email", fields={"plan": "plan"})


def members(plans: dict[int, str]) -> pa.RecordBatch:
    """Member ``i`` has ``p<i>@x.com`` and the given plan."""
    ids = sorted(plans)
    return pa.record_batch(
        {
            "id": ids,
            "email": [f"p{i}@x.com" for i in ids],
            "plan": [plans[i] for i in ids],
        }
    )


def planned(folder: Path, plans: dict[int, str]) -> Path:
    """Plan ``plans`` against the state in ``folder`` (batches of 3); the plan."""
    plan_binding(
        [members(plans)], mapping=MAPPING, state=folder / "state.parquet",
        out=folder / "run", policy=BatchPolicy(max_items=3),
    )  # fmt: skip
    return folder / "run" / PLAN_FILE


def churned(folder: Path) -> Path:
    """Ten people synced; then 0-3 change their plan, 8-9 leave, 10-12 join."""
    plan = planned(folder, dict.fromkeys(range(10), "free"))
    commit_state(folder / "state.parquet", plan, range(1, 99))
    now = dict.fromkeys(range(8), "free") | dict.fromkeys(range(10, 13), "free")
    return planned(folder, now | dict.fromkeys(range(4), "gold"))


def test_a_plan_marks_the_subscribe_rows_of_people_in_the_state(tmp_path: Path) -> None:
    """Changed members are updates, batch by batch; joiners and leavers are not."""
    plan = churned(tmp_path)
    updates = updates_by_batch(plan, tmp_path / "state.parquet")
    assert updates == {
        1: {"p0@x.com", "p1@x.com", "p2@x.com"},
        2: {"p3@x.com"},
    }


def test_a_plan_written_before_the_mark_is_joined_with_the_state(
    tmp_path: Path,
) -> None:
    """An older plan (resumed after an upgrade) gives the same updates."""
    plan = churned(tmp_path)
    marked = updates_by_batch(plan, tmp_path / "state.parquet")
    pq.write_table(pq.read_table(plan).drop_columns(["in_state"]), plan)
    assert updates_by_batch(plan, tmp_path / "state.parquet") == marked


def test_nobody_is_an_update_without_a_state(tmp_path: Path) -> None:
    """A first run only adds."""
    plan = planned(tmp_path, dict.fromkeys(range(5), "free"))
    assert updates_by_batch(plan, tmp_path / "state.parquet") == {}
