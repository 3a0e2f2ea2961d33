"""Engine errors of a segment query, as one safe line (no profile value in it).

A query that compiles can still fail in the engine: DuckDB refuses ``ESCAPE 'ab'``
when it binds the query, and ``CAST(email AS INTEGER)`` fails on the first value
that does not convert. The engines translate such errors here into
:class:`~audiencesync.errors.EvaluationError`. The engine's own text is kept only
when it is about the query (syntax, binding), never when it may quote a value
of the data (conversions, ranges, invalid input). On PostgreSQL, a query its
statement timeout stopped and a write its read-only transaction refused become
one too, told apart by their SQLSTATE.
"""

from __future__ import annotations

import duckdb
from sqlalchemy import exc as sa_exc

from audiencesync.errors import EvaluationError

_PREFIX = "The condition cannot be evaluated on the profile data"
_CONVERSION = (
    "a value does not convert to the type the condition needs (for example a cast"
    " of text to a number, or a literal too big for the column's type). Compare"
    " with values of the column's type, or use TRY_CAST, which gives NULL instead"
    " of failing."
)
_RANGE = (
    "a number, date or interval in it is out of range. Use smaller numbers or"
    " intervals."
)
_INPUT = (
    "a value or argument does not fit one of its functions or operators. Check"
    " the arguments (patterns, formats, ESCAPE characters)."
)
_QUERY_TEXT_ERRORS = (
    duckdb.SyntaxException,
    duckdb.ParserException,
    duckdb.BinderException,
    duckdb.NotImplementedException,
    duckdb.TypeMismatchException,
    duckdb.InvalidTypeException,
)
MAX_DETAIL = 200

DuckDBQueryError = (
    *_QUERY_TEXT_ERRORS,
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
)
"""The DuckDB errors that say the query, or the data under it, is at fault."""


def duckdb_query_error(exc: duckdb.Error) -> EvaluationError:
    """One line for a DuckDB error of a segment query."""
    if isinstance(exc, duckdb.ConversionException):
        return EvaluationError(f"{_PREFIX}: {_CONVERSION}")
    if isinstance(exc, duckdb.OutOfRangeException):
        return EvaluationError(f"{_PREFIX}: {_RANGE}")
    if isinstance(exc, _QUERY_TEXT_ERRORS):
        detail = _first_line(str(exc))
        return EvaluationError(f"{_PREFIX}: {detail} Fix the condition.")
    return EvaluationError(f"{_PREFIX}: {_INPUT}")


QUERY_CANCELED = "57014"
"""PostgreSQL's SQLSTATE for a statement cancelled (by its timeout, or by hand)."""
READ_ONLY_SQL_TRANSACTION = "25006"
"""PostgreSQL's SQLSTATE for a write attempted in a READ ONLY transaction."""
TIMEOUT_SETTING = "AUDIENCESYNC_PROFILES_TIMEOUT"


def sql_query_error(
    exc: sa_exc.DBAPIError, *, timeout: float
) -> EvaluationError | None:
    """One line for a database error of a segment query (its text is not shown).

    ``None`` when the error is not the query's (a lost connection, a missing
    grant): the caller lets it propagate. ``timeout`` is the engine's statement
    timeout in seconds (0: none set), for the message of a cancelled query.
    """
    state = _sqlstate(exc)
    if state == QUERY_CANCELED:
        return timeout_error(timeout)
    if state == READ_ONLY_SQL_TRANSACTION:
        reason = (
            "it would write to the database, and segment queries run read-only."
            " Use only conditions and functions that read."
        )
    elif isinstance(exc, sa_exc.DataError):
        reason = (
            "a value does not convert to the type the condition needs, or a"
            " number, date or interval is out of range. Compare with values of"
            " the column's type and use smaller numbers or intervals."
        )
    elif isinstance(exc, sa_exc.ProgrammingError):
        reason = (
            f"the database refused it ({type(exc.orig).__name__}). Check the"
            " condition's functions, casts and values."
        )
    else:
        return None
    return EvaluationError(f"{_PREFIX}: {reason}")


def timeout_error(timeout: float) -> EvaluationError:
    """The error of a segment query the database cancelled (57014).

    PostgreSQL gives the same SQLSTATE when an administrator cancels the query;
    with a timeout set, a timeout is by far the likelier cause.
    """
    if timeout > 0:
        msg = (
            f"The segment query ran longer than the {timeout:g} s limit and the"
            f" database stopped it. Raise {TIMEOUT_SETTING} (seconds), or narrow"
            " the segment or index the columns it tests."
        )
    else:
        msg = (
            "The database cancelled the segment query (its own statement timeout,"
            f" or an administrator). Set {TIMEOUT_SETTING} to the seconds a query"
            " may run, or narrow the segment."
        )
    details = {"limit_seconds": timeout, "setting": TIMEOUT_SETTING}
    return EvaluationError(msg, code="query_timeout", details=details)


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    """The SQLSTATE of a driver error: psycopg 3 ``sqlstate``, psycopg2 ``pgcode``."""
    for attribute in ("sqlstate", "pgcode"):
        state = getattr(exc.orig, attribute, None)
        if isinstance(state, str):
            return state
    return None


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "it was refused."
    if len(line) > MAX_DETAIL:
        line = line[: MAX_DETAIL - 1] + "…"
    return line if line.endswith((".", "…")) else f"{line}."
