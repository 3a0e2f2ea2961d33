"""Who each member is to Iterable: normalised email, userId, fields, and validity.

Members arrive as Arrow record batches (profile key first, then the mapped
columns), or, from the embedded DuckDB engine, as a query this database runs
itself (:class:`~audiencesync.profiles.duckdb_engine.DuckDBRelation`: no member
crosses Python, and the segment's condition and the classification run as one
parallel query). Batches are projected by column name onto a fixed internal
schema, so no profile column name reaches the classification's SQL (a relation
is projected by its quoted names), and streamed into DuckDB without becoming
Python objects. There each profile is normalised (email trimmed and
lowercased, userId trimmed, empty userId = none) and classified, first reason
wins:

``not_consenting``  the consent column is false or NULL (dropped, not a reject);
``empty``           no email, or only whitespace;
``malformed``       not an address Iterable accepts (:mod:`audiencesync.core.emails`);
``too_large``       its subscribe row alone exceeds a request body;
``duplicate``       an earlier profile (by profile key) has the same email.

``dataFields`` are the mapped fields only, as JSON text with keys sorted by
Iterable field name; ``field_hash`` is the MD5 hex digest of exactly that text.
MD5 is a fixed algorithm, so the hash is stable across DuckDB versions; should a
future DuckDB render a value differently, the body sent differs too, and
re-sending those members once is the right outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from audiencesync.core.emails import (
    EMAIL_SQL_PATTERN,
    MAX_EMAIL_LENGTH,
    MAX_LOCAL_LENGTH,
)
from audiencesync.profiles.duckdb_engine import DuckDBRelation
from audiencesync.profiles.identifiers import quote_identifier, quote_literal
from audiencesync.profiles.query_errors import DuckDBQueryError, duckdb_query_error

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from audiencesync.sync.mapping import ExportMapping

REJECT_REASONS = ("empty", "malformed", "too_large", "duplicate")
NOT_CONSENTING = "not_consenting"
_WHITESPACE = " \t\n\r\f\v"
_ROW_OVERHEAD = 40  # {"email":"","userId":,"dataFields":} and the comma after it


def load_members(
    con: duckdb.DuckDBPyConnection,
    members: Iterable[pa.RecordBatch] | DuckDBRelation,
    mapping: ExportMapping,
    *,
    max_row_bytes: int,
) -> None:
    """Create the ``profiles`` table: one classified row per member.

    Columns: profile_key, email, raw_email (NULL when equal to ``email``),
    user_id, data_fields, field_hash, row_bytes, reason (NULL = valid).
    A relation's query errors are the segment's: an EvaluationError.
    """
    if isinstance(members, DuckDBRelation):
        members.install(con)
        con.execute(f"CREATE VIEW source AS {_projection(members, mapping)}")
        try:
            con.execute(_profiles_sql(mapping, max_row_bytes), [EMAIL_SQL_PATTERN])
        except DuckDBQueryError as exc:
            raise duckdb_query_error(exc) from None
        con.execute("DROP VIEW source")
    else:
        con.register("source", _reader(members, mapping))
        con.execute(_profiles_sql(mapping, max_row_bytes), [EMAIL_SQL_PATTERN])
        con.unregister("source")
    con.execute(_DUPLICATES_SQL)


def _projection(relation: DuckDBRelation, mapping: ExportMapping) -> str:
    """The relation's columns under the internal names, as :func:`_project` does."""
    names = [relation.columns[0], *_source_columns(mapping)]
    for name in names[1:]:
        if name not in relation.columns:
            msg = f"the members have no column {name!r}: evaluate with mapping.columns"
            raise ValueError(msg)
    pairs = zip(names, _internal_columns(mapping), strict=True)
    selected = ", ".join(f"{quote_identifier(a)} AS {b}" for a, b in pairs)
    return f"SELECT {selected} FROM ({relation.sql}) AS members"  # noqa: S608 -- quoted names


def _reader(
    members: Iterable[pa.RecordBatch], mapping: ExportMapping
) -> pa.RecordBatchReader:
    import pyarrow as pa  # noqa: PLC0415 - a run with nothing to send needs no Arrow

    batches = (_project(batch, mapping) for batch in members)
    first = next(batches, None)
    if first is None:
        return pa.RecordBatchReader.from_batches(_empty_schema(mapping), iter(()))
    return pa.RecordBatchReader.from_batches(first.schema, _chain(first, batches))


