"""Classify and diff a segment in Spark: only the rows to send or report come back.

With profiles on Spark, a segment may have more members than one machine should
read. :class:`SparkMembers` runs what :mod:`audiencesync.sync.identity` and the
diff of :mod:`audiencesync.sync.plan` do in DuckDB, in Spark SQL, next to the
data: each member normalised and classified (same rules, same reasons, first
reason wins), duplicates ranked by profile key, then the full join with the
sync state, which Spark reads from the run files (on a cluster, a folder every
executor sees: ``AUDIENCESYNC_RUN_DATA``). The planner then receives, as Arrow
batches, only:

- the ``diff`` rows: joiners, changed members, retried, forgotten and leavers;
- the ``invalid`` rows: profiles rejected before sending (reported to the user);
- the count of members per reason.

A segment of 100 million members with 1 % churn sends about 2 million rows
back, not 100 million. Everything after that (batches, bodies, the plan file) is
the planner's usual work, and the plan is byte-identical to the one DuckDB makes
from the same members (``tests/sync/test_spark_plan.py`` compares them, control
characters and non-ASCII text included).

Spark's errors about the query or the data become an EvaluationError, like the
segment's own evaluation. An export that maps a column Spark prints unlike DuckDB
(floating-point, timestamp, a decimal with more than 6 places: :func:`unpushable`)
is planned in DuckDB whatever the state's size, so a plan never depends on where
it was made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from audiencesync.core.emails import (
    EMAIL_SQL_PATTERN,
    MAX_EMAIL_LENGTH,
    MAX_LOCAL_LENGTH,
)
from audiencesync.sync.identity import NOT_CONSENTING

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb
    from pyspark.sql import DataFrame, SparkSession

    from audiencesync.sync.mapping import ExportMapping

# Every whitespace character trim removes in DuckDB (identity._WHITESPACE).
_WHITESPACE = r"' \u0009\u000A\u000D\u000C\u000B'"
_JSON_OPTIONS = (
    "map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ss',"
    " 'dateFormat', 'yyyy-MM-dd')"
)
_STATE_SCHEMA = "email STRING, user_id STRING, field_hash STRING"
# Spark types whose text (CAST to STRING, to_json) is DuckDB's, character for
# character: the only ones a plan made in Spark may read. Floating-point numbers
# and timestamps print otherwise (1.0E10, 2026-01-10T08:00:00.000), and so do
# decimals with more than 6 places (0E-10), so their exports plan in DuckDB.
_TEXT = r"string|varchar\(\d+\)|char\(\d+\)"
_INTEGER = r"tinyint|smallint|int|bigint"
_IDENTIFIER_TYPES = re.compile(rf"{_TEXT}|{_INTEGER}")
_FIELD_TYPES = re.compile(rf"{_TEXT}|{_INTEGER}|boolean|date|decimal\(\d+,[0-6]\)")


@dataclass(frozen=True, slots=True)
class DiffRequest:
    """What the diff compares the members with, and how."""

    mapping: ExportMapping
    state: Path | None
    retry: Collection[str]
    final: Collection[str]
    max_row_bytes: int
    full: bool = False


def unpushable(frame: DataFrame, mapping: ExportMapping) -> list[str]:
    """The mapped columns (with their types) Spark would print unlike DuckDB.

    Empty when the segment can be planned in Spark with the very plan DuckDB
    would make.
    """
    types = {field.name: field.dataType.simpleString() for field in frame.schema}
    wanted = [(mapping.email_field, _IDENTIFIER_TYPES)]
    if mapping.user_id_field:
        wanted.append((mapping.user_id_field, _IDENTIFIER_TYPES))
    if mapping.consent_column:
        wanted.append((mapping.consent_column, re.compile("boolean")))
    wanted += [(column, _FIELD_TYPES) for column in mapping.fields.values()]
    return [
        f"{column} ({types.get(column)})"
        for column, allowed in wanted
        if not allowed.fullmatch(types.get(column, ""))
    ]


class SparkMembers:
    """A segment's members as a Spark DataFrame (key first, then the mapped columns)."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame
        self.member_count = 0

    def classify_and_diff(
        self, con: duckdb.DuckDBPyConnection, request: DiffRequest
    ) -> dict[str, int]:
        """Create the local ``diff`` and ``invalid`` tables; the members per reason."""
        spark = self.frame.sparkSession
        names = _Views(spark)
        try:
            from audiencesync.profiles.spark_engine import run_spark  # noqa: PLC0415

            reasons: dict[str, int] = run_spark(lambda: self._plan(con, request, names))
            return reasons
        finally:
            names.drop()

    def _plan(
        self, con: duckdb.DuckDBPyConnection, request: DiffRequest, names: _Views
    ) -> dict[str, int]:
        spark = self.frame.sparkSession
        source = names.add("source", _project(self.frame, request.mapping))
        args = {"pattern": f"^(?:{EMAIL_SQL_PATTERN})\\z"}
        classified = spark.sql(
            _classified_sql(source, request.mapping, request.max_row_bytes), args=args
        ).persist()
        try:
            profiles = names.add("profiles", classified)
            names.add("state", _state(spark, request.state))
            names.add("retry", _emails(spark, request.retry))
            names.add("final", _emails(spark, request.final))
            reasons = {
                str(row[0]): int(row[1])
                for row in spark.sql(_REASONS_SQL.format(profiles=profiles)).collect()
            }
            _fetch(con, "invalid", spark.sql(_INVALID_SQL.format(profiles=profiles)))
            diff = _diff_sql(names, mirror=request.mapping.is_mirror, full=request.full)
            _fetch(con, "diff", spark.sql(diff))
        finally:
            classified.unpersist()
        self.member_count = sum(reasons.values())
        return reasons


