"""Fuzzing of the parsers (reliability plan T18): succeed, or raise our own error.

Hypothesis feeds arbitrary input to every parser of outside data: Iterable's
answers (status, headers and body through the real client, and the pure
parsers), the ``Retry-After`` header, the segment rules JSON, the ``--where``
condition, the export's ``--field`` mapping and the profile files (CSV and JSON
lines bytes). Each must return
or raise :class:`~audiencesync.errors.AudiencesyncError` (or a documented
subclass); anything else is a crash, and so is an example that runs longer
than 10 s (a SIGALRM timer turns a hang into a failure). Examples are bounded
so the whole file runs in well under a minute (``FUZZ_EXAMPLES=3000`` for a
deeper run); ``print_blob`` prints the reproduction of a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import string
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiencesync.errors import AudiencesyncError
from audiencesync.exports.fields import parse_field_options
from audiencesync.iterable import IterableClient, RetryPolicy, Subscriber
from audiencesync.iterable.endpoints import Endpoint
from audiencesync.iterable.responses import (
    CallContext,
    error_for,
    load_json,
    parse_bulk_result,
    parse_clean_bulk,
    parse_fields,
    parse_lines,
    parse_list_id,
    parse_lists,
    parse_size,
    parse_user,
)
from audiencesync.iterable.retry import parse_retry_after
from audiencesync.profiles.sources import load_source
from audiencesync.segments.parsing import parse_rules, parse_rules_text
from audiencesync.segments.where import parse_where
from tests.reliability.figures import Figures

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))  # raise it for a deeper run
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILES = settings(
    FUZZ, max_examples=max(EXAMPLES // 5, 1)
)  # each example imports a file into DuckDB

# --- inputs -----------------------------------------------------------------

_BULK_KEYS = (
    "successCount",
    "failCount",
    "failedUpdates",
    "invalidEmails",
    "invalidUserIds",
    "code",
    "msg",
    "params",
    "forgottenEmails",
    "conflictEmails",
    "notFoundEmails",
    "invalidDataEmails",
    "listId",
    "lists",
    "id",
    "name",
    "listType",
    "user",
    "email",
    "dataFields",
    "fields",
    "size",
)
EMAILS = ("ana@example.com", "Ana@Example.com ", "bad@@x", "", "u-1")
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(EMAILS)
    | st.text(max_size=20)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(
            st.sampled_from(_BULK_KEYS) | st.text(max_size=8), inner, max_size=6
        )
    ),
    max_leaves=30,
)


def _dump(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


bodies = (
    json_values.map(_dump)
    | st.binary(max_size=300)
    | st.sampled_from(
        [
            b"",
            b"{",
            b'{"successCount": 1e999}',
            b"[" * 5000,
            b'"\xff\xfe"',
            b'{"successCount": 1, "failCount": 0, "failedUpdates": null}',
            b'{"code": "RateLimitExceeded"}',
            b'{"msg": "error.lists.invalidListId"}',
        ]
    )
)
statuses = st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 413, 429, 500]) | (
    st.integers(min_value=100, max_value=599)
)
SENT = [Subscriber(email=e) for e in ("ana@example.com", "ben@example.com")] + [
    Subscriber(user_id="u-1")
]


_RAN: dict[str, int] = {}  # examples run per target
_CRASHED: set[str] = set()  # targets that let something else out


HANG = 10.0  # seconds one example may take before it counts as a hang


class HangError(Exception):
    """An example ran longer than :data:`HANG` seconds."""


def _hung(signum: int, frame: object) -> None:
    del signum, frame
    msg = f"an example ran longer than {HANG} s"
    raise HangError(msg)


def _ours_or_nothing(target: str, call: Callable[[], object]) -> None:
    """Run ``call``; only the project's own error root may come out, in time."""
    _RAN[target] = _RAN.get(target, 0) + 1
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, HANG)
    try:
        call()
    except AudiencesyncError:
        pass
    except BaseException:
        _CRASHED.add(target)
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- Iterable's answers -----------------------------------------------------


