"""Table files: names, metadata, atomic replacement."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audiencesync.errors import NotFoundError, SourceError
from audiencesync.profiles.identifiers import (
    check_table_name,
    quote_identifier,
    quote_literal,
)
from audiencesync.profiles.schema import describe, table_as_dict
from audiencesync.profiles.tables import (
    SOURCES,
    SourceMode,
    SourceStamp,
    TableSource,
    read_table_info,
    replacing,
    table_metadata,
    table_names,
)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("customers", True),
        ("Purchases_2024", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("1st", False),
        ("_hidden", False),
        ("bad-name", False),
        ("", False),
    ],
    ids=[
        "plain",
        "mixed",
        "63 chars",
        "64 chars",
        "digit first",
        "underscore first",
        "dash",
        "empty",
    ],
)
def test_table_names_are_letters_digits_underscores(name: str, valid: bool) -> None:
    """Names start with a letter and hold at most 63 word characters."""
    if valid:
        assert check_table_name(name) == name
    else:
        with pytest.raises(SourceError):
            check_table_name(name)


def test_quoting_escapes_quotes() -> None:
    """Identifiers double their double quotes, literals their single quotes."""
    assert (quote_identifier('a"b'), quote_literal("it's")) == ('"a""b"', "'it''s'")


def test_table_names_ignore_other_files(tmp_path: Path) -> None:
    """Temporary files, the lock and invalid names are not tables."""
    for name in [
        "customers.parquet",
        ".customers.parquet.x.tmp",
        ".lock",
        "1x.parquet",
        "notes.txt",
    ]:
        (tmp_path / name).write_text("")
    assert table_names(tmp_path) == ("customers",)


def test_a_missing_folder_has_no_tables(tmp_path: Path) -> None:
    """A home that was never imported into has no tables."""
    assert table_names(tmp_path / "nowhere") == ()


def test_reading_a_missing_table_says_how_to_make_it(tmp_path: Path) -> None:
    """NotFoundError names the table and says to import it."""
    with pytest.raises(NotFoundError) as raised:
        read_table_info(tmp_path, "customers")
    assert str(raised.value) == (
        f"Table customers does not exist in {tmp_path}; import it first."
    )
    assert raised.value.code == "table_not_found"
    assert raised.value.details == {"table": "customers"}


def test_replacing_keeps_the_target_when_the_block_fails(tmp_path: Path) -> None:
    """A failure inside the block leaves the old file and no temporary file."""
    target = tmp_path / "customers.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        _write_then_fail(target)
    assert (target.read_text(), sorted(p.name for p in tmp_path.iterdir())) == (
        "old",
        ["customers.parquet"],
    )


def _write_then_fail(target: Path) -> None:
    with replacing(target) as temp:
        temp.write_text("half")
        msg = "disk full"
        raise RuntimeError(msg)


def test_replacing_moves_the_new_file_into_place(tmp_path: Path) -> None:
    """On success the target holds the new content."""
    target = tmp_path / "customers.parquet"
    with replacing(target) as temp:
        temp.write_text("new")
    assert (target.read_text(), sorted(p.name for p in tmp_path.iterdir())) == (
        "new",
        ["customers.parquet"],
    )


def test_describe_lists_tables_as_stable_json(populated: Path) -> None:
    """Schema data has name, key, rows and columns with kind and engine type."""
    (customers,) = describe(populated)
    assert table_as_dict(customers) == {
        "name": "customers",
        "key": "customer_id",
        "rows": 3,
        "columns": [
            {"name": "customer_id", "kind": "text", "type": "VARCHAR"},
            {"name": "email", "kind": "text", "type": "VARCHAR"},
            {"name": "lifetime_value", "kind": "number", "type": "DOUBLE"},
            {"name": "signup_date", "kind": "date", "type": "DATE"},
            {"name": "marketing_consent", "kind": "boolean", "type": "BOOLEAN"},
            {"name": "orders", "kind": "integer", "type": "BIGINT"},
        ],
    }


def test_a_table_from_before_sources_were_kept_has_its_file_as_base(
    tmp_path: Path,
) -> None:
    """Metadata with one source file (older versions) reads as a replace base."""
    stamp = SourceStamp(tmp_path / "old.csv", 12, 34)
    legacy = {
        name: value
        for name, value in table_metadata(
            key="customer_id", sources=(TableSource(stamp, SourceMode.MERGE, "x"),)
        ).items()
        if name != SOURCES
    }
    path = tmp_path / "customers.parquet"
    pq.write_table(
        pa.table({"customer_id": ["C1"]}).replace_schema_metadata(legacy), path
    )
    info = read_table_info(tmp_path, "customers")
    assert info.sources == (TableSource(stamp, SourceMode.REPLACE, "customer_id"),)
