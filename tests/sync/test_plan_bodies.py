"""A plan's rows carry their request JSON; the sender reads it without parsing."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencesync.iterable.batching import BatchPolicy, member_row
from audiencesync.sync import batches as batches_module
from audiencesync.sync.batches import (
    batch_identities,
    batch_profile_keys,
    read_encoded_batches,
    read_plan_batches,
)
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import plan_binding
from audiencesync.sync.state import commit_state

WITH_ID = ExportMapping("email", user_id_field="uid", fields={"note": "note"})
EMAIL_ONLY = ExportMapping("email")


def plan(
    out: Path,
    rows: Sequence[tuple[int, str, str | None, str | None]],
    mapping: ExportMapping = WITH_ID,
    *,
    max_items: int = 1000,
) -> None:
    """Plan members (id, email, uid, note) against the state beside ``out``."""
    ids, emails, uids, notes = zip(*rows, strict=True) if rows else ((), (), (), ())
    members = pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "email": pa.array(emails, pa.string()),
            "uid": pa.array(uids, pa.string()),
            "note": pa.array(notes, pa.string()),
        }
    )
    plan_binding(
        [members],
        mapping=mapping,
        state=out.parent / "state.parquet",
        out=out,
        policy=BatchPolicy(max_items=max_items),
    )


def decoded(out: Path) -> list[object]:
    """Every encoded row of the plan, parsed back, in send order."""
    return [orjson.loads(row) for b in read_encoded_batches(out) for row in b.rows]


def expected(out: Path) -> list[object]:
    """What ``member_row`` makes of the plan's rows, in send order."""
    return [
        member_row(email, user_id, fields)
        if b.action == "subscribe"
        else {"email": email}
        for b in read_plan_batches(out)
        for email, user_id, fields in b.rows
    ]


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=60, deadline=None)
@given(uid=st.one_of(st.none(), text), note=st.one_of(st.none(), text))
def test_an_encoded_row_is_what_member_row_encodes(
    uid: str | None, note: str | None
) -> None:
    """Quotes, backslashes, control and non-ASCII characters survive the encoding."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        plan(out, [(1, "ann@x.com", uid, note)])
        assert decoded(out) == expected(out)


def test_unsubscribe_rows_go_by_email_alone(tmp_path: Path) -> None:
    """A leaver's row holds only its email, whatever the state knew of it."""
    out = tmp_path / "run"
    plan(out, [(1, "ann@x.com", "u1", "a"), (2, "bob@x.com", "u2", "b")])
    commit_state(tmp_path / "state.parquet", out / "plan.parquet", [1])
    plan(out, [(1, "ann@x.com", "u1", "a")])
    assert decoded(out) == [{"email": "bob@x.com"}]


def test_rows_without_fields_hold_only_the_email(tmp_path: Path) -> None:
    """With no userId and no mapped field, the row is ``{"email": ...}``."""
    out = tmp_path / "run"
    plan(out, [(1, "ann@x.com", None, None)], EMAIL_ONLY)
    [batch] = read_encoded_batches(out)
    assert batch.rows == [b'{"email":"ann@x.com"}']


def test_encoded_batches_skip_acknowledged_ones(tmp_path: Path) -> None:
    """Batches in ``skip`` are not read back, across Parquet read chunks too."""
    out = tmp_path / "run"
    members = [(i, f"u{i:05}@x.com", None, None) for i in range(40_000)]
    plan(out, members, EMAIL_ONLY, max_items=3)
    batches = list(read_encoded_batches(out, skip=set(range(2, 13_334))))
    assert [(b.number, len(b.rows)) for b in batches] == [(1, 3), (13_334, 1)]
    assert orjson.loads(batches[1].rows[0]) == {"email": "u39999@x.com"}


def test_small_and_large_plans_are_read_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB (small plans) and Arrow (large ones) give the same batches and rows."""
    out = tmp_path / "run"
    members = [(i, f"u{i:05}@x.com", f"id{i}", "é ☃") for i in range(5_000)]
    plan(out, members, max_items=7)
    skip = set(range(3, 400, 5))
    small = list(read_encoded_batches(out, skip=skip))
    monkeypatch.setattr(batches_module, "SMALL_PLAN_ROWS", 0)
    large = list(read_encoded_batches(out, skip=skip))
    assert small == large
    assert len(small) == 715 - len(skip)


def test_a_plan_without_bodies_is_encoded_when_read(tmp_path: Path) -> None:
    """A plan persisted before rows carried their JSON still sends the same rows."""
    out = tmp_path / "run"
    plan(out, [(1, "ann@x.com", "u1", "a"), (2, "bob@x.com", None, "b")])
    before = decoded(out)
    path = out / "plan.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["body"]), path)
    assert decoded(out) == before


def test_batch_identities_are_read_from_the_plan(tmp_path: Path) -> None:
    """One batch's (email, userId) pairs, in its row order; leavers without userId."""
    out = tmp_path / "run"
    plan(out, [(1, "ann@x.com", "u1", "a"), (2, "bob@x.com", None, "b")], max_items=1)
    assert batch_identities(out, 1) == [("ann@x.com", "u1")]
    assert batch_identities(out, 2) == [("bob@x.com", None)]


def test_batch_identities_keep_the_batchs_order_in_a_large_plan(tmp_path: Path) -> None:
    """Read from a plan of many row groups, a batch's rows come as they are sent."""
    out = tmp_path / "run"
    members = [(i, f"u{(i * 7919) % 300_000:06}@x.com", f"id{i}", None)
               for i in range(300_000)]  # fmt: skip
    plan(out, members, max_items=1000)
    sent = {b.number: b.rows for b in read_encoded_batches(out, skip=set())}
    for number in (1, 150, 300):
        identities = batch_identities(out, number)
        rows = [orjson.loads(row) for row in sent[number]]
        assert identities == [(row["email"], row["userId"]) for row in rows]


def test_batch_profile_keys_name_each_joiners_profile(tmp_path: Path) -> None:
    """Email to profile key for one batch's rows; other batches' rows are left out."""
    out = tmp_path / "run"
    plan(out, [(1, "ann@x.com", "u1", "a"), (2, "bob@x.com", None, "b")], max_items=1)
    assert batch_profile_keys(out, 2) == {"bob@x.com": "2"}


def test_a_plan_without_profile_keys_names_none(tmp_path: Path) -> None:
    """A plan written before rows carried their profile key gives an empty mapping."""
    out = tmp_path / "run"
    plan(out, [(1, "ann@x.com", "u1", "a")])
    path = out / "plan.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["profile_key"]), path)
    assert batch_profile_keys(out, 1) == {}
