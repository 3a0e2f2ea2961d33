"""The Spark engine over a folder of Parquet tables, in local mode."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

from audiencesync.errors import EvaluationError
from audiencesync.profiles import spark_engine
from audiencesync.profiles.spark_engine import SparkEngine


@pytest.mark.slow
def test_members_stream_from_a_parquet_folder(
    populated: Path, spark_session: Any
) -> None:
    """Rows come back as Arrow batches, converted by Spark's Python workers."""
    url = f"spark+local://?tables={populated}&cores=2"
    query = (
        exp.select("customer_id", "email")
        .from_("customers")
        .where("lifetime_value > 1")
        .order_by("customer_id")
    )
    with SparkEngine(
        url, profile_table="customers", key=None, session=spark_session
    ) as engine:
        members = pa.Table.from_batches(list(engine.stream(query)))
    assert members.column("customer_id").to_pylist() == ["C1", "C3"]


@pytest.mark.slow
def test_local_workers_run_this_interpreter(
    spark_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PYSPARK_PYTHON, local mode's Python workers run this interpreter."""
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    session = spark_engine.spark_session("local[2]")
    assert session.sparkContext.pythonExec == sys.executable


@pytest.mark.slow
def test_a_value_failing_while_members_stream_is_not_quoted(
    populated: Path, spark_session: Any
) -> None:
    """A cast that fails on a value as batches stream: one line, without the value."""
    url = f"spark+local://?tables={populated}&cores=2"
    query = exp.select(exp.cast(exp.column("email"), "INT").as_("n")).from_("customers")
    with (
        SparkEngine(
            url, profile_table="customers", key=None, session=spark_session
        ) as engine,
        pytest.raises(EvaluationError, match="does not convert") as raised,
    ):
        list(engine.stream(query))
    assert "example.com" not in str(raised.value)
    assert "\n" not in str(raised.value)
