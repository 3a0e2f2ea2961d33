"""Members classified and diffed in Spark make exactly the plan DuckDB makes."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audiencesync.errors import EvaluationError
from audiencesync.sync.mapping import ExportMapping
from audiencesync.sync.plan import INVALID_FILE, PLAN_FILE, PlanSummary, plan_binding
from audiencesync.sync.sending import write_emails
from audiencesync.sync.spark_plan import SparkMembers, unpushable
from audiencesync.sync.state import commit_state, live_changes

pytestmark = pytest.mark.slow

PROFILES = 600
MAPPING = ExportMapping(
    email_field="email",
    user_id_field="uid",
    consent_column="opt_in",
    fields={
        "plan": "plan",
        "visits": "visits",
        "vip": "vip",
        "signup": "signup",
        "ltv": "ltv",
    },
)
EMAILS = [
    "ana@example.com", " Ana@Example.com", "ben@example.com\t", "not-an-email", "",
    None, "  ", "cleo@ex-ample.io", "dan@example", "x" * 70 + "@example.com",
    "eve@EXAMPLE.com", "fay@example.com\n", "o'hara@example.com", "gil@sub.example.org",
    "gus@example.com\x0c", "\x0bhal@example.com", "\r\nivy@example.com ",
]  # fmt: skip

PLANS = ["gold", 'say "hi"', "back\\slash", "été", None, "tab\there", "bell\x07",
         "line\u2028sep", "emoji 🎉", "</script>", "nul\x00byte"]  # fmt: skip


def _table(seed: int) -> pa.Table:
    """Messy profiles: shared, malformed, empty and missing emails, odd fields."""
    draw = random.Random(seed)
    names = ("customer_id", "email", "uid", "opt_in", "plan", "visits", "vip",
             "signup", "ltv")  # fmt: skip
    rows: dict[str, list[Any]] = {name: [] for name in names}
    for i in range(PROFILES):
        pick = draw.random()
        email = draw.choice(EMAILS) if pick < 0.2 else f"P{i}@Example.com"
        rows["customer_id"].append(f"C{i:05d}")
        rows["email"].append(email)
        rows["uid"].append(draw.choice([None, "", f" u{i} ", f"u{i}"]))
        rows["opt_in"].append(draw.choice([True, True, True, False, None]))
        rows["plan"].append(draw.choice(PLANS))
        rows["visits"].append(draw.choice([0, 7, -3, 2**40, None]))
        rows["vip"].append(draw.choice([True, False, None]))
        rows["signup"].append(draw.choice([dt.date(2026, 1, 10), None]))
        rows["ltv"].append(draw.choice([Decimal("1500.50"), Decimal(0), None]))
    types = {"ltv": pa.decimal128(18, 2)}
    return pa.table({name: pa.array(values, types.get(name)) for name, values in
                     rows.items()})  # fmt: skip


def _churned(table: pa.Table, seed: int) -> pa.Table:
    """About a tenth of the profiles leave; some change a field; some join."""
    draw = random.Random(seed)
    rows = table.to_pylist()
    kept = [row for row in rows if draw.random() > 0.1]
    for row in kept:
        if draw.random() < 0.1:
            row["plan"] = "silver"
    joiners = [dict(rows[0], customer_id=f"N{i}", email=f"new{i}@example.com")
               for i in range(25)]  # fmt: skip
    return pa.Table.from_pylist(kept + joiners, schema=table.schema)


def _plan_here(table: pa.Table, out: Path, **inputs: Any) -> PlanSummary:
    out.mkdir(parents=True, exist_ok=True)
    return plan_binding(table.to_batches(max_chunksize=97), mapping=MAPPING, out=out,
                        **inputs)  # fmt: skip


def _plan_on_spark(
    spark: Any, table: pa.Table, out: Path, **inputs: Any
) -> tuple[PlanSummary, SparkMembers]:
    out.mkdir(parents=True, exist_ok=True)
    lake = out.parent / f"{out.name}-lake.parquet"
    pq.write_table(table, lake)
    members = SparkMembers(spark.read.parquet(str(lake)).repartition(3))
    summary = plan_binding(members, mapping=MAPPING, out=out, **inputs)
    return summary, members


def _rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def _state_after(table: pa.Table, folder: Path) -> Path:
    """The sync state once the whole plan of ``table`` was acknowledged."""
    out = folder / "first"
    summary = _plan_here(table, out, state=None)
    state = folder / "state.parquet"
    batches = summary.subscribe_batches + summary.unsubscribe_batches
    commit_state(state, out / PLAN_FILE, set(range(1, batches + 1)))
    return state


def _same_plan(spark: Any, table: pa.Table, folder: Path, **inputs: Any) -> None:
    here = _plan_here(table, folder / "here", **inputs)
    there, members = _plan_on_spark(spark, table, folder / "there", **inputs)
    assert _rows(folder / "there" / PLAN_FILE) == _rows(folder / "here" / PLAN_FILE)
    assert _rows(folder / "there" / INVALID_FILE) == _rows(
        folder / "here" / INVALID_FILE
    )
    assert there == here
    assert members.member_count == here.members


def test_a_first_plan_on_spark_is_duckdbs(spark_session: Any, tmp_path: Path) -> None:
    """No state yet: the same joiners, bodies, batches, rejects and counts."""
    _same_plan(spark_session, _table(1), tmp_path, state=None)


def test_a_churn_plan_on_spark_is_duckdbs(spark_session: Any, tmp_path: Path) -> None:
    """Against a state: the same joiners, changed members and leavers."""
    state = _state_after(_table(2), tmp_path)

    _same_plan(spark_session, _churned(_table(2), 3), tmp_path, state=state)


def test_a_plan_on_spark_reads_the_states_changes(
    spark_session: Any, tmp_path: Path
) -> None:
    """A state kept as a base and changes: Spark diffs the whole of it, as DuckDB."""
    state = _state_after(_table(2), tmp_path)
    churned = _churned(_table(2), 3)
    out = tmp_path / "second"
    summary = _plan_here(churned, out, state=state)
    batches = summary.subscribe_batches + summary.unsubscribe_batches
    commit_state(state, out / PLAN_FILE, set(range(1, batches + 1)))
    assert live_changes(state) is not None

    _same_plan(spark_session, _churned(_table(2), 5), tmp_path, state=state)


def test_a_counted_churn_plan_on_spark_has_the_written_plans_summary(
    spark_session: Any, tmp_path: Path
) -> None:
    """A dry run's plan on Spark: the counts of the written plan, and no rows."""
    state = _state_after(_table(2), tmp_path)
    churned = _churned(_table(2), 3)
    written = _plan_here(churned, tmp_path / "here", state=state)
    counted, _ = _plan_on_spark(
        spark_session, churned, tmp_path / "there", state=state, rows=False
    )
    assert counted == written
    assert not (tmp_path / "there" / PLAN_FILE).exists()
    assert _rows(tmp_path / "there" / INVALID_FILE) == _rows(
        tmp_path / "here" / INVALID_FILE
    )


