"""The embedded engine: views over Parquet files, counts and streamed batches."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from audiencesync.errors import SourceError
from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.duckdb_engine import DuckDBEngine, kind_of
from audiencesync.profiles.generator import generate_profiles
from audiencesync.profiles.importing import import_file
from tests.profiles.conftest import write


@pytest.mark.parametrize(
    ("duckdb_type", "kind"),
    [
        ("VARCHAR", ColumnKind.TEXT),
        ("TINYINT", ColumnKind.INTEGER),
        ("INTEGER", ColumnKind.INTEGER),
        ("BIGINT", ColumnKind.INTEGER),
        ("HUGEINT", ColumnKind.INTEGER),
        ("UBIGINT", ColumnKind.INTEGER),
        ("DOUBLE", ColumnKind.NUMBER),
        ("FLOAT", ColumnKind.NUMBER),
        ("DECIMAL(18,2)", ColumnKind.NUMBER),
        ("BOOLEAN", ColumnKind.BOOLEAN),
        ("DATE", ColumnKind.DATE),
        ("TIMESTAMP", ColumnKind.TIMESTAMP),
        ("TIMESTAMP WITH TIME ZONE", ColumnKind.TIMESTAMP),
        ("TIMESTAMP_NS", ColumnKind.TIMESTAMP),
        ("VARCHAR[]", ColumnKind.OTHER),
        ("STRUCT(a INTEGER)", ColumnKind.OTHER),
        ("BLOB", ColumnKind.OTHER),
    ],
    ids=str,
)
def test_duckdb_types_map_to_kinds(duckdb_type: str, kind: ColumnKind) -> None:
    """Each DuckDB type name has the kind segment rules reason about."""
    assert kind_of(duckdb_type) is kind


def test_catalog_reads_every_parquet_type(tmp_path: Path) -> None:
    """Column kinds and engine types come from the files themselves."""
    tmp_path.mkdir(exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(
            "COPY (SELECT 'C1' AS id, 1::INTEGER AS i, 2.5::DECIMAL(9,2) AS d,"
            " true AS b, DATE '2024-01-01' AS day, TIMESTAMP '2024-01-01 10:00' AS ts,"
            " [1, 2] AS tags)"
            f" TO '{tmp_path / 'things.parquet'}' (FORMAT parquet)"
        )
    with DuckDBEngine(tmp_path) as engine:
        table = engine.catalog().table("things")
    assert table is not None
    assert [(c.name, c.kind, c.sql_type) for c in table.columns] == [
        ("id", ColumnKind.TEXT, "VARCHAR"),
        ("i", ColumnKind.INTEGER, "INTEGER"),
        ("d", ColumnKind.NUMBER, "DECIMAL(9,2)"),
        ("b", ColumnKind.BOOLEAN, "BOOLEAN"),
        ("day", ColumnKind.DATE, "DATE"),
        ("ts", ColumnKind.TIMESTAMP, "TIMESTAMP"),
        ("tags", ColumnKind.OTHER, "INTEGER[]"),
    ]


def test_catalog_has_keys_and_row_counts(populated: Path, tmp_path: Path) -> None:
    """Keys come from the table metadata, row counts from the Parquet footer."""
    purchases = write(tmp_path / "purchases.csv", "customer_id,amount\nC1,1\nC1,2\n")
    import_file(populated, purchases, table="purchases")
    with DuckDBEngine(populated) as engine:
        catalog = engine.catalog()
    assert [(t.name, t.key, t.rows) for t in catalog.tables] == [
        ("customers", "customer_id", 3),
        ("purchases", "customer_id", 2),
    ]
    assert catalog.profile is not None


def test_an_empty_store_has_no_tables(store: Path) -> None:
    """Before any import the catalog is empty and has no profile table."""
    with DuckDBEngine(store) as engine:
        catalog = engine.catalog()
    assert (catalog.tables, catalog.profile) == ((), None)


def test_count_and_stream_run_a_sqlglot_query(populated: Path) -> None:
    """A query built with sqlglot is counted and streamed in DuckDB's dialect."""
    query = (
        sqlglot.select("customer_id")
        .from_("customers")
        .where(
            exp.GT(this=exp.column("lifetime_value"), expression=exp.Literal.number(1))
        )
        .order_by("customer_id")
    )
    with DuckDBEngine(populated) as engine:
        count = engine.count(query)
        rows = [row for batch in engine.stream(query) for row in batch.to_pylist()]
    assert (count, rows) == (2, [{"customer_id": "C1"}, {"customer_id": "C3"}])


def test_a_literal_percent_sign_stays_a_literal(populated: Path) -> None:
    """LIKE patterns pass through unchanged."""
    query = (
        sqlglot.select("customer_id")
        .from_("customers")
        .where(exp.column("email").like(exp.Literal.string("%@example.com")))
    )
    with DuckDBEngine(populated) as engine:
        assert engine.count(query) == 3


