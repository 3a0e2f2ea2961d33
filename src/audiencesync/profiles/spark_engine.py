"""Segments on Apache Spark: profiles in a Spark catalog or a folder of Parquet tables.

``AUDIENCESYNC_PROFILES_URL`` names the Spark master and where the tables are:

``spark://HOST:PORT``         a standalone cluster's master
``spark+local://``            Spark in this process, on every core (``local[*]``)
``spark+local://?cores=N``    the same on N cores

with, as query parameters, ``tables=/path`` (a folder whose ``NAME.parquet`` files
or folders become the tables ``NAME``, the layout of the embedded store) and/or
``database=NAME`` (the Spark catalog's database to read; the session's current one
by default), and ``plan_from=N``: from a sync state of N people (default 10
million; 0: always), runs classify and diff a segment in Spark
(:mod:`audiencesync.sync.spark_plan`) instead of bringing its members to DuckDB.

Segment queries are rendered in sqlglot's ``spark`` dialect and run by Spark SQL,
with ANSI mode on (a cast that fails on a value is an error, as on DuckDB and
PostgreSQL) and the session time zone UTC. Rows come back as Arrow record batches,
one partition at a time (``DataFrame.__arrow_c_stream__``, through Spark's Python
workers), so the driver never holds a whole segment. One Spark context serves the
process (the JVM starts once); each engine has its own session on it, with its own
temporary views, and Spark stops at exit.

Errors Spark raises about the query or the data (analysis, parse, arithmetic and
cast errors) become an :class:`~audiencesync.errors.EvaluationError` in one line
that quotes no profile value.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from audiencesync.errors import AudiencesyncError, ConfigError, EvaluationError
from audiencesync.profiles.catalog import Catalog, Column, ColumnKind, Table
from audiencesync.profiles.engine import DEFAULT_BATCH_ROWS, count_query
from audiencesync.profiles.tables import read_table_info, table_names, table_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from sqlglot import exp

SCHEMES = ("spark", "spark+local")
_PREFIX = "The condition cannot be evaluated on the profile data"
_KINDS = {
    "string": ColumnKind.TEXT,
    "varchar": ColumnKind.TEXT,
    "char": ColumnKind.TEXT,
    "tinyint": ColumnKind.INTEGER,
    "smallint": ColumnKind.INTEGER,
    "int": ColumnKind.INTEGER,
    "bigint": ColumnKind.INTEGER,
    "float": ColumnKind.NUMBER,
    "double": ColumnKind.NUMBER,
    "decimal": ColumnKind.NUMBER,
    "boolean": ColumnKind.BOOLEAN,
    "date": ColumnKind.DATE,
    "timestamp": ColumnKind.TIMESTAMP,
    "timestamp_ntz": ColumnKind.TIMESTAMP,
}
# Spark's error conditions that say a value of the data did not fit (their
# messages may quote it, so only the condition's name is ever shown).
_DATA_ERRORS = frozenset({
    "CAST_INVALID_INPUT", "CAST_OVERFLOW", "NUMERIC_VALUE_OUT_OF_RANGE",
    "ARITHMETIC_OVERFLOW", "DIVIDE_BY_ZERO", "INVALID_FORMAT",
})  # fmt: skip
_CONDITION = re.compile(r"\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\]")
_SESSION_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
}
_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
# From a sync state of this many people, runs plan in Spark (sync.spark_plan): below
# it, bringing the members to DuckDB is cheaper than a Spark job with two shuffles.
DEFAULT_PLAN_FROM = 10_000_000
_PARAMETERS = ("tables", "database", "cores", "plan_from")


@dataclass(frozen=True, slots=True)
class SparkTarget:
    """Where a Spark URL points: the master, the tables folder, the database."""

    master: str
    tables: Path | None = None
    database: str | None = None
    plan_from: int = DEFAULT_PLAN_FROM


def is_spark_url(url: str) -> bool:
    """Whether ``url`` names Spark rather than an SQLAlchemy database."""
    return url.split(":", 1)[0].lower() in SCHEMES


def parse_spark_url(url: str) -> SparkTarget:
    """The master, tables folder and database of a Spark URL; ConfigError if bad."""
    parts = urlsplit(url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - set(_PARAMETERS))
    if unknown:
        msg = (
            f"AUDIENCESYNC_PROFILES_URL has unknown Spark parameters"
            f" ({', '.join(unknown)}); use tables=, database=, cores= or plan_from=."
        )
        raise ConfigError(msg)
    plan_from = query.get("plan_from", str(DEFAULT_PLAN_FROM))
    if not plan_from.isdigit():
        msg = (
            "AUDIENCESYNC_PROFILES_URL: plan_from= must be a whole number of people"
            " (0: always plan in Spark)."
        )
        raise ConfigError(msg)
    if parts.scheme.lower() == "spark+local":
        cores = query.get("cores", "*")
        if cores != "*" and not (cores.isdigit() and int(cores) > 0):
            msg = "AUDIENCESYNC_PROFILES_URL: cores= must be a whole number above 0."
            raise ConfigError(msg)
        master = f"local[{cores}]"
    elif parts.hostname:
        master = f"spark://{parts.hostname}:{parts.port or 7077}"
    else:
        msg = (
            "AUDIENCESYNC_PROFILES_URL names no Spark master; use spark://HOST:PORT"
            " or spark+local:// (this machine)."
        )
        raise ConfigError(msg)
    tables = Path(query["tables"]).expanduser() if query.get("tables") else None
    database = query.get("database") or None
    return SparkTarget(master, tables, database, plan_from=int(plan_from))


def spark_session(master: str) -> SparkSession:
    """The process's Spark session on ``master``; ConfigError when Spark cannot run."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - an optional extra
    except ImportError as exc:
        msg = (
            "AUDIENCESYNC_PROFILES_URL names Spark, but PySpark is not installed;"
            " install it with: pip install 'audiencesync[spark]'."
        )
        raise ConfigError(msg) from exc
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        msg = (
            "AUDIENCESYNC_PROFILES_URL names Spark, which needs Java 17 or newer;"
            " install a JDK and put java on the PATH (or set JAVA_HOME)."
        )
        raise ConfigError(msg)
    # py4j logs every call to the JVM and its answer at DEBUG: values of the data
    # among them. Nothing of it may reach a log, whatever level the root logs at.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    builder = SparkSession.builder.master(master).appName("audiencesync")
    for key, value in _SESSION_CONF.items():
        builder = builder.config(key, value)
    builder = builder.config(
        "spark.driver.extraJavaOptions",
        f"-Dlog4j2.configurationFile={_LOG_CONFIG.resolve().as_uri()}",
    )
    if master.startswith("local"):
        # Batches leave Spark through its Python workers: in this process's Python,
        # which has PyArrow (a cluster's workers need their own; docs/deployment.md).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = builder.getOrCreate()
    _quiet(session)
    return session


