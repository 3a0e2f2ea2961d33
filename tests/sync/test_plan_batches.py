"""Batches of a plan: sizes, numbering, the body limit, and reading them back."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.batches import read_plan_batches
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import PlanSummary, plan_binding
from audiencesync.sync.state import commit_state

MAPPING = ExportMapping("email", fields={"note": "note"})


def plan(
    tmp_path: Path, emails: list[str], *, note: str = "n", policy: BatchPolicy
) -> PlanSummary:
    """Plan members with the given emails and one ``note`` field each."""
    members = pa.record_batch(
        {"id": list(range(len(emails))), "email": emails, "note": [note] * len(emails)}
    )
    return plan_binding(
        [members],
        mapping=MAPPING,
        state=tmp_path / "state.parquet",
        out=tmp_path / "run",
        policy=policy,
    )


def emails(start: int, stop: int) -> list[str]:
    """``user<i>@x.com`` for i in the range."""
    return [f"user{i:05}@x.com" for i in range(start, stop)]


@pytest.mark.parametrize(
    ("members", "max_items", "sizes"),
    [
        (0, 10, []),
        (10, 10, [10]),
        (25, 10, [10, 10, 5]),
        (7, 1, [1] * 7),
    ],
    ids=["none", "exact", "remainder", "singletons"],
)
def test_batches_hold_at_most_max_items(
    tmp_path: Path, members: int, max_items: int, sizes: list[int]
) -> None:
    """Rows are cut into batches of ``max_items``, numbered from 1."""
    summary = plan(
        tmp_path, emails(0, members), policy=BatchPolicy(max_items=max_items)
    )
    batches = list(read_plan_batches(tmp_path / "run"))
    assert [len(b.rows) for b in batches] == sizes
    assert [b.number for b in batches] == list(range(1, len(sizes) + 1))
    assert summary.subscribe_batches == len(sizes)


def test_subscribe_batches_come_before_unsubscribe_batches(tmp_path: Path) -> None:
    """Subscribe batches are numbered first, then unsubscribe batches."""
    policy = BatchPolicy(max_items=3)
    plan(tmp_path, emails(0, 5), policy=policy)
    commit_state(tmp_path / "state.parquet", tmp_path / "run" / "plan.parquet", [1, 2])
    summary = plan(tmp_path, emails(5, 9), policy=policy)
    batches = [
        (b.number, b.action, len(b.rows)) for b in read_plan_batches(tmp_path / "run")
    ]
    assert batches == [
        (1, "subscribe", 3),
        (2, "subscribe", 1),
        (3, "unsubscribe", 3),
        (4, "unsubscribe", 2),
    ]
    assert (summary.subscribe_batches, summary.unsubscribe_batches) == (2, 2)


def test_big_data_fields_respect_the_body_limit(tmp_path: Path) -> None:
    """Rows with large dataFields are cut so each body stays under max_bytes."""
    policy = BatchPolicy(max_items=1000, max_bytes=64_000)
    plan(tmp_path, emails(0, 40), note="x" * 5_000, policy=policy)
    batches = list(read_plan_batches(tmp_path / "run"))
    bodies = [
        len(
            orjson.dumps(
                {
                    "listId": 1,
                    "subscribers": [
                        {"email": e, "dataFields": d} for e, _, d in b.rows
                    ],
                }
            )
        )
        for b in batches
    ]
    assert max(bodies) <= policy.max_bytes
    assert sum(len(b.rows) for b in batches) == 40
    assert len(batches) >= 4


def test_a_row_larger_than_a_body_is_invalid(tmp_path: Path) -> None:
    """A member whose own row cannot fit in a request is reported as too large."""
    summary = plan(
        tmp_path, emails(0, 2), note="x" * 5_000, policy=BatchPolicy(max_bytes=4_000)
    )
    assert summary.invalid_in_source == {"too_large": 2}


def test_four_megabyte_limit_by_default(tmp_path: Path) -> None:
    """The default policy keeps 1000 rows of 10 kB fields under 4 MiB per call."""
    plan(tmp_path, emails(0, 1000), note="y" * 10_000, policy=BatchPolicy())
    table = pq.read_table(tmp_path / "run" / "plan.parquet")
    per_batch: Counter[object] = Counter()
    for row in table.to_pylist():
        per_batch[row["batch"]] += len(str(row["data_fields"])) + 40
    assert max(per_batch.values()) <= 4 * 1024 * 1024
    assert len(per_batch) == 3


def test_read_plan_batches_skips_acknowledged_batches(tmp_path: Path) -> None:
    """Batches in ``skip`` are not read back (a resumed run sends the rest)."""
    plan(tmp_path, emails(0, 5), policy=BatchPolicy(max_items=2))
    batches = list(read_plan_batches(tmp_path / "run", skip={1, 3}))
    assert [(b.number, b.rows) for b in batches] == [
        (
            2,
            (
                ("user00002@x.com", None, {"note": "n"}),
                ("user00003@x.com", None, {"note": "n"}),
            ),
        )
    ]