def test_stream_yields_batches_of_at_most_batch_rows(tmp_path: Path) -> None:
    """Small batch sizes give many batches, none larger than asked."""
    generate_profiles(tmp_path, count=1_000, anchor=None, purchases=False)
    query = sqlglot.select("customer_id").from_("customers")
    with DuckDBEngine(tmp_path) as engine:
        sizes = [batch.num_rows for batch in engine.stream(query, batch_rows=100)]
    assert (sum(sizes), len(sizes) >= 10, max(sizes) <= 100) == (1_000, True, True)


def test_engine_counts_while_a_stream_is_open(populated: Path) -> None:
    """A half-read stream does not block other queries on the same engine."""
    query = sqlglot.select("customer_id").from_("customers")
    with DuckDBEngine(populated) as engine:
        batches = engine.stream(query, batch_rows=1)
        first = next(batches)
        count = engine.count(query)
        rest = sum(batch.num_rows for batch in batches)
    assert (first.num_rows, count, rest) == (1, 3, 2)


def test_engine_sees_a_file_replaced_by_an_import(
    populated: Path, tmp_path: Path
) -> None:
    """A stream started before a replace finishes on the old rows; later queries
    on the same engine, and a new engine, see the new table."""
    query = sqlglot.select("*").from_("customers")
    with DuckDBEngine(populated) as engine:
        before = engine.stream(query, batch_rows=1)
        first = next(before)
        other = write(tmp_path / "other.csv", "customer_id,city\nC9,Paris\n")
        import_file(populated, other, replace=True)
        old_rows = first.num_rows + sum(batch.num_rows for batch in before)
        same_engine = engine.count(query)
        columns = engine.catalog().tables[0].column_names
    with DuckDBEngine(populated) as fresh:
        new_engine = fresh.count(query)
    assert (old_rows, same_engine, columns, new_engine) == (
        3,
        1,
        ("customer_id", "city"),
        1,
    )


def test_tables_added_and_removed_later_are_seen(
    populated: Path, tmp_path: Path
) -> None:
    """The catalog follows the folder: new files appear, deleted ones go."""
    with DuckDBEngine(populated) as engine:
        purchases = write(tmp_path / "purchases.csv", "customer_id,amount\nC1,1\n")
        import_file(populated, purchases, table="purchases")
        added = [table.name for table in engine.catalog().tables]
        (populated / "purchases.parquet").unlink()
        removed = [table.name for table in engine.catalog().tables]
    assert (added, removed) == (["customers", "purchases"], ["customers"])


def test_a_corrupt_table_file_is_reported(tmp_path: Path) -> None:
    """A file that is not Parquet gives a clear error naming it, on first use."""
    (tmp_path / "customers.parquet").write_text("not parquet")
    with DuckDBEngine(tmp_path) as engine, pytest.raises(SourceError) as raised:
        engine.catalog()
    assert str(raised.value) == (
        f"{tmp_path / 'customers.parquet'} is not a readable Parquet file; move it"
        " away, or import the table again in replace mode."
    )


def test_an_engine_opens_no_database_until_it_queries(store: Path) -> None:
    """Opening an engine and reading its data version connect to nothing."""
    with DuckDBEngine(store) as engine:
        assert engine.version() is not None
        assert engine._opened is None  # the laziness under test


def test_resource_limits_are_applied(store: Path) -> None:
    """memory_limit and threads reach DuckDB."""
    with DuckDBEngine(store, memory_limit="256MB", threads=1) as engine:
        query = sqlglot.select(
            exp.func("current_setting", exp.Literal.string("threads"))
        )
        rows = [row for batch in engine.stream(query) for row in batch.to_pylist()]
    assert list(rows[0].values()) == [1]


def test_batch_rows_must_be_positive(populated: Path) -> None:
    """A zero batch size is a programming error."""
    with (
        DuckDBEngine(populated) as engine,
        pytest.raises(ValueError, match="at least 1"),
    ):
        next(engine.stream(sqlglot.select("1"), batch_rows=0))


def test_version_changes_when_an_import_replaces_a_table(
    populated: Path, tmp_path: Path
) -> None:
    """The data version names every table file as it is: an import changes it."""
    with DuckDBEngine(populated) as engine:
        before = engine.version()
        again = engine.version()
        other = write(tmp_path / "other.csv", "customer_id,city\nC9,Paris\n")
        import_file(populated, other, replace=True)
        after = engine.version()
    assert (before == again, before != after) == (True, True)


def test_version_sees_a_file_rewritten_in_place_with_its_old_time(
    populated: Path,
) -> None:
    """Same inode, size and modification time, other bytes: another version."""
    [path] = populated.glob("*.parquet")
    with DuckDBEngine(populated) as engine:
        before = engine.version()
        stat = path.stat()
        data = bytearray(path.read_bytes())
        data[-10] ^= 0xFF  # inside the footer
        with path.open("r+b") as file:
            file.write(data)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        after = engine.version()
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (
        stat.st_ino,
        stat.st_mtime_ns,
    )
    assert after != before
