"""The Spark engine: its URL, its catalog, counts, streamed batches and errors."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from audiencesync.errors import ConfigError, EvaluationError
from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.engines import open_engine
from audiencesync.profiles.importing import import_file
from audiencesync.profiles.spark_engine import (
    SparkEngine,
    SparkTarget,
    is_spark_url,
    kind_of,
    parse_spark_url,
    spark_session,
)
from audiencesync.settings import load_settings


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("spark+local://", SparkTarget("local[*]")),
        ("spark+local://?cores=2", SparkTarget("local[2]")),
        ("spark://master.lan:7078", SparkTarget("spark://master.lan:7078")),
        ("spark://master.lan", SparkTarget("spark://master.lan:7077")),
        (
            "spark://m:7077?tables=/lake/crm&database=crm",
            SparkTarget("spark://m:7077", Path("/lake/crm"), "crm"),
        ),
        ("spark+local://?plan_from=0", SparkTarget("local[*]", plan_from=0)),
        (
            "spark://m?plan_from=2500000",
            SparkTarget("spark://m:7077", plan_from=2_500_000),
        ),
    ],
    ids=str,
)
def test_a_spark_url_names_the_master_the_tables_and_the_database(
    url: str, target: SparkTarget
) -> None:
    """The URL's scheme, host and parameters become the master, folder and database."""
    assert parse_spark_url(url) == target


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("spark+local://?cores=0", "cores= must be a whole number"),
        ("spark+local://?cores=two", "cores= must be a whole number"),
        ("spark://", "names no Spark master"),
        ("spark+local://?table=/x", "unknown Spark parameters (table)"),
        ("spark+local://?plan_from=-1", "plan_from= must be a whole number"),
        ("spark+local://?plan_from=1e6", "plan_from= must be a whole number"),
    ],
    ids=str,
)
def test_a_bad_spark_url_says_what_to_fix(url: str, problem: str) -> None:
    """A malformed Spark URL is a ConfigError naming the problem."""
    with pytest.raises(ConfigError, match=re.escape(problem)):
        parse_spark_url(url)


def test_only_spark_schemes_are_spark_urls() -> None:
    """SQLAlchemy URLs go to the SQL engine, spark schemes to Spark."""
    assert is_spark_url("spark://m:7077")
    assert is_spark_url("SPARK+LOCAL://")
    assert not is_spark_url("postgresql+psycopg://u@h/db")


@pytest.mark.parametrize(
    ("spark_type", "kind"),
    [
        ("string", ColumnKind.TEXT),
        ("varchar(20)", ColumnKind.TEXT),
        ("int", ColumnKind.INTEGER),
        ("bigint", ColumnKind.INTEGER),
        ("double", ColumnKind.NUMBER),
        ("decimal(12,2)", ColumnKind.NUMBER),
        ("boolean", ColumnKind.BOOLEAN),
        ("date", ColumnKind.DATE),
        ("timestamp", ColumnKind.TIMESTAMP),
        ("timestamp_ntz", ColumnKind.TIMESTAMP),
        ("array<int>", ColumnKind.OTHER),
        ("binary", ColumnKind.OTHER),
    ],
    ids=str,
)
def test_spark_types_map_to_kinds(spark_type: str, kind: ColumnKind) -> None:
    """Each Spark type's simple string has the kind segment rules reason about."""
    assert kind_of(spark_type) is kind


def test_a_tables_folder_that_is_not_there_is_refused(tmp_path: Path) -> None:
    """A tables= path that is no folder is a ConfigError naming it, before Spark."""
    missing = tmp_path / "no-lake"
    with pytest.raises(ConfigError, match=re.escape(f"tables= names {missing}")):
        SparkEngine(f"spark+local://?tables={missing}", profile_table="c", key=None)


def test_without_pyspark_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With PySpark missing, opening Spark says which extra to install."""
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ConfigError, match=r"pip install 'audiencesync\[spark\]'"):
        spark_session("local[1]")


@pytest.fixture
def lake(tmp_path: Path, customers_csv: Path) -> Path:
    """A folder of Parquet tables in the store's layout: customers, keyed."""
    folder = tmp_path / "lake"
    import_file(folder, customers_csv)
    return folder


@pytest.fixture
def engine(lake: Path, spark_session: Any) -> Any:
    """The Spark engine over ``lake``, on the test session."""
    with SparkEngine(
        f"spark+local://?tables={lake}",
        profile_table="customers",
        key=None,
        session=spark_session,
    ) as opened:
        yield opened


def _select(sql: str) -> exp.Query:
    parsed = sqlglot.parse_one(sql, read="spark")
    assert isinstance(parsed, exp.Query)
    return parsed


@pytest.mark.slow
def test_the_catalog_reads_kinds_key_and_rows_from_the_folder(engine: Any) -> None:
    """Tables of the folder are listed with their kinds, the stored key and rows."""
    table = engine.catalog().profile
    assert table is not None
    kinds = {column.name: column.kind for column in table.columns}
    assert kinds["lifetime_value"] is ColumnKind.NUMBER
    assert kinds["signup_date"] is ColumnKind.DATE
    assert kinds["marketing_consent"] is ColumnKind.BOOLEAN
    assert (table.key, table.rows) == ("customer_id", 3)