@FUZZ
@given(status=statuses, body=bodies, endpoint=st.sampled_from(list(Endpoint)))
def test_any_answer_is_an_error_or_none(
    status: int, body: bytes, endpoint: Endpoint
) -> None:
    """error_for never raises: it returns our error or None for any status and body."""
    ctx = CallContext(endpoint=endpoint, items=3, list_age=1.0, secrets=("k" * 32,))
    errors: list[object] = []
    _ours_or_nothing("error_for", lambda: errors.append(error_for(status, body, ctx)))
    [error] = errors
    assert error is None or isinstance(error, AudiencesyncError)
    if status >= 400:
        assert error is not None


@FUZZ
@given(body=bodies)
def test_the_body_parsers_never_raise(body: bytes) -> None:
    """Every pure parser of a 2xx body returns a result or None on any bytes."""

    def parse_all() -> None:
        data = load_json(body)
        parse_bulk_result(data, SENT)
        parse_clean_bulk(data, len(SENT))
        parse_lists(data)
        parse_list_id(data)
        parse_user(data)
        parse_fields(data)
        parse_lines(body)
        parse_size(body)

    _ours_or_nothing("body parsers", parse_all)


headers = st.dictionaries(
    st.sampled_from(["Retry-After", "Content-Type", "Content-Encoding"]),
    st.text(string.printable, max_size=40),
    max_size=3,
)


@FUZZ
@given(status=statuses, body=bodies, head=headers)
def test_the_client_turns_any_answer_into_a_result_or_our_error(
    status: int, body: bytes, head: dict[str, str]
) -> None:
    """A subscribe through the real client, answered with anything: result or ours."""

    def answer(request: httpx.Request) -> httpx.Response:
        del request
        return httpx.Response(status, content=body, headers=head)

    async def call() -> None:
        async with IterableClient(
            "k" * 32,
            base_url="http://iterable.test",
            transport=httpx.MockTransport(answer),
            retry=RetryPolicy(attempts=1, timeout=5.0),
        ) as client:
            rows = [b'{"email":"ana@example.com"}', b'{"email":"ben@example.com"}']
            identities = [("ana@example.com", None), ("ben@example.com", None)]
            await client.subscribe_rows(7, rows, identities)

    _ours_or_nothing("client answer", lambda: asyncio.run(call()))


retry_after_values = (
    st.none()
    | st.text(max_size=40)
    | st.floats().map(repr)
    | st.integers().map(str)
    | st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    | st.sampled_from(
        [
            "1e400",
            "-1e400",
            "nan",
            "inf",
            "Mon, 99 Jan 99999 99:99:99 GMT",
            "Fri, 31 Dec 9999 23:59:59 +9999",
            "0x10",
            "\x00",
        ]
    )
)


@FUZZ
@given(value=retry_after_values, now=st.floats(0, 4e9))
def test_retry_after_is_a_bounded_wait_or_none(value: str | None, now: float) -> None:
    """Any Retry-After header gives None or a wait between 0 and the cap."""
    waits: list[float | None] = []
    _ours_or_nothing(
        "Retry-After",
        lambda: waits.append(parse_retry_after(value, now_wall=now, cap=120.0)),
    )
    [wait] = waits
    assert wait is None or 0.0 <= wait <= 120.0


# --- segment definitions ----------------------------------------------------

_RULE_KEYS = ("all", "any", "not", "column", "op", "value", "exists", "where", "path")
rule_values = st.recursive(
    _scalars | st.sampled_from(["=", "!=", ">", "in", "between", "country", "email"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(_RULE_KEYS) | st.text(max_size=6), inner, max_size=4
        )
    ),
    max_leaves=25,
)


@FUZZ
@given(data=rule_values)
def test_any_rules_json_parses_or_is_a_rule_error(data: object) -> None:
    """Decoded rules of any shape give a definition or our error."""
    _ours_or_nothing("rules JSON", lambda: parse_rules(data))


@FUZZ
@given(
    text=st.text(max_size=200)
    | rule_values.map(lambda v: json.dumps(v, allow_nan=True))
    | st.integers(1, 3000).map(lambda n: '{"not":' * n + "1" + "}" * n)
)
def test_any_rules_text_parses_or_is_a_rule_error(text: str) -> None:
    """Rules text (broken JSON, NaN, deep nesting) gives a definition or our error."""
    _ours_or_nothing("rules text", lambda: parse_rules_text(text))


