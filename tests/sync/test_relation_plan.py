"""Members on the embedded DuckDB engine are read where the plan is made (issue 14).

The plan's own DuckDB database runs the segment's query over the profile files
(:class:`~audiencesync.profiles.duckdb_engine.DuckDBRelation`); no member is
streamed through Python, and the plan is byte for byte the streamed one.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from audiencesync.app.workspace import open_workspace
from audiencesync.errors import EvaluationError
from audiencesync.profiles.duckdb_engine import DuckDBEngine
from audiencesync.segments.service import SegmentService
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE, plan_binding
from audiencesync.sync.state import commit_state
from tests.sync.place import FRANCE, GERMANY, Place, make_place

MAPPING = ExportMapping(
    email_field="email",
    user_id_field="uid",
    consent_column="opt_in",
    fields={"plan": "plan", "visits": "visits", "signup": "signup", "ltv": "ltv"},
)
QUERY = (
    'SELECT p.customer_id, p.email, p.uid, p.opt_in, p."plan", p.visits, p.signup,'
    " p.ltv FROM customers AS p WHERE p.customer_id IS NOT NULL"
)
EMAILS = [
    "ana@example.com", " Ana@Example.com", "ben@example.com\t", "not-an-email", "",
    None, "  ", "dan@example", "x" * 70 + "@example.com", "\r\nivy@example.com ",
]  # fmt: skip


def _profiles(seed: int, count: int = 500) -> pa.Table:
    """Messy profiles: shared, malformed, empty and missing emails, odd fields."""
    draw = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(count):
        email = draw.choice(EMAILS) if draw.random() < 0.2 else f"P{i}@Example.com"
        rows.append({
            "customer_id": f"C{i:05d}",
            "email": email,
            "uid": draw.choice([None, "", f" u{i} ", f"u{i}"]),
            "opt_in": draw.choice([True, True, False, None]),
            "plan": draw.choice(["gold", 'say "hi"', "été", None, "nul\x00byte"]),
            "visits": draw.choice([0, 7, 2**40, None]),
            "signup": draw.choice([dt.date(2026, 1, 10), None]),
            "ltv": draw.choice([Decimal("1500.50"), Decimal(0), None]),
        })  # fmt: skip
    types: dict[str, pa.DataType] = {
        "customer_id": pa.string(), "email": pa.string(), "uid": pa.string(),
        "opt_in": pa.bool_(), "plan": pa.string(), "visits": pa.int64(),
        "signup": pa.date32(), "ltv": pa.decimal128(18, 2),
    }  # fmt: skip
    schema = pa.schema(types)
    return pa.Table.from_pylist(rows, schema=schema)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDBEngine]:
    """An engine over a folder holding one messy ``customers`` table."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    pq.write_table(_profiles(seed=1), folder / "customers.parquet")
    with DuckDBEngine(folder) as made:
        yield made


def _query(sql: str = QUERY) -> sqlglot.exp.Query:
    parsed = sqlglot.parse_one(sql, dialect="duckdb")
    assert isinstance(parsed, sqlglot.exp.Query)
    return parsed


def _plan(
    engine: DuckDBEngine, out: Path, *, relation: bool, state: Path | None
) -> Any:
    members = engine.relation(_query()) if relation else engine.stream(_query())
    return plan_binding(members, mapping=MAPPING, state=state, out=out)


def _synced_then_changed(engine: DuckDBEngine, tmp_path: Path) -> Path:
    """A sync state from a first plan applied whole, then the profiles changed."""
    first = tmp_path / "first"
    summary = _plan(engine, first, relation=True, state=None)
    state = tmp_path / "state.parquet"
    batches = summary.subscribe_batches + summary.unsubscribe_batches
    commit_state(state, first / PLAN_FILE, range(1, batches + 1))
    pq.write_table(_profiles(seed=2), tmp_path / "profiles" / "customers.parquet")
    return state


def _same_files(left: Path, right: Path) -> None:
    for name in (PLAN_FILE, INVALID_FILE):
        assert (left / name).read_bytes() == (right / name).read_bytes(), name