class _Views:
    """Temporary views of one plan, uniquely named, dropped at the end."""

    def __init__(self, spark: SparkSession) -> None:
        self._spark = spark
        self._prefix = f"as_plan_{uuid.uuid4().hex}"
        self.names: dict[str, str] = {}

    def add(self, role: str, frame: DataFrame) -> str:
        name = f"{self._prefix}_{role}"
        frame.createOrReplaceTempView(name)
        self.names[role] = name
        return name

    def drop(self) -> None:
        for name in self.names.values():
            self._spark.catalog.dropTempView(name)


def _project(frame: DataFrame, mapping: ExportMapping) -> DataFrame:
    """The members on the internal columns (profile_key, email_raw, ...)."""
    from pyspark.sql.functions import col  # noqa: PLC0415 - optional extra

    def column(name: str, alias: str) -> Any:
        return col(f"`{name.replace('`', '``')}`").alias(alias)

    columns = [column(frame.columns[0], "profile_key")]
    columns.append(column(mapping.email_field, "email_raw"))
    if mapping.user_id_field:
        columns.append(column(mapping.user_id_field, "user_id_raw"))
    if mapping.consent_column:
        columns.append(column(mapping.consent_column, "consent"))
    for index, field in enumerate(sorted(mapping.fields)):
        columns.append(column(mapping.fields[field], f"f{index}"))
    return frame.select(*columns)


def _trim(column: str) -> str:
    return f"trim(BOTH {_WHITESPACE} FROM CAST({column} AS STRING))"


def _json_length(value: str) -> str:
    """Bytes of ``value`` as a JSON string (Spark's to_json takes no scalar)."""
    return f"(octet_length(to_json(array({value}))) - 2)"


def _data_fields(mapping: ExportMapping) -> str:
    if not mapping.fields:
        return "CAST(NULL AS STRING)"
    pairs = ", ".join(
        f"{_literal(field)}, f{index}"
        for index, field in enumerate(sorted(mapping.fields))
    )
    return f"to_json(named_struct({pairs}), {_JSON_OPTIONS})"


