"""Planning one binding: who is subscribed, who is unsubscribed, who is invalid."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiencesync.core.emails import EMAIL_SQL_PATTERN, is_valid_email
from audiencesync.sync.batches import read_plan_batches
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import PlanSummary, plan_binding
from audiencesync.sync.state import commit_state

EMAIL_ONLY = ExportMapping("email")
WITH_FIELDS = ExportMapping("email", fields={"firstName": "name"})
Row = tuple[int, str | None, str | None]


def batch(rows: Sequence[Row]) -> pa.RecordBatch:
    """Members (id, email, name) as the segment engine streams them."""
    ids, emails, names = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "email": pa.array(emails, pa.string()),
            "name": pa.array(names, pa.string()),
        }
    )


def plan(
    tmp_path: Path,
    rows: Sequence[Row],
    mapping: ExportMapping = WITH_FIELDS,
    *,
    retry: Path | None = None,
    final: Path | None = None,
) -> PlanSummary:
    """Plan ``rows`` against the state in ``tmp_path``."""
    return plan_binding(
        [batch(rows)],
        mapping=mapping,
        state=tmp_path / "state.parquet",
        out=tmp_path / "run",
        retry=retry,
        final=final,
    )


def planned(tmp_path: Path) -> list[tuple[str, str]]:
    """(action, email) of each plan row, in file order."""
    table = pq.read_table(tmp_path / "run" / "plan.parquet")
    actions = [str(action) for action in table["action"].to_pylist()]
    return list(zip(actions, map(str, table["email"].to_pylist()), strict=True))


def commit_all(tmp_path: Path) -> None:
    """Commit every batch of the last plan."""
    commit_state(
        tmp_path / "state.parquet", tmp_path / "run" / "plan.parquet", range(1, 99)
    )


def emails_file(path: Path, emails: Sequence[str]) -> Path:
    """A Parquet file with an ``email`` column."""
    pq.write_table(pa.table({"email": pa.array(emails, pa.string())}), path)
    return path


def test_first_run_subscribes_every_valid_member(tmp_path: Path) -> None:
    """With no state, every valid member is a subscribe row, in profile key order."""
    summary = plan(tmp_path, [(2, "a@x.com", "A"), (1, "b@x.com", "B")])
    assert planned(tmp_path) == [("subscribe", "b@x.com"), ("subscribe", "a@x.com")]
    assert (summary.to_add, summary.members, summary.subscribe_batches) == (2, 2, 1)


def test_leavers_are_unsubscribed_in_email_order(tmp_path: Path) -> None:
    """Leavers have no profile any more: their rows follow the joiners, by email."""
    plan(tmp_path, [(1, "z@x.com", "Z"), (2, "y@x.com", "Y")], EMAIL_ONLY)
    commit_all(tmp_path)
    plan(tmp_path, [(3, "b@x.com", "B")], EMAIL_ONLY)
    assert planned(tmp_path) == [
        ("subscribe", "b@x.com"),
        ("unsubscribe", "y@x.com"),
        ("unsubscribe", "z@x.com"),
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   \t ", "empty"),
        ("not-an-email", "malformed"),
        ("a@b", "malformed"),
        ("a b@x.com", "malformed"),
        ("a@x.com", None),
        ("  A@X.Com\t", None),
    ],
    ids=[
        "null",
        "empty",
        "whitespace",
        "no-at",
        "no-tld",
        "inner-space",
        "valid",
        "case",
    ],
)
def test_invalid_reason(tmp_path: Path, raw: str | None, reason: str | None) -> None:
    """Each email is normalised, then either planned or reported with its reason."""
    summary = plan(tmp_path, [(1, raw, "n")])
    invalid = pq.read_table(tmp_path / "run" / "invalid.parquet").to_pylist()
    expected = [{"profile_key": 1, "email": raw, "reason": reason}] if reason else []
    assert invalid == expected
    assert summary.invalid_in_source == ({reason: 1} if reason else {})


@pytest.mark.parametrize(
    "raw",
    [" \t Ann@x.com\n ", "\r\nann@x.com", "ann@x.com\x0b\x0c", "  ann@x.com"],
    ids=["mixed", "leading-newline", "trailing-vt-ff", "spaces"],
)
def test_any_surrounding_whitespace_is_trimmed(tmp_path: Path, raw: str) -> None:
    """Spaces, tabs, newlines, vertical tabs and form feeds, mixed, at either end."""
    plan(tmp_path, [(1, raw, "A")])
    assert planned(tmp_path) == [("subscribe", "ann@x.com")]


def test_other_control_characters_are_not_trimmed(tmp_path: Path) -> None:
    """A control character that is not whitespace makes the email malformed."""
    summary = plan(tmp_path, [(1, "\x01ann@x.com ", "A")])
    assert summary.invalid_in_source == {"malformed": 1}


def test_normalised_email_is_sent_lowercased_and_trimmed(tmp_path: Path) -> None:
    """Uppercase and surrounding spaces are normalised, not rejected."""
    plan(tmp_path, [(1, "  Ann@Example.COM ", "A")])
    assert planned(tmp_path) == [("subscribe", "ann@example.com")]


def test_duplicate_email_first_profile_by_key_wins(tmp_path: Path) -> None:
    """Later profiles (by key, not arrival) with the same email are duplicates."""
    summary = plan(tmp_path, [(3, "A@x.com", "third"), (1, "a@x.com ", "first")])
    plan_rows = pq.read_table(tmp_path / "run" / "plan.parquet").to_pylist()
    assert [row["data_fields"] for row in plan_rows] == ['{"firstName":"first"}']
    invalid = pq.read_table(tmp_path / "run" / "invalid.parquet").to_pylist()
    assert invalid == [{"profile_key": 3, "email": "A@x.com", "reason": "duplicate"}]
    assert summary.invalid_in_source == {"duplicate": 1}


@pytest.mark.parametrize(
    ("consent", "sent"),
    [(True, True), (False, False), (None, False)],
    ids=["true", "false", "null"],
)
def test_consent_column_drops_profiles(
    tmp_path: Path, consent: bool | None, sent: bool
) -> None:
    """Profiles whose consent is false or NULL are dropped and counted, not rejected."""
    members = pa.record_batch(
        {"id": [1], "email": ["a@x.com"], "ok": pa.array([consent], pa.bool_())}
    )
    mapping = ExportMapping("email", consent_column="ok")
    summary = plan_binding(
        [members], mapping=mapping, state=tmp_path / "s.parquet", out=tmp_path / "run"
    )
    assert (summary.to_add, summary.not_consenting) == ((1, 0) if sent else (0, 1))
    assert summary.invalid_in_source == {}


def test_second_run_without_changes_plans_nothing(tmp_path: Path) -> None:
    """After a committed run, the same members give an empty plan."""
    rows = [(1, "a@x.com", "A"), (2, "b@x.com", "B")]
    plan(tmp_path, rows)
    commit_all(tmp_path)
    summary = plan(tmp_path, rows)
    assert planned(tmp_path) == []
    assert (summary.unchanged, summary.to_add, summary.to_remove) == (2, 0, 0)


def test_joiners_leavers_and_changed_fields(tmp_path: Path) -> None:
    """Joiners and changed members are subscribed, leavers unsubscribed (mirror)."""
    plan(tmp_path, [(1, "a@x.com", "A"), (2, "b@x.com", "B"), (3, "c@x.com", "C")])
    commit_all(tmp_path)
    summary = plan(
        tmp_path, [(1, "a@x.com", "A"), (2, "b@x.com", "B2"), (4, "d@x.com", "D")]
    )
    assert planned(tmp_path) == [
        ("subscribe", "b@x.com"),
        ("subscribe", "d@x.com"),
        ("unsubscribe", "c@x.com"),
    ]
    counts = (summary.to_add, summary.to_update, summary.to_remove, summary.unchanged)
    assert counts == (1, 1, 1, 1)


def test_changed_user_id_is_an_update(tmp_path: Path) -> None:
    """A member whose userId changed is sent again with the new userId."""
    mapping = ExportMapping("email", user_id_field="name")
    plan(tmp_path, [(1, "a@x.com", "u1")], mapping)
    commit_all(tmp_path)
    summary = plan(tmp_path, [(1, "a@x.com", " u2 ")], mapping)
    table = pq.read_table(tmp_path / "run" / "plan.parquet")
    assert table["user_id"].to_pylist() == ["u2"]
    assert summary.to_update == 1


def test_add_only_never_unsubscribes(tmp_path: Path) -> None:
    """In add-only mode, leavers stay in the list and in the state."""
    add_only = ExportMapping("email", mode="add-only")
    plan(tmp_path, [(1, "a@x.com", "A")], add_only)
    commit_all(tmp_path)
    summary = plan(tmp_path, [(2, "b@x.com", "B")], add_only)
    assert planned(tmp_path) == [("subscribe", "b@x.com")]
    assert summary.to_remove == 0


@pytest.mark.parametrize(
    ("retry", "expected"),
    [(["A@x.com"], [("subscribe", "a@x.com")]), (["gone@x.com"], [])],
    ids=["still-member", "left"],
)
def test_retry_rows_are_sent_only_while_still_members(
    tmp_path: Path, retry: list[str], expected: list[tuple[str, str]]
) -> None:
    """Previous retryable rejects are re-sent when still members, else dropped."""
    plan(tmp_path, [(1, "a@x.com", "A")])
    commit_all(tmp_path)
    retry_file = emails_file(tmp_path / "retry.parquet", retry)
    summary = plan(tmp_path, [(1, "a@x.com", "A")], retry=retry_file)
    assert planned(tmp_path) == expected
    assert summary.retried == len(expected)


def test_forgotten_emails_are_never_sent_again(tmp_path: Path) -> None:
    """Emails Iterable reported as forgotten are excluded from subscribe rows."""
    final = emails_file(tmp_path / "final.parquet", ["a@x.com"])
    summary = plan(tmp_path, [(1, "a@x.com", "A"), (2, "b@x.com", "B")], final=final)
    assert planned(tmp_path) == [("subscribe", "b@x.com")]
    assert (summary.forgotten, summary.to_add) == (1, 1)


def test_plan_is_byte_identical_for_equal_inputs(tmp_path: Path) -> None:
    """Planning the same members twice (in any arrival order) gives the same bytes."""
    rows = [(i, f"user{i}@x.com", f"n{i % 7}") for i in range(2000)]
    plan(tmp_path / "one", rows)
    plan(tmp_path / "two", rows[::-1])
    for name in ("plan.parquet", "invalid.parquet"):
        one = (tmp_path / "one" / "run" / name).read_bytes()
        assert one == (tmp_path / "two" / "run" / name).read_bytes()


@settings(max_examples=60, deadline=None)
@given(
    extra=st.dictionaries(
        st.sampled_from(["phone", "address", "birthday", "note", "city"]),
        st.text(max_size=8),
        min_size=1,
    ),
    mapped=st.sets(st.sampled_from(["phone", "address", "birthday", "note", "city"])),
)
def test_only_mapped_fields_leave(extra: dict[str, str], mapped: set[str]) -> None:
    """Planned rows carry exactly the mapped fields, never another column (T17)."""
    columns = {"id": [1], "email": ["a@x.com"]} | {k: [v] for k, v in extra.items()}
    fields = {f"it_{name}": name for name in mapped if name in extra}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        plan_binding(
            [pa.record_batch(columns)],
            mapping=ExportMapping("email", fields=fields),
            state=Path(folder) / "state.parquet",
            out=out,
        )
        [sent] = [row for planned in read_plan_batches(out) for row in planned.rows]
    expected = {field: extra[column] for field, column in fields.items()}
    assert sent == ("a@x.com", None, expected or None)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[a-z0-9.@_+\-']{1,20}(\.[a-z]{1,4})?", fullmatch=True))
def test_sql_email_rule_matches_python_rule(email: str) -> None:
    """DuckDB's RE2 check accepts exactly what ``is_valid_email`` accepts."""
    row = duckdb.execute(
        "SELECT regexp_full_match(?, ?) AND strpos(?, '@') <= 65",
        [email, EMAIL_SQL_PATTERN, email],
    ).fetchone()
    assert row is not None
    assert row[0] == is_valid_email(email)
