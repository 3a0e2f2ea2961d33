"""Refreshes held by the removal brake: the new table file, waiting for approval.

A refresh that would remove more than the brake's share of a table's rows leaves
the table as it was and keeps the new content in ``<folder>/.held/``:
``<table>.parquet`` is the table file exactly as the refresh would have written
it (its sources in its metadata) and ``<table>.json`` the counts, when, and the
table file's size and modification time at that moment. Approving moves the held
file into place as it is, with one rename under the writer lock; discarding
deletes it. A hold whose table changed since (an import meanwhile) is stale:
approving it is refused, and the next refresh replaces it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.profiles.identifiers import check_table_name
from audiencesync.profiles.tables import replacing, table_path, writer_lock

HELD_FOLDER = ".held"
RECORD_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class Hold:
    """One held refresh: what it would do to its table, and the table it was for."""

    table: str
    rows: int  # the table's rows when the refresh was held
    new_rows: int  # the rows of the held content
    removed: int  # rows of the table the held content lacks
    brake: float  # the share (percent) it exceeded
    held_at: datetime
    table_size: int
    table_mtime_ns: int

    def is_current(self, folder: Path) -> bool:
        """Whether the table file is still the one the refresh was held against."""
        try:
            stat = table_path(folder, self.table).stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (
            self.table_size,
            self.table_mtime_ns,
        )


def held_folder(folder: Path) -> Path:
    """Where held refreshes of the store in ``folder`` wait."""
    return folder / HELD_FOLDER


def held_path(folder: Path, table: str) -> Path:
    """The held table file of ``table``."""
    return table_path(held_folder(folder), table)


def read_hold(folder: Path, table: str) -> Hold | None:
    """The held refresh of ``table``, or None (a half-written one counts as none)."""
    record = _record_path(folder, table)
    if not (record.is_file() and held_path(folder, table).is_file()):
        return None
    try:
        fields = json.loads(record.read_text(encoding="utf-8"))
        fields["held_at"] = datetime.fromisoformat(fields["held_at"])
        return Hold(**fields)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_record(folder: Path, hold: Hold) -> None:
    """Write the hold's record, after its table file (the record makes it a hold)."""
    fields = {**asdict(hold), "held_at": hold.held_at.isoformat()}
    with replacing(_record_path(folder, hold.table)) as temp:
        temp.write_text(json.dumps(fields), encoding="utf-8")


def drop_hold(folder: Path, table: str) -> None:
    """Remove the held refresh of ``table``, record first (caller holds the lock)."""
    _record_path(folder, table).unlink(missing_ok=True)
    held_path(folder, table).unlink(missing_ok=True)


def approve_hold(folder: Path, table: str) -> Hold:
    """Put the held content in place as it was held; the hold it was."""
    check_table_name(table)
    with writer_lock(folder):
        hold = _current_hold(folder, table)
        held_path(folder, table).replace(table_path(folder, table))
        _flush_folder(folder)
        _record_path(folder, table).unlink(missing_ok=True)
        return hold


def discard_hold(folder: Path, table: str) -> Hold:
    """Delete the held refresh of ``table``; the table keeps its rows."""
    check_table_name(table)
    with writer_lock(folder):
        hold = read_hold(folder, table)
        if hold is None:
            raise _no_hold(table)
        drop_hold(folder, table)
        return hold


def _current_hold(folder: Path, table: str) -> Hold:
    hold = read_hold(folder, table)
    if hold is None:
        raise _no_hold(table)
    if not hold.is_current(folder):
        msg = (
            f"Table {table} changed since its refresh was held, so the held content"
            " would undo that change; discard the held refresh and refresh again."
        )
        raise ConflictError(msg, code="hold_outdated", details={"table": table})
    return hold


def _no_hold(table: str) -> NotFoundError:
    msg = (
        f"Table {table} has no refresh waiting for approval; a refresh holds one only"
        " when it would remove more rows than the refresh removal brake allows."
    )
    return NotFoundError(msg, code="hold_not_found", details={"table": table})


def _record_path(folder: Path, table: str) -> Path:
    return held_folder(folder) / f"{table}{RECORD_SUFFIX}"


def _flush_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
