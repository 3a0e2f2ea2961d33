"""Row counts and key-value metadata of Parquet files, read without pyarrow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audiencesync.core.parquet_facts import parquet_key_values, parquet_rows
from audiencesync.sync.files import write_values
from audiencesync.sync.state import StateIdentity, read_identity


def test_the_row_count_is_read_from_the_footer(tmp_path: Path) -> None:
    """Three rows written, three counted; an empty file counts none."""
    three = write_values(
        tmp_path / "three.parquet", {"email": ("VARCHAR", ["a", "b", "c"])}
    )
    empty = write_values(tmp_path / "empty.parquet", {"email": ("VARCHAR", [])})
    assert (parquet_rows(three), parquet_rows(empty)) == (3, 0)


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    """No file: FileNotFoundError, as pyarrow raised it."""
    with pytest.raises(FileNotFoundError):
        parquet_rows(tmp_path / "none.parquet")


def test_a_damaged_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    """Not Parquet: a ValueError that names the file."""
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 certainly not a footer PAR1")
    with pytest.raises(ValueError, match=r"broken\.parquet is not a readable Parquet"):
        parquet_key_values(broken)


def test_a_state_files_identity_reads_back(tmp_path: Path) -> None:
    """The key-value metadata a state file carries comes back as text."""
    import duckdb  # noqa: PLC0415 - writes the file under test

    path = tmp_path / "state.parquet"
    identity = StateIdentity("a-key", 42)
    options = ", ".join(f"{k}: '{v}'" for k, v in identity.metadata().items())
    kv = f"KV_METADATA {{{options}}}"
    copy = f"COPY (SELECT 'x' AS email) TO '{path}' (FORMAT parquet, {kv})"
    with duckdb.connect() as con:
        con.execute(copy)
    assert read_identity(path) == identity
    assert parquet_key_values(path)["audiencesync_list_id"] == "42"


def test_reading_facts_imports_no_pyarrow(tmp_path: Path) -> None:
    """The point of this module: a footer read loads neither pyarrow nor numpy."""
    path = write_values(tmp_path / "one.parquet", {"n": ("BIGINT", [1])})
    code = (
        "import sys; from pathlib import Path\n"
        "from audiencesync.core.parquet_facts import parquet_rows, parquet_key_values\n"
        f"assert parquet_rows(Path({str(path)!r})) == 1\n"
        f"parquet_key_values(Path({str(path)!r}))\n"
        "heavy = ('pyarrow', 'numpy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