def test_a_first_plan_from_the_relation_is_the_streamed_plan(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    """Same plan file, same invalid rows, same counts, read there or streamed."""
    streamed = _plan(engine, tmp_path / "streamed", relation=False, state=None)
    related = _plan(engine, tmp_path / "related", relation=True, state=None)

    assert related == streamed
    assert streamed.to_add > 0
    assert streamed.invalid > 0
    _same_files(tmp_path / "streamed", tmp_path / "related")


def test_a_churn_plan_from_the_relation_is_the_streamed_plan(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    """Against a sync state, after the profiles changed, both plans are equal."""
    state = _synced_then_changed(engine, tmp_path)

    streamed = _plan(engine, tmp_path / "streamed", relation=False, state=state)
    related = _plan(engine, tmp_path / "related", relation=True, state=state)

    assert related == streamed
    assert streamed.to_add > 0
    assert streamed.to_remove > 0
    assert streamed.to_update > 0
    _same_files(tmp_path / "streamed", tmp_path / "related")


# The plan's own tables and views; profile tables may have any of these names.
PLAN_NAMES = ("state", "profiles", "source", "members", "plan", "ordered", "diff",
              "retry", "final", "invalid")  # fmt: skip


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_a_profile_table_named_like_the_plans_own_makes_the_same_plan(
    engine: DuckDBEngine, tmp_path: Path, name: str
) -> None:
    """A table called state, profiles, plan... never stands in for the plan's own."""
    state = _synced_then_changed(engine, tmp_path)
    streamed = _plan(engine, tmp_path / "streamed", relation=False, state=state)
    # a copy of the old profiles, valid emails and all
    pq.write_table(_profiles(seed=1), tmp_path / "profiles" / f"{name}.parquet")

    related = _plan(engine, tmp_path / "related", relation=True, state=state)

    assert related == streamed
    _same_files(tmp_path / "streamed", tmp_path / "related")


def test_a_condition_over_another_table_reads_that_table(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    """EXISTS over a second profile table (named ``plan``) selects the same members."""
    buyers = pa.table({"customer_id": [f"C{i:05d}" for i in range(0, 500, 3)]})
    pq.write_table(buyers, tmp_path / "profiles" / "plan.parquet")
    where = (
        "IS NOT NULL AND EXISTS (SELECT 1 FROM plan AS o"
        " WHERE o.customer_id = p.customer_id)"
    )
    query = _query(QUERY.replace("IS NOT NULL", where))

    streamed = plan_binding(
        engine.stream(query), mapping=MAPPING, state=None, out=tmp_path / "streamed"
    )
    related = plan_binding(
        engine.relation(query), mapping=MAPPING, state=None, out=tmp_path / "related"
    )

    assert related == streamed
    assert 0 < streamed.members < 200
    _same_files(tmp_path / "streamed", tmp_path / "related")


def test_a_condition_failing_on_the_data_is_an_evaluation_error(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    """A cast that fails on a value is the segment's error, without the value."""
    failing = QUERY.replace("IS NOT NULL", "IS NOT NULL AND CAST(p.email AS INT) > 0")
    relation = engine.relation(_query(failing))

    with pytest.raises(EvaluationError) as caught:
        plan_binding(relation, mapping=MAPPING, state=None, out=tmp_path / "out")

    assert "Ana@Example.com" not in str(caught.value)
    assert "cannot be evaluated" in str(caught.value)


def test_a_mapped_column_the_query_lacks_is_refused(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    """Members without the mapped email column are a programming error, named."""
    relation = engine.relation(_query("SELECT p.customer_id FROM customers AS p"))

    with pytest.raises(ValueError, match="no column 'email'"):
        plan_binding(relation, mapping=MAPPING, state=None, out=tmp_path / "out")


def test_the_relation_keeps_the_engines_thread_limit(tmp_path: Path) -> None:
    """An engine opened with threads=1 plans on one thread too."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    pq.write_table(_profiles(seed=1, count=10), folder / "customers.parquet")
    with DuckDBEngine(folder, threads=1) as engine, duckdb.connect() as con:
        engine.relation(_query()).install(con)
        [(threads,)] = con.execute("SELECT current_setting('threads')").fetchall()

    assert threads == 1


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    """Profiles, two segments, a connection to the emulator, an export."""
    with make_place(tmp_path) as made:
        yield made


@pytest.mark.socket
def test_a_run_on_duckdb_never_streams_the_members(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run plans from the relation and fills each list exactly."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        pytest.fail("the run streamed the members through Python")

    monkeypatch.setattr(SegmentService, "evaluate", refuse)

    run = place.run()

    assert place.members(run) == {"France": FRANCE, "Germany": GERMANY}


@pytest.mark.socket
def test_a_run_on_duckdb_records_each_segments_count_and_duration(
    place: Place,
) -> None:
    """The segment's history gets one entry: the count the plan found, timed."""
    with open_workspace(place.settings) as workspace:
        before = len(workspace.segments.history("France"))

    place.run()

    with open_workspace(place.settings) as workspace:
        after = workspace.segments.history("France")
    assert len(after) == before + 1
    assert after[0].member_count == 5  # C1, C2, C5, C6, C7: valid or not
    assert after[0].duration_ms > 0