_SQL_WORDS = st.sampled_from(
    [
        "country",
        "=",
        "'FR'",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        "IN",
        "LIKE",
        "ESCAPE",
        "BETWEEN",
        "1e400",
        "CAST(",
        "AS",
        "INTEGER",
        "IS",
        "NULL",
        ",",
        "--",
        ";",
        "INTERVAL",
        "'1' DAY",
        "lifetime_value",
        ">",
        "0",
        '"x"',
        "SELECT",
        "*",
    ]
)


@FUZZ
@given(
    text=st.text(max_size=120)
    | st.lists(_SQL_WORDS, max_size=14).map(" ".join)
    | st.integers(1, 3000).map(lambda n: "(" * n + "1" + ")" * n)
)
def test_any_where_text_parses_or_is_a_rule_error(text: str) -> None:
    """A ``--where`` of any text gives a definition or our error, never a crash."""
    _ours_or_nothing("--where", lambda: parse_where(text))


# --- export field mapping ---------------------------------------------------


@FUZZ
@given(
    options=st.lists(
        st.text(max_size=30)
        | st.sampled_from(["plan=plan", "=x", "a=", "a==b", "email=email", "a.b=c"]),
        max_size=5,
    )
)
def test_any_field_options_parse_or_are_our_error(options: list[str]) -> None:
    """``--field DATAFIELD=COLUMN`` options of any text give a mapping or our error."""
    _ours_or_nothing("--field", lambda: parse_field_options(options))


# --- profile files ----------------------------------------------------------

_CSV_PIECES = st.sampled_from(
    [
        b"customer_id,email,country\n",
        b"C1,ana@example.com,FR\n",
        b",",
        b"\n",
        b'"',
        b'""',
        b"\r\n",
        b"\xff\xfe",
        b"\x00",
        b";",
        b"C2,,\n",
        b"a,b,c,d\n",
        b"email\n",
        b"1e400",
        b"\xef\xbb\xbf",
    ]
)
_JSONL_PIECES = st.sampled_from(
    [
        b'{"customer_id": "C1", "email": "ana@example.com"}\n',
        b"{",
        b"}",
        b"\n",
        b'{"a": 1, "a": 2}\n',
        b"[1, 2]\n",
        b'{"x": {"y": [1, {"z": null}]}}\n',
        b"\xff",
        b'"text"\n',
        b"null\n",
        b'{"n": 1e400}\n',
        b'{"": 1}\n',
        b'{"email": 5}\n',
        b'{"big": 123456789012345678901234567890}\n',
    ]
)


def _load(folder: Path, name: str, content: bytes) -> None:
    path = folder / name
    path.write_bytes(content)
    with duckdb.connect() as connection:
        _ours_or_nothing(name, lambda: load_source(connection, path))


@FILES
@given(
    content=st.lists(_CSV_PIECES, max_size=12).map(b"".join) | st.binary(max_size=200)
)
def test_any_csv_bytes_load_or_are_a_source_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    """A CSV file of any bytes loads or is refused with our error."""
    _load(tmp_path_factory.mktemp("csv"), "customers.csv", content)


@FILES
@given(
    content=st.lists(_JSONL_PIECES, max_size=10).map(b"".join)
    | st.binary(max_size=200)
    | st.integers(1, 2000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n + b"\n")
)
def test_any_json_lines_bytes_load_or_are_a_source_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    """A JSON-lines file of any bytes (deep nesting too) loads or is our error."""
    _load(tmp_path_factory.mktemp("jsonl"), "customers.jsonl", content)


def test_zz_fuzz_figures(reliability_figures: Figures) -> None:
    """Reports the targets that crashed above (run last in this file; each failed)."""
    reliability_figures.record(tracebacks=len(_CRASHED))
    examples = ", ".join(f"{name} {count}" for name, count in sorted(_RAN.items()))
    reliability_figures.note("fuzz examples per target", examples or "none ran")
    assert not _CRASHED