@pytest.mark.slow
def test_count_and_stream_return_the_rows_in_batches(engine: Any) -> None:
    """Counting and streaming agree; no batch is larger than asked."""
    query = _select("SELECT customer_id, email FROM customers WHERE orders > 1")
    batches = list(engine.stream(query, batch_rows=1))
    assert engine.count(query) == 2
    assert [batch.num_rows for batch in batches] == [1, 1]
    assert sorted(b.column(0)[0].as_py() for b in batches) == ["C1", "C3"]


@pytest.mark.slow
def test_a_replaced_file_is_read_again(engine: Any, lake: Path, tmp_path: Path) -> None:
    """After a new import of the table, the engine reads the new rows."""
    query = _select("SELECT customer_id FROM customers")
    assert engine.count(query) == 3
    more = tmp_path / "more.csv"
    more.write_text("customer_id,email\nC9,z@example.com\n", encoding="utf-8")
    import_file(lake, more, table="customers", replace=True)
    assert engine.count(query) == 1


@pytest.mark.slow
def test_a_failing_cast_is_an_evaluation_error_without_the_value(engine: Any) -> None:
    """A value that does not convert is refused in one line that does not quote it."""
    query = _select("SELECT customer_id FROM customers WHERE CAST(email AS INT) > 1")
    with pytest.raises(EvaluationError) as raised:
        list(engine.stream(query))
    assert "example.com" not in str(raised.value)
    assert "\n" not in str(raised.value)
    assert "TRY_CAST" in str(raised.value)


@pytest.mark.slow
def test_an_unknown_column_is_an_evaluation_error(engine: Any) -> None:
    """A query Spark cannot analyse is refused with Spark's condition named."""
    query = _select("SELECT nope FROM customers")
    with pytest.raises(EvaluationError, match="UNRESOLVED_COLUMN"):
        engine.count(query)


@pytest.mark.slow
def test_spark_calls_never_reach_a_debug_log(
    engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """py4j's DEBUG lines (they carry values of the data) are not logged."""
    with caplog.at_level(logging.DEBUG):
        list(engine.stream(_select("SELECT email FROM customers")))
    assert not [r for r in caplog.records if "example.com" in r.getMessage()]


@pytest.mark.slow
def test_open_engine_picks_spark_for_a_spark_url(
    tmp_path: Path, lake: Path, spark_session: Any
) -> None:
    """The settings' profiles URL decides the engine: Spark for spark schemes."""
    del spark_session  # started: open_engine joins the process's session
    url = f"spark+local://?tables={lake}&cores=2"
    settings = load_settings(home=tmp_path / "home", profiles_url=url)
    engine = open_engine(settings)
    try:
        assert engine.dialect == "spark"
        assert engine.count(_select("SELECT 1 AS one FROM customers")) == 3
    finally:
        engine.close()


@pytest.mark.slow
def test_two_engines_see_only_their_own_folder(
    engine: Any, tmp_path: Path, spark_session: Any
) -> None:
    """Engines of one process keep their tables apart, even with the same names."""
    other = tmp_path / "other-lake"
    single = tmp_path / "single.csv"
    single.write_text("customer_id,email\nZ1,z@example.com\n", encoding="utf-8")
    import_file(other, single)
    query = _select("SELECT customer_id FROM customers")
    with SparkEngine(
        f"spark+local://?tables={other}", profile_table="customers", key=None,
        session=spark_session,
    ) as second:  # fmt: skip
        assert (engine.count(query), second.count(query)) == (3, 1)
    assert engine.count(query) == 3


@pytest.mark.slow
def test_local_workers_run_this_interpreter(spark_session: Any) -> None:
    """Local mode's Python workers run this interpreter (it has PyArrow)."""
    assert spark_session.sparkContext.pythonExec == sys.executable


@pytest.mark.slow
def test_a_failing_cast_leaves_no_value_on_stderr(lake: Path) -> None:
    """Spark's own log (the JVM's, on stderr) never shows the value that failed."""
    script = (
        "import sys, sqlglot\n"
        "from audiencesync.errors import EvaluationError\n"
        "from audiencesync.profiles.spark_engine import SparkEngine\n"
        "url = 'spark+local://?cores=1&tables=' + sys.argv[1]\n"
        "query = sqlglot.parse_one('SELECT CAST(email AS INT) AS n FROM customers',"
        " read='spark')\n"
        "with SparkEngine(url, profile_table='customers', key=None) as engine:\n"
        "    try:\n"
        "        list(engine.stream(query))\n"
        "    except EvaluationError:\n"
        "        print('refused')\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", script, str(lake)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.stdout.strip() == "refused", done.stderr[-2000:]
    assert "example.com" not in done.stderr
