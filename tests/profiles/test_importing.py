"""Importing CSV, Parquet and JSON lines files into the embedded store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audiencesync.profiles.catalog import ColumnKind
from audiencesync.profiles.duckdb_engine import DuckDBEngine
from audiencesync.profiles.importing import ImportMode, ImportReport, import_file
from audiencesync.profiles.tables import SourceStamp, read_table_info, table_path
from tests.profiles.conftest import CUSTOMERS_CSV, leftovers, write

ROWS = [
    {
        "customer_id": "C1",
        "email": "ann@example.com",
        "lifetime_value": 12.5,
        "signup_date": "2024-01-02",
        "marketing_consent": True,
        "orders": 3,
    },
    {
        "customer_id": "C2",
        "email": "bob@example.com",
        "lifetime_value": 0.75,
        "signup_date": "2024-02-03",
        "marketing_consent": False,
        "orders": 1,
    },
]
EXPECTED_KINDS = {
    "customer_id": ColumnKind.TEXT,
    "email": ColumnKind.TEXT,
    "lifetime_value": ColumnKind.NUMBER,
    "signup_date": ColumnKind.DATE,
    "marketing_consent": ColumnKind.BOOLEAN,
    "orders": ColumnKind.INTEGER,
}


def _csv(path: Path) -> Path:
    lines = CUSTOMERS_CSV.splitlines()[:3]
    return write(path.with_suffix(".csv"), "\n".join(lines) + "\n")


def _jsonl(path: Path) -> Path:
    text = "\n".join(json.dumps(row) for row in ROWS) + "\n"
    return write(path.with_suffix(".jsonl"), text)


def _parquet(path: Path) -> Path:
    rows = [
        row | {"signup_date": dt.date.fromisoformat(str(row["signup_date"]))}
        for row in ROWS
    ]
    target = path.with_suffix(".parquet")
    pq.write_table(pa.Table.from_pylist(rows), target)
    return target


def _kinds(store: Path, table: str = "customers") -> dict[str, ColumnKind]:
    with DuckDBEngine(store) as engine:
        found = engine.catalog().table(table)
    assert found is not None
    return {column.name: column.kind for column in found.columns}


def _values(store: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect() as connection:
        path = table_path(store, "customers")
        source = f"read_parquet('{path}')"
        return connection.execute(sql.format(table=source)).fetchall()


@pytest.mark.parametrize(
    "make", [_csv, _jsonl, _parquet], ids=["csv", "jsonl", "parquet"]
)
def test_import_infers_column_kinds(store: Path, tmp_path: Path, make) -> None:
    """Text, doubles, dates, booleans and integers come out with their kinds."""
    import_file(store, make(tmp_path / "new"))
    assert _kinds(store) == EXPECTED_KINDS


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"], ids=["jsonl", "ndjson"])
def test_both_json_lines_extensions_are_read(
    store: Path, tmp_path: Path, suffix: str
) -> None:
    """``.ndjson`` is the same format as ``.jsonl``."""
    path = _jsonl(tmp_path / "new").rename(tmp_path / f"new{suffix}")
    assert import_file(store, path).rows == 2


def test_first_import_creates_the_table(store: Path, customers_csv: Path) -> None:
    """The report counts every row as added and names the default key."""
    report = import_file(store, customers_csv)
    assert report == ImportReport(
        table="customers",
        rows=3,
        rows_added=3,
        rows_updated=0,
        columns=tuple(EXPECTED_KINDS),
        key="customer_id",
        source=customers_csv,
        mode=ImportMode.CREATED,
    )


def test_profile_table_is_merged_by_key(populated: Path, tmp_path: Path) -> None:
    """Rows with a new key are added; rows with a known key replace the old row."""
    changes = write(
        tmp_path / "changes.csv",
        "customer_id,email,lifetime_value,signup_date,marketing_consent,orders\n"
        "C2,bob@new.example,5.5,2024-02-03,true,2\n"
        "C4,dee@example.com,1,2024-05-06,false,1\n",
    )
    report = import_file(populated, changes)
    assert (report.mode, report.rows, report.rows_added, report.rows_updated) == (
        ImportMode.MERGED,
        4,
        1,
        1,
    )
    rows = _values(
        populated, "SELECT customer_id, lifetime_value FROM {table} ORDER BY 1"
    )
    assert rows == [("C1", 12.5), ("C2", 5.5), ("C3", 100.0), ("C4", 1.0)]


def test_other_tables_get_rows_appended(store: Path, tmp_path: Path) -> None:
    """A purchases table keeps every row; its key may repeat."""
    purchases = write(
        tmp_path / "purchases.csv",
        "customer_id,amount\nC1,10.5\nC1,3.25\n",
    )
    import_file(store, purchases, table="purchases")
    report = import_file(store, purchases, table="purchases")
    assert (report.mode, report.rows, report.rows_added) == (ImportMode.APPENDED, 4, 2)


def test_replace_swaps_the_whole_table(populated: Path, tmp_path: Path) -> None:
    """With replace, the columns and rows are the new file's only."""
    other = write(tmp_path / "other.csv", "customer_id,city\nC9,Paris\n")
    report = import_file(populated, other, replace=True)
    assert (report.mode, report.rows, report.columns) == (
        ImportMode.REPLACED,
        1,
        ("customer_id", "city"),
    )