def test_an_emptied_segment_on_spark_is_duckdbs(
    spark_session: Any, tmp_path: Path
) -> None:
    """No member left: every state row leaves, as on DuckDB."""
    state = _state_after(_table(9), tmp_path)

    _same_plan(spark_session, _table(9).slice(0, 0), tmp_path, state=state)


def test_odd_column_names_are_read_as_named(spark_session: Any, tmp_path: Path) -> None:
    """Columns with spaces, dots and backticks in their names are still found."""
    table = _table(10).rename_columns(
        ["customer id", "e.mail", "uid", "opt_in", "pl`an", "visits", "vip",
         "signup", "ltv"]
    )  # fmt: skip
    odd = ExportMapping(email_field="e.mail", fields={"plan": "pl`an"})

    here = plan_binding(table.to_batches(), mapping=odd, out=tmp_path / "h",
                        state=None)  # fmt: skip
    lake = tmp_path / "lake.parquet"
    pq.write_table(table, lake)
    members = SparkMembers(spark_session.read.parquet(str(lake)))
    there = plan_binding(members, mapping=odd, out=tmp_path / "t", state=None)

    assert there == here
    assert _rows(tmp_path / "t" / PLAN_FILE) == _rows(tmp_path / "h" / PLAN_FILE)


def test_a_full_resync_on_spark_is_duckdbs(spark_session: Any, tmp_path: Path) -> None:
    """Every member sent again, as on DuckDB."""
    state = _state_after(_table(4), tmp_path)

    _same_plan(spark_session, _table(4), tmp_path, state=state, full=True)


def test_forgotten_people_on_spark_are_not_sent(
    spark_session: Any, tmp_path: Path
) -> None:
    """People Iterable forgot are counted and never sent, as on DuckDB."""
    final = write_emails(
        tmp_path / "final.parquet", {"p3@example.com", "P5@example.com"}
    )

    _same_plan(spark_session, _table(5), tmp_path, state=None, final=final)


def test_nothing_changed_on_spark_plans_nothing(
    spark_session: Any, tmp_path: Path
) -> None:
    """The same members against their own state: an empty plan, everyone unchanged."""
    table = _table(6)
    state = _state_after(table, tmp_path)

    summary, _ = _plan_on_spark(spark_session, table, tmp_path / "again", state=state)

    assert (summary.subscribe_batches, summary.unsubscribe_batches) == (0, 0)
    assert summary.unchanged == summary.in_state


def test_a_failing_cast_on_spark_is_an_evaluation_error(
    spark_session: Any, tmp_path: Path
) -> None:
    """A consent column Spark cannot read as a boolean fails the segment in one line."""
    table = _table(7).set_column(3, "opt_in", pa.array([[1]] * PROFILES))
    with pytest.raises(EvaluationError, match="cannot be evaluated"):
        _plan_on_spark(spark_session, table, tmp_path / "out", state=None)


def test_columns_spark_prints_otherwise_are_named(spark_session: Any) -> None:
    """Floating-point, timestamp and many-place decimal columns keep a plan local."""
    frame = spark_session.sql(
        "SELECT 'C1' AS id, 'a@x.io' AS email, 1.5D AS score, TIMESTAMP'2026-01-10'"
        " AS seen, CAST(1 AS DECIMAL(38,10)) AS exact, CAST(1 AS DECIMAL(18,2)) AS ltv,"
        " 7L AS visits, true AS vip, DATE'2026-01-10' AS signup"
    )
    mapping = ExportMapping(
        email_field="email",
        fields={"a": "score", "b": "seen", "c": "exact", "d": "ltv", "e": "visits",
                "f": "vip", "g": "signup"},
    )  # fmt: skip

    found = unpushable(frame, mapping)

    assert found == ["score (double)", "seen (timestamp)", "exact (decimal(38,10))"]


def test_text_integer_boolean_date_and_decimal_columns_can_plan_in_spark(
    spark_session: Any, tmp_path: Path
) -> None:
    """The test tables' mapping reads only columns Spark prints as DuckDB does."""
    lake = tmp_path / "lake.parquet"
    pq.write_table(_table(8), lake)

    assert unpushable(spark_session.read.parquet(str(lake)), MAPPING) == []