def _literal(text: str) -> str:
    """``text`` as a Spark SQL string literal (backslash escapes)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _classified_sql(source: str, mapping: ExportMapping, max_row_bytes: int) -> str:
    """Every member classified, duplicates included: the ``profiles`` of the planner."""
    user_id = (
        f"nullif({_trim('user_id_raw')}, '')"
        if mapping.user_id_field
        else "CAST(NULL AS STRING)"
    )
    consent = (
        "try_cast(consent AS BOOLEAN) IS TRUE" if mapping.consent_column else "true"
    )
    size = (
        f"octet_length(email) + coalesce({_json_length('user_id')}, 0)"
        " + coalesce(octet_length(data_fields), 0) + 40"
    )
    return f"""
        WITH normalised AS (SELECT
            profile_key,
            CAST(email_raw AS STRING) AS raw_email,
            lower({_trim("email_raw")}) AS email,
            {user_id} AS user_id,
            {consent} AS consenting,
            CASE WHEN {consent} THEN {_data_fields(mapping)} END AS data_fields
        FROM {source}),
        sized AS (SELECT *, {size} AS row_bytes FROM normalised),
        reasoned AS (SELECT *, CASE
            WHEN NOT consenting THEN '{NOT_CONSENTING}'
            WHEN email IS NULL OR email = '' THEN 'empty'
            WHEN NOT (octet_length(email) <= {MAX_EMAIL_LENGTH}
                      AND email RLIKE :pattern
                      AND instr(email, '@') <= {MAX_LOCAL_LENGTH + 1}) THEN 'malformed'
            WHEN row_bytes > {max_row_bytes} THEN 'too_large'
        END AS reason FROM sized),
        ranked AS (SELECT *, CASE WHEN reason IS NULL THEN row_number() OVER (
            PARTITION BY reason, email ORDER BY profile_key, raw_email) END AS rank
            FROM reasoned)
        SELECT profile_key, email,
            CASE WHEN raw_email = email THEN NULL ELSE raw_email END AS raw_email,
            user_id, data_fields,
            CASE WHEN reason IS NULL AND rank = 1 THEN md5(data_fields) END
                AS field_hash,
            row_bytes,
            CASE WHEN reason IS NULL AND rank > 1 THEN 'duplicate' ELSE reason END
                AS reason
        FROM ranked
    """  # noqa: S608 -- view names, integers and escaped literals only


_REASONS_SQL = "SELECT coalesce(reason, 'valid'), count(*) FROM {profiles} GROUP BY 1"
_INVALID_SQL = """
    SELECT profile_key, coalesce(raw_email, email) AS email, reason FROM {profiles}
    WHERE reason IN ('empty', 'malformed', 'too_large', 'duplicate')
"""


def _diff_sql(names: _Views, *, mirror: bool, full: bool) -> str:
    """Every member or state row that is not unchanged, with its kind.

    The same as :func:`audiencesync.sync.plan._diff_sql`, in Spark SQL.
    """
    leaver = "'removed'" if mirror else "'kept'"
    same = "'updated'" if full else "'unchanged'"
    views = names.names
    return f"""
        SELECT * FROM (SELECT
            coalesce(m.email, s.email) AS email, m.profile_key,
            CASE WHEN m.email IS NULL THEN s.user_id ELSE m.user_id END AS user_id,
            m.data_fields, m.field_hash, s.email IS NOT NULL AS in_state,
            coalesce(m.row_bytes, octet_length(s.email)
                + coalesce({_json_length("s.user_id")}, 0) + 40) AS row_bytes,
            CASE
                WHEN m.email IS NULL THEN {leaver}
                WHEN f.email IS NOT NULL THEN 'forgotten'
                WHEN r.email IS NOT NULL THEN 'retried'
                WHEN s.email IS NULL THEN 'added'
                WHEN NOT (s.field_hash <=> m.field_hash)
                  OR NOT (s.user_id <=> m.user_id) THEN 'updated'
                ELSE {same} END AS kind
            FROM (SELECT * FROM {views["profiles"]} WHERE reason IS NULL) m
            FULL JOIN {views["state"]} s ON s.email = m.email
            LEFT JOIN {views["retry"]} r ON r.email = m.email
            LEFT JOIN {views["final"]} f ON f.email = m.email
        ) WHERE kind NOT IN ('unchanged', 'kept')
    """  # noqa: S608 -- view names and constant kinds only


def _state(spark: SparkSession, path: Path | None) -> DataFrame:
    if path is None or not path.exists():
        return spark.createDataFrame([], _STATE_SCHEMA)
    return spark.read.parquet(str(path.resolve())).select(
        "email", "user_id", "field_hash"
    )


def _emails(spark: SparkSession, emails: Collection[str]) -> DataFrame:
    """Normalised like the planner's retry and final tables: distinct, lowercase."""
    rows = sorted({email.strip(" ").lower() for email in emails})
    return spark.createDataFrame([(email,) for email in rows], "email STRING")


def _fetch(con: duckdb.DuckDBPyConnection, table: str, frame: DataFrame) -> None:
    """Stream ``frame`` into the local table ``table``, one partition at a time."""
    import pyarrow as pa  # noqa: PLC0415 - Spark plans only

    reader = pa.RecordBatchReader.from_stream(frame)
    con.register(f"{table}_arrow", reader)
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_arrow")  # noqa: S608
    con.unregister(f"{table}_arrow")


def read_emails(path: Path | None) -> list[str]:
    """The ``email`` column of a planner input file (retry, final); none without one."""
    if path is None or not path.exists():
        return []
    import pyarrow.parquet as pq  # noqa: PLC0415 - Spark plans only

    emails = pq.read_table(path, columns=["email"])["email"].to_pylist()
    return [str(email) for email in emails if email is not None]