def _chain(
    first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _project(batch: pa.RecordBatch, mapping: ExportMapping) -> pa.RecordBatch:
    """``batch`` renamed onto the internal schema (zero-copy)."""
    import pyarrow as pa  # noqa: PLC0415 - a run with nothing to send needs no Arrow

    arrays = [batch.column(0)]
    for name in _source_columns(mapping):
        index = batch.schema.get_field_index(name)
        if index < 0:
            msg = f"the members have no column {name!r}: evaluate with mapping.columns"
            raise ValueError(msg)
        arrays.append(batch.column(index))
    return pa.RecordBatch.from_arrays(arrays, names=_internal_columns(mapping))


def _source_columns(mapping: ExportMapping) -> list[str]:
    optional = [c for c in (mapping.user_id_field, mapping.consent_column) if c]
    return [
        mapping.email_field,
        *optional,
        *(mapping.fields[f] for f in _fields(mapping)),
    ]


def _internal_columns(mapping: ExportMapping) -> list[str]:
    names = ["profile_key", "email_raw"]
    names += ["user_id_raw"] if mapping.user_id_field else []
    names += ["consent"] if mapping.consent_column else []
    return names + [f"f{i}" for i in range(len(mapping.fields))]


def _empty_schema(mapping: ExportMapping) -> pa.Schema:
    import pyarrow as pa  # noqa: PLC0415 - a run with nothing to send needs no Arrow

    names = _internal_columns(mapping)
    types = {"consent": pa.bool_()}
    return pa.schema([(name, types.get(name, pa.string())) for name in names])


def _fields(mapping: ExportMapping) -> list[str]:
    return sorted(mapping.fields)


def _profiles_sql(mapping: ExportMapping, max_row_bytes: int) -> str:
    user_id = (
        f"nullif({_trim_sql('user_id_raw')}, '')"
        if mapping.user_id_field
        else "CAST(NULL AS VARCHAR)"
    )
    consent = (
        "TRY_CAST(consent AS BOOLEAN) IS TRUE" if mapping.consent_column else "true"
    )
    size = (
        f"strlen(email) + coalesce(strlen(to_json(user_id)), 0)"
        f" + coalesce(strlen(data_fields), 0) + {_ROW_OVERHEAD}"
    )
    return f"""
        CREATE TABLE profiles AS SELECT
            profile_key, email, nullif(raw_email, email) AS raw_email, user_id,
            data_fields,
            CASE WHEN reason IS NULL THEN md5(data_fields) END AS field_hash,
            row_bytes, reason
        FROM (SELECT *, CASE
            WHEN NOT consenting THEN '{NOT_CONSENTING}'
            WHEN email IS NULL OR email = '' THEN 'empty'
            WHEN NOT (strlen(email) <= {MAX_EMAIL_LENGTH}
                      AND regexp_full_match(email, ?)
                      AND strpos(email, '@') <= {MAX_LOCAL_LENGTH + 1}) THEN 'malformed'
            WHEN row_bytes > {max_row_bytes} THEN 'too_large'
        END AS reason
        FROM (SELECT *, {size} AS row_bytes
        FROM (SELECT
            profile_key,
            CAST(email_raw AS VARCHAR) AS raw_email,
            lower({_trim_sql("email_raw")}) AS email,
            {user_id} AS user_id,
            {consent} AS consenting,
            CASE WHEN {consent} THEN {_data_fields_sql(mapping)} END AS data_fields
        FROM source)))
    """  # noqa: S608 -- internal column names, integers and quoted literals only


def _trim_sql(column: str) -> str:
    """``column`` as text without surrounding whitespace (space, tab, newlines).

    ``trim`` with a set of characters costs twice the plain one, which removes
    spaces only; the set is applied only where, after that, an end character
    is still below ``!`` (every whitespace character is).
    """
    text = f"trim(CAST({column} AS VARCHAR))"
    edges = f"(({text})[1] < '!' OR ({text})[-1] < '!')"
    full = f"trim({text}, {quote_literal(_WHITESPACE)})"
    return f"(CASE WHEN {edges} THEN {full} ELSE {text} END)"


def _data_fields_sql(mapping: ExportMapping) -> str:
    if not mapping.fields:
        return "CAST(NULL AS VARCHAR)"
    index = {field: i for i, field in enumerate(_fields(mapping))}
    pairs = ", ".join(f"{quote_literal(f)}, f{index[f]}" for f in _fields(mapping))
    return f"CAST(json_object({pairs}) AS VARCHAR)"


# Emails are nearly always unique: find the few shared ones by aggregation (on a
# 64-bit hash of the email, a quarter of the cost of grouping the text; a hash
# shared by two different emails only adds candidates), then rank only those
# candidates' profiles by email (by key; equal keys by arrival order).
_DUPLICATES_SQL = """
    UPDATE profiles SET reason = 'duplicate', field_hash = NULL
    WHERE rowid IN (
        SELECT rowid FROM (
            SELECT rowid, row_number() OVER (
                PARTITION BY email ORDER BY profile_key, rowid) AS rank
            FROM profiles
            WHERE reason IS NULL AND hash(email) IN (
                SELECT hash(email) FROM profiles WHERE reason IS NULL
                GROUP BY ALL HAVING count(*) > 1)
        ) WHERE rank > 1)
"""
