"""Bad input files are refused with exact messages, and change nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from audiencesync.errors import SourceError
from audiencesync.profiles.importing import import_file
from audiencesync.profiles.tables import table_path
from tests.profiles.conftest import digest, leftovers

HEADER = "customer_id,email,lifetime_value,signup_date,marketing_consent,orders\n"
REPLACE_HINT = "import it in replace mode to change the table's columns."


@dataclass(frozen=True, slots=True)
class Case:
    """One bad input: the file, the import options, the exact message."""

    name: str
    content: bytes | str | None
    message: str
    options: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("new.csv", None, "File {path} does not exist; check the path."),
    Case(
        "new.txt",
        "customer_id\nC9\n",
        "Cannot import new.txt: unknown file type .txt; use a .csv, .parquet,"
        " .jsonl or .ndjson file.",
    ),
    Case(
        "new.csv",
        HEADER + "C9,x@example.com,1,2024-01-01,true,1,extra\n",
        "new.csv has 1 malformed line: line 2: 7 fields, expected 6. Fix it and"
        " import again.",
    ),
    Case(
        "new.csv",
        "customer_id,email\nC1,a@example.com\nC2\nC3,c@example.com,x\nC4\nC5\nC6\n",
        "new.csv has 5 malformed lines: line 3: 1 field, expected 2; line 4:"
        " 3 fields, expected 2; line 5: 1 field, expected 2; and 2 more. Fix them"
        " and import again.",
    ),
    Case(
        "new.csv",
        HEADER + 'C9,"x@example.com,1,2024-01-01,true,1\n',
        "new.csv has 1 malformed line: line 2: unterminated quote. Fix it and"
        " import again.",
    ),
    Case(
        "new.csv",
        HEADER.encode() + b"C9,caf\xe9@example.com,1,2024-01-01,true,1\n",
        "new.csv has 1 malformed line: line 2: not UTF-8 text. Fix it and import"
        " again.",
    ),
    Case(
        "new.csv",
        b"customer_id,caf\xe9\nC9,1\n",
        "new.csv is not UTF-8 text; save it as UTF-8 and import again.",
    ),
    Case(
        "new.jsonl",
        '{"customer_id": "C9"}\n{"customer_id": "C10"\n',
        "new.jsonl has 1 malformed line: line 2: not valid JSON. Fix it and import"
        " again.",
    ),
    Case(
        "new.jsonl",
        '{"customer_id": "C9"}\n\n["C10"]\n',
        "new.jsonl has 1 malformed line: line 3: not a JSON object. Fix it and"
        " import again.",
    ),
    Case(
        "new.jsonl",
        '{"customer_id": "C9", "customer_id": "C10"}\n',
        "new.jsonl has 1 malformed line: line 1: key customer_id appears twice."
        " Fix it and import again.",
    ),
    Case(
        "new.csv",
        "",
        "new.csv is empty (0 bytes); check that the file was written completely"
        " and import again.",
    ),
    Case(
        "new.csv",
        HEADER,
        "new.csv has no rows; add at least one row and import again.",
    ),
    Case(
        "new.jsonl",
        "\n\n",
        "new.jsonl has no rows; add at least one row and import again.",
    ),
    Case(
        "new.parquet",
        HEADER,
        "new.parquet is not a readable Parquet file; export it again as Parquet,"
        " or import it in the format it really has.",
    ),
    Case(
        "new.csv",
        "customer_id,email,Email\nC9,a@example.com,b@example.com\n",
        "new.csv has duplicate column names: email, Email. Column names must be"
        " unique, ignoring case; rename them and import again.",
    ),
    Case(
        "new.csv",
        "customer_id,,email\nC9,1,a@example.com\n",
        "new.csv has a column without a name (column 2); name every column and"
        " import again.",
    ),
    Case(
        "new.csv",
        "customer_id,rowid\nC9,1\n",
        "new.csv has a column named rowid, a name the profile store reserves;"
        " rename it and import again.",
    ),
    Case(
        "new.csv",
        "id,email\n9,a@example.com\n",
        "Key column customer_id is not in new.csv; its columns are: id, email. Add"
        " the column, or choose one of these as the key.",
    ),
    Case(
        "new.csv",
        "id,email\n9,a@example.com\n",
        "new.csv has no customer_id column to use as the key; its columns are: id,"
        " email. Choose the key column.",
        {"table": "people"},
    ),
    Case(
        "new.csv",
        HEADER + "C9,a@example.com,1,2024-01-01,true,1\n",
        "Key column cid is not in new.csv; its columns are: customer_id, email,"
        " lifetime_value, signup_date, marketing_consent, orders. Add the column,"
        " or choose one of these as the key.",
        {"key": "cid", "replace": True},
    ),
    Case(
        "new.csv",
        HEADER + "C9,a@example.com,1,2024-01-01,true,1\n",
        "Table customers is keyed by customer_id, not email. Import with key"
        " customer_id, or in replace mode to change the key.",
        {"key": "email"},
    ),
    Case(
        "new.csv",
        HEADER
        + "C9,a@example.com,1,2024-01-01,true,1\n"
        + ",b@example.com,1,2024-01-01,true,1\n"
        + '" ",c@example.com,1,2024-01-01,true,1\n',
        "2 records of new.csv have no customer_id (records 2, 3). Every record"
        " needs a customer_id: fill it in or remove the record, and import again.",
    ),
    Case(
        "new.csv",
        HEADER
        + "C9,a@example.com,1,2024-01-01,true,1\n"
        + "C8,b@example.com,1,2024-01-01,true,1\n"
        + "C9,c@example.com,1,2024-01-01,true,1\n"
        + "C8,d@example.com,1,2024-01-01,true,1\n",
        "2 customer_id values appear more than once in new.csv (C9, C8). Table"
        " customers holds one row per customer_id: remove the duplicates and"
        " import again.",
    ),
    Case(
        "new.csv",
        "email,name\na@example.com,Ann\nb@example.com,Bob\na@example.com,Al\n",
        "1 email value appears more than once in new.csv (first at record 1)."
        " Table customers holds one row per email: remove the duplicates and"
        " import again.",
        {"key": "email", "replace": True},
    ),
    Case(
        "new.csv",
        HEADER + "C9,a@example.com,unknown,2024-01-01,true,1\n",
        "Column lifetime_value was DOUBLE in table customers and is VARCHAR in"
        f" new.csv. Fix the file, or {REPLACE_HINT}",
    ),
    Case(
        "new.csv",
        "customer_id,email,lifetime_value,signup_date,marketing_consent,orders,city\n"
        "C9,a@example.com,1,2024-01-01,true,1,Paris\n",
        "new.csv has columns that table customers does not: city. Remove them from"
        f" the file, or {REPLACE_HINT}",
    ),
    Case(
        "new.csv",
        "customer_id,email,signup_date,marketing_consent,orders\n"
        "C9,a@example.com,2024-01-01,true,1\n",
        "new.csv lacks columns of table customers: lifetime_value. Add them to the"
        f" file, or {REPLACE_HINT}",
    ),
    Case(
        "new.csv",
        HEADER + "C9,a@example.com,1,2024-01-01,true,1\n",
        "Table name '1st' is not valid: use letters, digits and underscores,"
        " starting with a letter, at most 63 characters.",
        {"table": "1st"},
    ),
]
IDS = [
    "missing file",
    "unknown extension",
    "csv row with too many fields",
    "csv with many bad rows",
    "csv unterminated quote",
    "csv row not utf-8",
    "csv header not utf-8",
    "json line malformed",
    "json line not an object",
    "json line with a repeated key",
    "empty file",
    "csv header only",
    "json lines all blank",
    "parquet that is not parquet",
    "duplicate column names",
    "column without a name",
    "reserved column name",
    "table key missing from file",
    "no key column for a new table",
    "key option not a column",
    "key option differs from table key",
    "null and blank keys",
    "duplicate keys",
    "duplicate email keys show no email",
    "column type changed",
    "new column",
    "missing column",
    "bad table name",
]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_input_is_refused_and_changes_nothing(
    populated: Path, tmp_path: Path, case: Case
) -> None:
    """The exact message; the table file byte-identical; no temporary file left."""
    path = tmp_path / case.name
    if isinstance(case.content, str):
        path.write_text(case.content, encoding="utf-8")
    elif isinstance(case.content, bytes):
        path.write_bytes(case.content)
    table = table_path(populated, "customers")
    before = digest(table)
    with pytest.raises(SourceError) as raised:
        import_file(populated, path, **case.options)  # type: ignore[arg-type]
    assert str(raised.value) == case.message.format(path=path)
    assert digest(table) == before
    assert leftovers(populated) == []


def test_a_failed_first_import_creates_no_table(store: Path, tmp_path: Path) -> None:
    """When the table did not exist, a failed import leaves no file at all."""
    path = tmp_path / "new.csv"
    path.write_text("customer_id,email\n,a@example.com\n", encoding="utf-8")
    with pytest.raises(SourceError):
        import_file(store, path)
    assert sorted(p.name for p in store.iterdir()) == [".lock"]


def test_messages_never_show_emails(populated: Path, tmp_path: Path) -> None:
    """A duplicate-key error on an email key shows record numbers, not addresses."""
    path = tmp_path / "new.csv"
    path.write_text("email\nsecret@example.com\nsecret@example.com\n", encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        import_file(populated, path, key="email", replace=True)
    assert "@" not in str(raised.value)
