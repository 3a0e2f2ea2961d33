"""A plan that is only counted (a dry run) says what the written plan would say."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencesync.iterable.batching import BatchPolicy
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE, PlanSummary, plan_binding
from audiencesync.sync.state import commit_state

MIRROR = ExportMapping("email", fields={"note": "note"})
ADD_ONLY = ExportMapping("email", fields={"note": "note"}, mode="add-only")
PEOPLE = 12


def members(joined: list[bool], notes: list[int]) -> pa.RecordBatch:
    """Who is a member now (one invalid email and one duplicate among them)."""
    rows = [(i, f"p{i}@x.com", "n" * notes[i]) for i in range(PEOPLE) if joined[i]]
    rows += [(100, "not-an-email", "n"), (101, "P0@X.com", "n")]
    ids, emails, texts = zip(*rows, strict=True)
    return pa.record_batch(
        {"id": list(ids), "email": list(emails), "note": list(texts)}
    )


def emails_file(path: Path, people: list[int]) -> Path:
    """A Parquet file of the people's emails (a retry or a final list)."""
    pq.write_table(pa.table({"email": [f"p{i}@x.com" for i in people]}), path)
    return path


@dataclass(frozen=True)
class Planning:
    """Everything but the members and ``rows``: the same for both plans."""

    mapping: ExportMapping
    policy: BatchPolicy
    full: bool
    retry: Path | None
    final: Path | None

    def plan(self, folder: Path, batch: pa.RecordBatch, *, rows: bool) -> PlanSummary:
        """Plan ``batch`` against the state in ``folder`` into ``folder / run``."""
        return plan_binding(
            [batch], mapping=self.mapping, state=folder / "state.parquet",
            out=folder / "run", retry=self.retry, final=self.final,
            policy=self.policy, full=self.full, rows=rows,
        )  # fmt: skip


@dataclass(frozen=True)
class Case:
    """Who was a member, who is now, and how the plan is made."""

    before: list[bool]
    after: list[bool]
    notes: list[int]  # each member's note length: 300 makes batches cut by size
    retried: list[int]
    forgotten: list[int]
    max_items: int
    mirror: bool
    full: bool


people = st.lists(st.booleans(), min_size=PEOPLE, max_size=PEOPLE)
cases = st.builds(
    Case,
    before=people,
    after=people,
    notes=st.lists(st.sampled_from([1, 300]), min_size=PEOPLE, max_size=PEOPLE),
    retried=st.lists(st.integers(0, PEOPLE - 1), max_size=3),
    forgotten=st.lists(st.integers(0, PEOPLE - 1), max_size=3),
    max_items=st.integers(1, 5),
    mirror=st.booleans(),
    full=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(case=cases)
def test_a_counted_plan_has_the_written_plans_summary(case: Case) -> None:
    """Counts and batches match, with batches cut by count or by size; no rows."""
    # 300-byte notes in batches of 2 KiB: batches are cut by size, not by count.
    big = 300 in case.notes
    policy = BatchPolicy(max_items=case.max_items, max_bytes=2048 if big else 4096)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        first = Planning(MIRROR, BatchPolicy(), False, None, None)
        first.plan(folder, members(case.before, [1] * PEOPLE), rows=True)
        commit_state(folder / "state.parquet", folder / "run" / PLAN_FILE, range(1, 99))
        planning = Planning(
            MIRROR if case.mirror else ADD_ONLY, policy, case.full,
            emails_file(folder / "retry.parquet", case.retried),
            emails_file(folder / "final.parquet", case.forgotten),
        )  # fmt: skip
        batch = members(case.after, case.notes)
        written = planning.plan(folder, batch, rows=True)
        invalid = pq.read_table(folder / "run" / INVALID_FILE)
        (folder / "run" / PLAN_FILE).unlink()
        counted = planning.plan(folder, batch, rows=False)
        assert counted == written
        assert not (folder / "run" / PLAN_FILE).exists()
        assert pq.read_table(folder / "run" / INVALID_FILE).equals(invalid)
