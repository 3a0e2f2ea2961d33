"""The embedded store's files: one Parquet file per table, and its metadata.

``<home>/profiles/customers.parquet`` holds the ``customers`` table. What the
store knows about a table travels inside the file, as Parquet key-value
metadata, so it changes atomically with the rows: the key column, and for an
imported table its sources in the order they were imported (the replace that
made it, then each merge or append: path, size, modification time, key) and
when it was imported; a refresh re-applies them when a file changed. Writers build
the new file under a hidden temporary name in the same folder and move it into
place with :func:`os.replace`; readers therefore see the old file or the new
one, never half of either. One writer at a time holds :func:`writer_lock`.
"""

from __future__ import annotations

import enum
import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from audiencesync.core.parquet_facts import parquet_key_values, parquet_rows
from audiencesync.core.private import FILE_MODE
from audiencesync.errors import NotFoundError, SourceError
from audiencesync.profiles.identifiers import is_table_name, quote_literal

TABLE_SUFFIX = ".parquet"
LOCK_FILE = ".lock"
_PREFIX = "audiencesync."
KEY = f"{_PREFIX}key"
SOURCE = f"{_PREFIX}source"
SOURCE_SIZE = f"{_PREFIX}source_size"
SOURCE_MTIME_NS = f"{_PREFIX}source_mtime_ns"
IMPORTED_AT = f"{_PREFIX}imported_at"
GENERATOR = f"{_PREFIX}generator"
SOURCES = f"{_PREFIX}sources"


@dataclass(frozen=True, slots=True)
class SourceStamp:
    """Which file a table was imported from, and how it looked then."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> SourceStamp:
        """The stamp of ``path`` as it is now (``OSError`` when it is gone)."""
        stat = path.stat()
        return cls(path.resolve(), stat.st_size, stat.st_mtime_ns)

    def has_changed(self) -> bool:
        """True when the file is gone or its size or modification time moved."""
        try:
            return SourceStamp.of(self.path) != self
        except OSError:
            return True


class SourceMode(enum.StrEnum):
    """How a source file went into its table."""

    REPLACE = "replace"  # the base: the table became the file
    MERGE = "merge"  # layered on by key
    APPEND = "append"  # rows added


@dataclass(frozen=True, slots=True)
class TableSource:
    """One file a table was imported from, how, and with which key."""

    stamp: SourceStamp
    mode: SourceMode
    key: str

    @property
    def path(self) -> Path:
        """The file's path."""
        return self.stamp.path

    def restamped(self, stamp: SourceStamp) -> TableSource:
        """The same source, as the file looks at ``stamp``."""
        return TableSource(stamp, self.mode, self.key)


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One table file's row count and metadata, read without scanning rows."""

    name: str
    path: Path
    rows: int
    key: str | None = None
    source: SourceStamp | None = None
    imported_at: datetime | None = None
    generator: str | None = None
    sources: tuple[TableSource, ...] = ()


def table_path(folder: Path, name: str) -> Path:
    """Where table ``name`` lives in ``folder``."""
    return folder / f"{name}{TABLE_SUFFIX}"


def table_names(folder: Path) -> tuple[str, ...]:
    """The tables in ``folder``, sorted; other files are ignored."""
    if not folder.is_dir():
        return ()
    paths = folder.glob(f"*{TABLE_SUFFIX}")
    return tuple(sorted(p.stem for p in paths if is_table_name(p.stem)))


def read_table_info(folder: Path, name: str) -> TableInfo:
    """Row count and metadata of table ``name`` (:class:`NotFoundError` if absent)."""
    path = table_path(folder, name)
    try:
        raw, rows = parquet_key_values(path), parquet_rows(path)
    except FileNotFoundError as exc:
        msg = f"Table {name} does not exist in {folder}; import it first."
        raise NotFoundError(
            msg, code="table_not_found", details={"table": name}
        ) from exc
    except (OSError, ValueError) as exc:
        raise unreadable_table(path) from exc
    fields = _decoded(raw)
    sources = _sources_of(fields)
    return TableInfo(
        name=name,
        path=path,
        rows=rows,
        key=fields.get(KEY),
        source=sources[-1].stamp if sources else None,
        imported_at=_imported_at(fields),
        generator=fields.get(GENERATOR),
        sources=sources,
    )


def unreadable_table(path: Path) -> SourceError:
    """The error for a table file that is not readable Parquet."""
    msg = (
        f"{path} is not a readable Parquet file; move it away, or import the table"
        " again in replace mode."
    )
    return SourceError(msg, code="table_unreadable")


def table_metadata(
    *,
    key: str,
    sources: tuple[TableSource, ...] = (),
    imported_at: datetime | None = None,
    generator: str | None = None,
) -> dict[str, str]:
    """The key-value metadata a table file carries (the last source also alone)."""
    fields = {KEY: key}
    if sources:
        last = sources[-1].stamp
        fields[SOURCE] = str(last.path)
        fields[SOURCE_SIZE] = str(last.size)
        fields[SOURCE_MTIME_NS] = str(last.mtime_ns)
        fields[SOURCES] = json.dumps([_source_as_dict(s) for s in sources])
    if imported_at is not None:
        fields[IMPORTED_AT] = imported_at.isoformat()
    if generator is not None:
        fields[GENERATOR] = generator
    return fields


def parquet_options(metadata: Mapping[str, str]) -> str:
    """DuckDB ``COPY ... TO`` options: zstd Parquet carrying ``metadata``."""
    pairs = ", ".join(
        f"{quote_literal(name)}: {quote_literal(value)}"
        for name, value in metadata.items()
    )
    return f"FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{pairs}}}"


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it when the block succeeds.

    The temporary file is flushed to disk before the rename, and removed when the
    block fails, so a failed write leaves ``target`` untouched and nothing behind.
    """
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temp
        temp.chmod(FILE_MODE)  # profile data: private whatever the umask
        _flush_to_disk(temp)
        temp.replace(target)
        _flush_to_disk(target.parent)
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def writer_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's writer lock: one import or generate at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _flush_to_disk(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _decoded(raw: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in raw.items() if name.startswith(_PREFIX)}


def _sources_of(fields: Mapping[str, str]) -> tuple[TableSource, ...]:
    """The recorded sources; a table from before they were kept has one, its base."""
    if SOURCES in fields:
        return tuple(_source_from_dict(item) for item in json.loads(fields[SOURCES]))
    if SOURCE not in fields:
        return ()
    stamp = SourceStamp(
        Path(fields[SOURCE]),
        int(fields.get(SOURCE_SIZE, "-1")),
        int(fields.get(SOURCE_MTIME_NS, "-1")),
    )
    return (TableSource(stamp, SourceMode.REPLACE, fields.get(KEY, "")),)


def _source_as_dict(source: TableSource) -> dict[str, object]:
    return {
        "path": str(source.stamp.path),
        "size": source.stamp.size,
        "mtime_ns": source.stamp.mtime_ns,
        "mode": source.mode.value,
        "key": source.key,
    }


def _source_from_dict(item: Mapping[str, object]) -> TableSource:
    stamp = SourceStamp(
        Path(str(item["path"])), int(str(item["size"])), int(str(item["mtime_ns"]))
    )
    return TableSource(stamp, SourceMode(str(item["mode"])), str(item["key"]))


def _imported_at(fields: Mapping[str, str]) -> datetime | None:
    stamp = fields.get(IMPORTED_AT)
    return datetime.fromisoformat(stamp) if stamp else None