def _quiet(session: SparkSession) -> None:
    """No Spark log line may quote the data: its error logs do (a failed cast's value).

    Spark's own log (the JVM's) is switched off, and so are PySpark's two loggers
    that repeat a query's error; the error itself still reaches the caller, as an
    EvaluationError that names its condition only.
    """
    from pyspark.logger import PySparkLogger  # noqa: PLC0415 - an optional extra

    session.sparkContext.setLogLevel("OFF")
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


class SparkEngine:
    """Segment queries run by Spark SQL, in sqlglot's ``spark`` dialect."""

    def __init__(
        self,
        url: str,
        *,
        profile_table: str,
        key: str | None,
        session: SparkSession | None = None,
    ) -> None:
        self._target = parse_spark_url(url)
        if self._target.tables is not None and not self._target.tables.is_dir():
            msg = (
                f"AUDIENCESYNC_PROFILES_URL: tables= names {self._target.tables},"
                " which is not a folder here; point it at the folder of Parquet tables."
            )
            raise ConfigError(msg)
        self._profile_table = profile_table
        self._key = key
        # Its own session on the process's Spark context: its temporary views (the
        # folder's tables) are seen by no other engine, and it sees none of theirs.
        self._spark = (session or spark_session(self._target.master)).newSession()
        self._views: dict[str, tuple[int, int, int]] = {}

    @property
    def dialect(self) -> str:
        """Spark SQL's sqlglot dialect."""
        return "spark"

    def catalog(self) -> Catalog:
        """The tables of the folder and the database, with kinds and keys.

        Rows are given for the profile table only, when a file's footer says it.
        """
        names = self._table_names()
        return Catalog(tuple(self._table(name) for name in names), self._profile_table)

    def count(self, query: exp.Query) -> int:
        """How many rows ``query`` returns."""
        self._sync_views()
        rows = self._run(lambda: self._sql(count_query(query)).collect())
        return int(rows[0][0])

    def stream(
        self, query: exp.Query, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``query`` as record batches, one partition at a time."""
        if batch_rows < 1:
            msg = f"batch_rows must be at least 1, not {batch_rows}"
            raise ValueError(msg)
        self._sync_views()
        frame = self._run(lambda: self._sql(query))
        reader = self._run(lambda: pa.RecordBatchReader.from_stream(frame))
        batches = iter(reader)
        while True:
            batch = self._run(lambda: next(batches, None))
            if batch is None:
                return
            for start in range(0, batch.num_rows, batch_rows):
                yield batch.slice(start, batch_rows)

    @property
    def plan_from(self) -> int:
        """From a sync state of this many people, runs plan in Spark (plan_from=)."""
        return self._target.plan_from

    def frame(self, query: exp.Query) -> DataFrame:
        """``query`` as a lazy DataFrame on this engine's session, not run yet."""
        self._sync_views()
        frame: DataFrame = self._run(lambda: self._sql(query))
        return frame

    def version(self) -> str | None:
        """Unknown: the data lives elsewhere and may change at any time."""
        return None

    def close(self) -> None:
        """Drop the views of the tables folder; Spark itself serves the process."""
        for name in list(self._views):
            self._spark.catalog.dropTempView(name)
        self._views.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------

    def _sql(self, query: exp.Query) -> DataFrame:
        return self._spark.sql(query.sql(dialect=self.dialect))

    def _run(self, step: Any) -> Any:
        return run_spark(step)

    def _table_names(self) -> list[str]:
        self._sync_views()
        listed = self._spark.catalog.listTables(self._target.database)
        return sorted({table.name for table in listed} | set(self._views))

    def _table(self, name: str) -> Table:
        schema = self._spark.table(self._qualified(name)).schema
        columns = tuple(
            Column(field.name, kind_of(field.dataType.simpleString()),
                   field.dataType.simpleString())
            for field in schema.fields
        )  # fmt: skip
        names = {column.name for column in columns}
        is_profile = name == self._profile_table
        key = (self._key or self._stored_key(name)) if is_profile else None
        key = key if key in names else None
        rows = self._file_rows(name) if is_profile else None
        return Table(name, columns, key=key, rows=rows)

    def _file_rows(self, name: str) -> int | None:
        """The table's rows when one Parquet file of the folder holds it, else None.

        Read from the file's footer: a segment's every evaluation reads the catalog,
        and counting through Spark would be a job each time.
        """
        folder = self._target.tables
        if folder is None or name not in self._views:
            return None
        path = table_path(folder, name)
        if not path.is_file():
            return None
        try:
            return int(pq.read_metadata(path).num_rows)
        except (OSError, pa.ArrowException):
            return None

    def _stored_key(self, name: str) -> str | None:
        """The key an import recorded in the table's file, in the store's layout."""
        folder = self._target.tables
        if folder is None or name not in self._views:
            return None
        if not table_path(folder, name).is_file():
            return None  # a folder of part files, as Spark writes them
        try:
            return read_table_info(folder, name).key
        except AudiencesyncError:
            return None

    def _qualified(self, name: str) -> str:
        quoted = f"`{name.replace('`', '``')}`"
        database = self._target.database
        if database is None or name in self._views:
            return quoted
        return f"`{database.replace('`', '``')}`.{quoted}"

    def _sync_views(self) -> None:
        """One temporary view per table of the folder; replaced when its file was."""
        folder = self._target.tables
        if folder is None:
            return
        found = {name: table_path(folder, name) for name in table_names(folder)}
        for gone in set(self._views) - set(found):
            self._spark.catalog.dropTempView(gone)
            del self._views[gone]
        for name, path in found.items():
            try:
                stat = path.stat()
            except FileNotFoundError:  # replaced or removed since it was listed
                continue
            signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if self._views.get(name) != signature:
                frame = self._spark.read.parquet(str(path.resolve()))
                frame.createOrReplaceTempView(name)
                self._views[name] = signature


def run_spark(step: Any) -> Any:
    """``step()``, with Spark's query and data errors as EvaluationError."""
    from py4j.protocol import Py4JJavaError  # noqa: PLC0415 - optional extra
    from pyspark.errors import PySparkException  # noqa: PLC0415 - optional extra

    try:
        return step()
    # Read through Arrow's C stream, Spark's error arrives as an ArrowInvalid.
    except (PySparkException, Py4JJavaError, pa.ArrowInvalid) as exc:
        raise spark_query_error(exc) from None


def kind_of(type_name: str) -> ColumnKind:
    """The :class:`ColumnKind` of a Spark type's simple string (``decimal(12,2)``)."""
    return _KINDS.get(type_name.split("(", 1)[0].lower(), ColumnKind.OTHER)


def spark_query_error(exc: Exception) -> EvaluationError:
    """One line for a Spark error of a segment query; no value of the data in it."""
    condition = getattr(exc, "getCondition", lambda: None)()
    if not condition:  # wrapped on its way (py4j, Arrow): its first [CONDITION]
        found = _CONDITION.search(str(exc))
        condition = found.group(1) if found else ""
    family = str(condition).split(".", 1)[0]
    if family in _DATA_ERRORS:
        reason = (
            "a value does not convert to the type the condition needs, or a number,"
            " date or interval is out of range. Compare with values of the column's"
            " type, or use TRY_CAST, which gives NULL instead of failing."
        )
    else:
        named = f" ({family})" if family else ""
        reason = (
            f"Spark refused it{named}. Check the condition's functions, casts and"
            " values."
        )
    return EvaluationError(f"{_PREFIX}: {reason}")
