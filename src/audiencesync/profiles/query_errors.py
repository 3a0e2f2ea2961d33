"""Engine errors of a segment query, as one safe line (no profile value in it).

A query that compiles can still fail in the engine: DuckDB refuses ``ESCAPE 'ab'``
when it binds the query, and ``CAST(email AS INTEGER)`` fails on the first value
that does not convert. The engines translate such errors here into
:class:`~audiencesync.errors.EvaluationError`. The engine's own text is kept only
when it is about the query (syntax, binding), never when it may quote a value
of the data (conversions, ranges, invalid input).
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


SqlQueryError = (sa_exc.DataError, sa_exc.ProgrammingError)
"""The database errors that say the query, or the data under it, is at fault."""


def sql_query_error(exc: sa_exc.DBAPIError) -> EvaluationError:
    """One line for a database error of a segment query (its text is not shown)."""
    if isinstance(exc, sa_exc.DataError):
        reason = (
            "a value does not convert to the type the condition needs, or a"
            " number, date or interval is out of range. Compare with values of"
            " the column's type and use smaller numbers or intervals."
        )
    else:
        reason = (
            f"the database refused it ({type(exc.orig).__name__}). Check the"
            " condition's functions, casts and values."
        )
    return EvaluationError(f"{_PREFIX}: {reason}")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "it was refused."
    if len(line) > MAX_DETAIL:
        line = line[: MAX_DETAIL - 1] + "…"
    return line if line.endswith((".", "…")) else f"{line}."