def test_key_option_chooses_the_key(store: Path, tmp_path: Path) -> None:
    """--key names the key column when there is no customer_id."""
    people = write(
        tmp_path / "people.csv", "id,email\n1,a@example.com\n2,b@example.com\n"
    )
    assert import_file(store, people, key="id").key == "id"


def test_later_imports_reuse_the_tables_key(store: Path, tmp_path: Path) -> None:
    """Without --key, the table's stored key is used again."""
    people = write(tmp_path / "people.csv", "id,email\n1,a@example.com\n")
    import_file(store, people, key="id")
    more = write(tmp_path / "more.csv", "id,email\n2,b@example.com\n")
    assert import_file(store, more).key == "id"


def test_text_columns_stay_text_when_values_look_numeric(
    populated: Path, tmp_path: Path
) -> None:
    """Ids that happen to be digits still merge into a text key column."""
    digits = write(
        tmp_path / "digits.csv",
        "customer_id,email,lifetime_value,signup_date,marketing_consent,orders\n"
        "0042,zed@example.com,1.5,2024-01-01,true,1\n",
    )
    import_file(populated, digits)
    assert _values(
        populated, "SELECT count(*) FROM {table} WHERE customer_id = '0042'"
    ) == [(1,)]


def test_integer_values_fit_a_number_column(populated: Path, tmp_path: Path) -> None:
    """Whole numbers in a later file are stored in the DOUBLE column."""
    whole = write(
        tmp_path / "whole.csv",
        "customer_id,email,lifetime_value,signup_date,marketing_consent,orders\n"
        "C5,eve@example.com,7,2024-01-01,true,1\n",
    )
    import_file(populated, whole)
    assert _kinds(populated)["lifetime_value"] is ColumnKind.NUMBER


def test_an_empty_column_fits_any_type(populated: Path, tmp_path: Path) -> None:
    """A column with no values at all does not count as a type change."""
    blank = write(
        tmp_path / "blank.csv",
        "customer_id,email,lifetime_value,signup_date,marketing_consent,orders\n"
        "C6,fay@example.com,,,,\n",
    )
    assert import_file(populated, blank).rows == 4
    assert _kinds(populated) == EXPECTED_KINDS


def test_metadata_records_key_and_source(store: Path, customers_csv: Path) -> None:
    """The table file carries its key and the source's path, size and mtime."""
    before = dt.datetime.now(dt.UTC)
    import_file(store, customers_csv)
    info = read_table_info(store, "customers")
    assert (info.key, info.rows, info.source) == (
        "customer_id",
        3,
        SourceStamp.of(customers_csv),
    )
    assert info.imported_at is not None
    assert info.imported_at >= before


def test_source_stamp_notices_a_changed_file(customers_csv: Path) -> None:
    """A refresh can tell that the source file changed since the import."""
    stamp = SourceStamp.of(customers_csv)
    customers_csv.write_text(CUSTOMERS_CSV + "C4,d@example.com,1,2024-01-01,true,1\n")
    assert stamp.has_changed()


def test_a_successful_import_leaves_no_temporary_file(
    store: Path, customers_csv: Path
) -> None:
    """Only the table file and the lock remain in the folder."""
    import_file(store, customers_csv)
    assert leftovers(store) == []
