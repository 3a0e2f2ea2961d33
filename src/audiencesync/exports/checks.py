"""The checks an export setup passes before it is saved, with the fix in each message.

Column checks read the profile table of the engine's catalog: the email field must
be a text column, the userId field a text or integer column, extra fields any
column whose values fit an Iterable field, the consent column a boolean column.
Messages name columns and counts, never a profile value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from audiencesync.core.naming import clean_name
from audiencesync.core.suggest import closest, listed
from audiencesync.errors import ConfigError, NotFoundError
from audiencesync.exports.fields import check_field_names
from audiencesync.profiles.catalog import Column, ColumnKind, Table
from audiencesync.segments.names import name_key
from audiencesync.store.destinations import EXPORT_MODES

LARGE_SEGMENT = 1_000_000
# Iterable publishes no rate limit for lists/subscribe; we assume its published
# limit for the other bulk write, users/bulkUpdate: 5 calls per second.
ASSUMED_CALLS_PER_SECOND = 5
SUBSCRIBERS_PER_CALL = 1000
_SENDABLE = frozenset(ColumnKind) - {ColumnKind.OTHER}


def normalize_export_name(raw: str) -> str:
    """``raw`` trimmed, or a ConfigError saying why it cannot name an export."""
    empty = 'An export needs a name, e.g. "Newsletter to Iterable".'
    return clean_name(raw, subject="export", empty=empty, field="name")


def email_column(table: Table, name: str) -> str:
    """The email column: it must exist and hold text."""
    column = column_of(table, name, subject=f"The email field {name!r}")
    if column.kind is not ColumnKind.TEXT:
        msg = (
            f"The email field {name!r} holds {column.kind} values ({column.sql_type});"
            " emails are text. Choose the text column that holds email addresses"
            f" (text columns: {listed(_of_kind(table, ColumnKind.TEXT))})."
        )
        raise ConfigError(msg)
    return column.name


def user_id_column(table: Table, name: str) -> str:
    """The userId column: it must exist and hold text or integers."""
    column = column_of(table, name, subject=f"The userId field {name!r}")
    if column.kind not in {ColumnKind.TEXT, ColumnKind.INTEGER}:
        msg = (
            f"The userId field {name!r} holds {column.kind} values"
            f" ({column.sql_type}); Iterable user IDs are text. Choose a text or"
            " integer column."
        )
        raise ConfigError(msg)
    return column.name


def field_columns(table: Table, fields: Mapping[str, str]) -> dict[str, str]:
    """The extra fields, checked: allowed Iterable names, sendable columns."""
    check_field_names(fields)
    for field, name in fields.items():
        subject = f"{name!r} (mapped to the Iterable field {field!r})"
        column = column_of(table, name, subject=subject)
        if column.kind not in _SENDABLE:
            msg = (
                f"{subject} holds {column.sql_type} values, which an Iterable field"
                " cannot hold. Map a text, number, boolean, date or timestamp column."
            )
            raise ConfigError(msg)
    return dict(fields)


def consent_column(table: Table, name: str) -> str:
    """The consent column: it must exist and be boolean."""
    column = column_of(table, name, subject=f"The consent column {name!r}")
    if column.kind is not ColumnKind.BOOLEAN:
        msg = (
            f"The consent column {name!r} holds {column.kind} values"
            f" ({column.sql_type}); it must be boolean (true: may be sent)."
            f" Boolean columns: {listed(_of_kind(table, ColumnKind.BOOLEAN))}."
        )
        raise ConfigError(msg)
    return column.name


def column_of(table: Table, name: str, *, subject: str) -> Column:
    """The column called exactly ``name``, or a NotFoundError with the closest."""
    column = table.column(name)
    if column is not None:
        return column
    names = table.column_names
    close = closest(name, names)
    hint = f" Did you mean {close!r}?" if close else ""
    msg = (
        f"{subject} is not a column of the profile table {table.name}."
        f"{hint} (columns: {listed(names)})"
    )
    raise NotFoundError(msg)


def unique_segments(names: Sequence[str]) -> list[str]:
    """The segment names given, trimmed; at least one, none twice."""
    cleaned = [name.strip() for name in names]
    if not cleaned:
        msg = (
            "An export needs at least one segment: give the name of a saved"
            " segment (give several to export several; each becomes an Iterable"
            " list)."
        )
        raise ConfigError(msg, field="segments")
    seen: dict[str, str] = {}
    for name in cleaned:
        key = name_key(name)
        if key in seen:
            msg = (
                f"The segment {name!r} is given twice (as {seen[key]!r} and"
                f" {name!r}): each segment feeds one list; give it once."
            )
            raise ConfigError(msg, field="segments")
        seen[key] = name
    return cleaned


def check_mode(mode: str) -> str:
    """``mirror`` or ``add-only``."""
    if mode not in EXPORT_MODES:
        msg = (
            f"Unknown mode {mode!r}: use mirror (members who leave the segment are"
            " removed from the list) or add-only (nobody is ever removed)."
        )
        raise ConfigError(msg)
    return mode


def check_removal_brake(percent: int) -> int:
    """A whole percentage from 0 to 100."""
    if isinstance(percent, bool) or not 0 <= percent <= 100:
        msg = (
            f"The removal brake {percent} is out of range: give a percentage from 0"
            " (hold every removal for approval) to 100 (hold only when a segment"
            " empties or fails); the default is 20."
        )
        raise ConfigError(msg, field="removal_brake")
    return percent


def check_drift_threshold(percent: int) -> int:
    """A whole percentage from 0 to 100."""
    if isinstance(percent, bool) or not 0 <= percent <= 100:
        msg = (
            f"The drift threshold {percent} is out of range: give a percentage from"
            " 0 (any difference between a list and what was sent is a drift) to"
            " 100; the default is 5."
        )
        raise ConfigError(msg, field="drift_threshold")
    return percent


def size_warnings(counts: Mapping[str, int]) -> list[str]:
    """A warning for each segment above :data:`LARGE_SEGMENT` members."""
    return [
        f"Segment {name!r} has {members:,} members: the first export sends them"
        f" all; at Iterable's limits that takes about {_minutes(members)}."
        for name, members in counts.items()
        if members > LARGE_SEGMENT
    ]


def _minutes(members: int) -> str:
    calls = math.ceil(members / SUBSCRIBERS_PER_CALL)
    minutes = max(1, math.ceil(calls / ASSUMED_CALLS_PER_SECOND / 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def _of_kind(table: Table, kind: ColumnKind) -> list[str]:
    return [column.name for column in table.columns if column.kind is kind]
