"""Read one input file (CSV, Parquet, JSON lines) into a DuckDB table, or say why not.

Types are inferred by DuckDB over the whole file (``sample_size=-1``), never from
a sample that a later row contradicts. Bad input is reported with its line
numbers and how to fix it, never guessed away: a CSV row with too many or too
few fields, an unterminated quote, a line that is not a JSON object, duplicate
or empty column names, an empty file. Messages name files, lines and columns,
never a value from the file.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from audiencesync.errors import SourceError
from audiencesync.profiles.identifiers import quote_identifier, quote_literal

INCOMING = "incoming"
FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SUPPORTED = ".csv, .parquet, .jsonl or .ndjson"
SHOWN_PROBLEMS = 3
RESERVED_COLUMNS = frozenset({"rowid"})
_CSV_DIALECT = "header=true, delim=',', quote='\"', escape='\"', strict_mode=true"
_CSV_PROBLEMS = {
    "TOO MANY COLUMNS": "too many fields",
    "MISSING COLUMNS": "too few fields",
    "UNQUOTED VALUE": "unterminated quote",
    "INVALID ENCODING": "not UTF-8 text",
    "INVALID UNICODE": "not UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "line too long",
}


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """A column as read from the file: its name and DuckDB type."""

    name: str
    type: str


def source_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``jsonl`` from the file's extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = path.suffix or "(none)"
        msg = (
            f"Cannot import {path.name}: unknown file type {shown}; use a"
            f" {SUPPORTED} file."
        )
        raise SourceError(msg)
    return fmt


def check_readable(path: Path) -> None:
    """The file's name is text; it exists, is a file, opens and is not empty."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError as exc:
        shown = str(path).encode("utf-8", "surrogateescape").decode("ascii", "replace")
        msg = (
            f"The file name {shown!r} is not valid UTF-8 text; rename the file (or"
            " its folder) to a UTF-8 name and import again."
        )
        raise SourceError(msg) from exc
    if not path.exists():
        msg = f"File {path} does not exist; check the path."
        raise SourceError(msg)
    if not path.is_file():
        msg = f"{path} is not a file; give the path of a {SUPPORTED} file."
        raise SourceError(msg)
    try:
        with path.open("rb") as handle:
            first = handle.read(1)
    except OSError as exc:
        msg = f"Cannot read {path}: {exc.strerror}; make the file readable."
        raise SourceError(msg) from exc
    if not first:
        msg = (
            f"{path.name} is empty (0 bytes); check that the file was written"
            " completely and import again."
        )
        raise SourceError(msg)


def load_source(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    text_columns: Iterable[str] = (),
) -> tuple[SourceColumn, ...]:
    """Create table ``incoming`` from ``path``, rows in file order.

    ``text_columns`` are read as text from a CSV file whatever they look like
    (so ids such as ``00123`` or ``12`` keep matching a text column).
    """
    fmt = source_format(path)
    check_readable(path)
    if fmt == "csv":
        _load_csv(connection, path, frozenset(text_columns))
    elif fmt == "jsonl":
        _load_jsonl(connection, path)
    else:
        _load_parquet(connection, path)
    columns = _columns(connection)
    if not _has_rows(connection):
        msg = f"{path.name} has no rows; add at least one row and import again."
        raise SourceError(msg)
    return columns


def check_column_names(names: list[str], source: str) -> None:
    """Every column has a name, unique ignoring case, and not a reserved one."""
    for position, name in enumerate(names, start=1):
        if not name.strip():
            msg = (
                f"{source} has a column without a name (column {position}); name"
                " every column and import again."
            )
            raise SourceError(msg)
    folded = [name.casefold() for name in names]
    clashing = [name for name in names if folded.count(name.casefold()) > 1]
    if clashing:
        msg = (
            f"{source} has duplicate column names: {', '.join(clashing)}. Column"
            " names must be unique, ignoring case; rename them and import again."
        )
        raise SourceError(msg)
    reserved = [name for name in names if name.casefold() in RESERVED_COLUMNS]
    if reserved:
        msg = (
            f"{source} has a column named {reserved[0]}, a name the profile store"
            " reserves; rename it and import again."
        )
        raise SourceError(msg)


def malformed(source: str, problems: list[str], total: int, unit: str) -> SourceError:
    """``new.csv has 2 malformed lines: line 3: ...; line 7: .... Fix ...``."""
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = total - min(len(problems), SHOWN_PROBLEMS)
    tail = f"; and {more} more" if more > 0 else ""
    noun = unit if total == 1 else f"{unit}s"
    them = "it" if total == 1 else "them"
    msg = (
        f"{source} has {total} malformed {noun}: {shown}{tail}. Fix {them} and"
        " import again."
    )
    return SourceError(msg)


# --- CSV ---------------------------------------------------------------------


def _load_csv(
    connection: duckdb.DuckDBPyConnection, path: Path, text_columns: frozenset[str]
) -> None:
    header = _csv_header(path)
    check_column_names(header, path.name)
    _check_csv_lines(connection, path, header)
    forced = [name for name in header if name in text_columns]
    types = _struct(dict.fromkeys(forced, "VARCHAR"))
    typed = f", types={types}" if forced else ""
    try:
        connection.execute(
            f"CREATE TABLE {INCOMING} AS SELECT * FROM read_csv("
            f"{quote_literal(str(path))}, {_CSV_DIALECT}, sample_size=-1{typed})"
        )
    except duckdb.Error as exc:
        raise _unreadable_csv(path) from exc
    if [column.name for column in _columns(connection)] != header:
        raise _unreadable_csv(path)


def _unreadable_csv(path: Path) -> SourceError:
    msg = (
        f"{path.name} cannot be read as CSV; use commas between fields, double"
        " quotes around fields that hold commas, and a header row."
    )
    return SourceError(msg)


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            lines = (line.decode("utf-8-sig") for line in handle)
            header = next(csv.reader(lines), None)
    except UnicodeDecodeError as exc:
        msg = f"{path.name} is not UTF-8 text; save it as UTF-8 and import again."
        raise SourceError(msg) from exc
    except csv.Error as exc:
        msg = f"{path.name} has a malformed header row; fix it and import again."
        raise SourceError(msg) from exc
    if not header:
        msg = f"{path.name} has no header row; add one that names the columns."
        raise SourceError(msg)
    return header


def _check_csv_lines(
    connection: duckdb.DuckDBPyConnection, path: Path, header: list[str]
) -> None:
    """Read every line as text with the header's field count; report misfits."""
    columns = _struct(dict.fromkeys(header, "VARCHAR"))
    try:
        connection.execute(
            # count(COLUMNS(*)) reads every field: count(*) would skip text checks
            f"SELECT count(COLUMNS(*)) FROM read_csv({quote_literal(str(path))},"
            f" {_CSV_DIALECT},"
            f" auto_detect=false, columns={columns}, store_rejects=true,"
            " rejects_table='csv_rejects', rejects_scan='csv_reject_scans')"
        ).fetchall()
    except duckdb.Error as exc:  # e.g. a stray carriage return after the rows
        raise _unreadable_csv(path) from exc
    rejected = connection.execute(
        "SELECT line, min(error_type), min(error_message) FROM csv_rejects"
        " GROUP BY line ORDER BY line"
    ).fetchall()
    if rejected:
        problems = [
            f"line {line}: {_csv_problem(kind, text, len(header))}"
            for line, kind, text in rejected[:SHOWN_PROBLEMS]
        ]
        raise malformed(path.name, problems, len(rejected), "line")


def _csv_problem(kind: str, message: str, expected: int) -> str:
    problem = _CSV_PROBLEMS.get(kind, "malformed")
    found = re.search(r"Found: (\d+)", message or "")
    if kind in {"TOO MANY COLUMNS", "MISSING COLUMNS"} and found:
        noun = "field" if found[1] == "1" else "fields"
        return f"{found[1]} {noun}, expected {expected}"
    return problem


def _struct(fields: dict[str, str]) -> str:
    pairs = ", ".join(
        f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in fields.items()
    )
    return f"{{{pairs}}}"


# --- JSON lines --------------------------------------------------------------


def _load_jsonl(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    literal = quote_literal(str(path))
    try:
        connection.execute(
            f"CREATE TABLE {INCOMING} AS SELECT * FROM read_json({literal},"
            " format='newline_delimited', records=true, sample_size=-1)"
        )
    except duckdb.Error as exc:
        raise _jsonl_error(path) from exc
    keys = connection.execute(
        "SELECT DISTINCT unnest(json_keys(json)) FROM"
        f" read_ndjson_objects({literal}) ORDER BY 1"
    ).fetchall()
    check_column_names([str(row[0]) for row in keys], path.name)


def _jsonl_error(path: Path) -> SourceError:
    """Find why DuckDB refused a JSON lines file: bad lines, or no rows."""
    problems = list(_jsonl_problems(path))
    if problems:
        shown = [f"line {number}: {problem}" for number, problem in problems]
        return malformed(path.name, shown, len(problems), "line")
    if not _has_records(path):
        msg = f"{path.name} has no rows; add at least one row and import again."
        return SourceError(msg)
    msg = (
        f"{path.name} cannot be read as JSON lines; put one flat JSON object on"
        " each line and import again."
    )
    return SourceError(msg)


def _jsonl_problems(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                problem = _json_line_problem(line)
                if problem:
                    yield number, problem


def _json_line_problem(line: str) -> str | None:
    try:
        value = json.loads(line, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        return f"key {exc.key} appears twice"
    except ValueError:
        return "not valid JSON"
    except RecursionError:
        return "nested too deeply (use one flat JSON object per line)"
    if not isinstance(value, dict):
        return "not a JSON object"
    return None


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen[key] = value
    return seen


def _has_records(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return any(line.strip() for line in handle)


# --- Parquet -----------------------------------------------------------------


def _load_parquet(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        msg = (
            f"{path.name} is not a readable Parquet file; export it again as"
            " Parquet, or import it in the format it really has."
        )
        raise SourceError(msg) from exc
    check_column_names(list(schema.names), path.name)
    connection.execute(
        f"CREATE TABLE {INCOMING} AS SELECT * FROM"
        f" read_parquet({quote_literal(str(path))})"
    )


# --- the loaded table ----------------------------------------------------------


def _columns(connection: duckdb.DuckDBPyConnection) -> tuple[SourceColumn, ...]:
    described = connection.execute(f"DESCRIBE {quote_identifier(INCOMING)}").fetchall()
    return tuple(SourceColumn(str(row[0]), str(row[1])) for row in described)


def _has_rows(connection: duckdb.DuckDBPyConnection) -> bool:
    rows = connection.execute(f"SELECT 1 FROM {INCOMING} LIMIT 1").fetchall()
    return bool(rows)
