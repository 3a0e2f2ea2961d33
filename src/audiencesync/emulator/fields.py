"""Profile fields: type inference, project-wide type locking, and date handling.

The first non-null value written to a field fixes its type for the whole project:
``boolean``, ``long``, ``double``, ``date`` (strings that parse as a date, see
:func:`parse_date`), ``string`` or ``object``. An array takes the type of its
elements. Later values must fit: a long fits a double field, a date string fits a
string field; anything else is a ``RequestFieldsTypesMismatched`` error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

MAX_VALUE_LENGTH = 32_768

MANAGED_FIELDS = frozenset(
    {
        "emailListIds",
        "userListIds",
        "itblInternal",
        "itblDS",
        "itblUserId",
        "profileUpdatedAt",
        "signupSource",
        "subscribedMessageTypeIds",
        "unsubscribedChannelIds",
        "unsubscribedMessageTypeIds",
        "receivedSMSDisclaimer",
        "email",
        "userId",
    }
)
"""Fields a write may not set through ``dataFields``: dropped, reported as filtered."""

BUILTIN_FIELDS: Mapping[str, str] = {
    "email": "string",
    "userId": "string",
    "signupDate": "date",
    "signupSource": "string",
    "profileUpdatedAt": "date",
    "emailListIds": "long",
    "userListIds": "long",
}

_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?"
    r" ?(Z|[+-]\d{2}:?\d{2})?)?"
)
_INCOMING: Mapping[str, list[str]] = {
    "string": ["string", "keyword"],
    "date": ["date", "string", "keyword"],
    "long": ["long"],
    "double": ["double"],
    "boolean": ["boolean"],
    "object": ["object"],
}


def parse_date(text: str) -> str | None:
    """``text`` as ``yyyy-MM-dd HH:mm:ss +00:00`` in UTC, or None if not a date.

    Accepts ``yyyy-MM-dd``, ``yyyy-MM-dd HH:mm[:ss[.fff]] [offset]`` and ISO-8601
    (``T`` separator, ``Z`` or ``±HH:MM`` offset); no offset means UTC.
    """
    m = _DATE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, zone = m.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=_zone(zone),
        )
    except ValueError:
        return None
    return format_date(moment.timestamp())


def format_date(epoch: float) -> str:
    """Epoch seconds as Iterable's canonical date string."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S +00:00")


def _zone(text: str | None) -> timezone:
    if text is None or text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if text[0] == "-" else offset)


_SCALAR_TYPES: Mapping[type, str] = {
    bool: "boolean",
    int: "long",
    float: "double",
    dict: "object",
}


def type_of(value: object) -> str | None:
    """The field type a first write of ``value`` would fix (None: fixes nothing)."""
    if isinstance(value, str):
        return "date" if parse_date(value) is not None else "string"
    if isinstance(value, list):
        return next((t for t in map(type_of, value) if t is not None), None)
    return _SCALAR_TYPES.get(type(value))


def fits(expected: str, value: object) -> bool:
    """True when ``value`` can be stored in a field of type ``expected``."""
    if value is None:
        return True
    if isinstance(value, list):
        return all(fits(expected, item) for item in value)
    found = type_of(value)
    return (
        found == expected
        or (expected == "string" and found == "date")
        or (expected == "double" and found == "long")
    )


def normalize(expected: str, value: object) -> object:
    """``value`` as stored in a field of type ``expected`` (dates made canonical)."""
    if expected == "date" and isinstance(value, str):
        return parse_date(value)
    if expected == "date" and isinstance(value, list):
        return [normalize(expected, item) for item in value]
    return value


def is_oversized(value: object) -> bool:
    """True when a string value is longer than Iterable stores."""
    return isinstance(value, str) and len(value) > MAX_VALUE_LENGTH


def _offending(expected: str, value: object) -> object:
    if isinstance(value, list):
        return next(item for item in value if not fits(expected, item))
    return value


@dataclass(slots=True)
class FieldPlan:
    """What writing a batch of ``dataFields`` would do to the schema."""

    errors: dict[str, dict[str, object]] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    filtered: set[str] = field(default_factory=set)

    def mismatch_message(self, project_id: int) -> str:
        """Iterable's message for the first type error."""
        key, error = next(iter(self.errors.items()))
        name = key.rpartition(":::")[2]
        incoming = ", ".join(str(t) for t in _as_list(error["incomingTypes"]))
        return (
            f"Project {project_id}: The request does not have the same data types as"
            f" the data previously submitted. Field '{name}' already exists for type"
            f" 'user' and has a data type of '{error['expectedType']}' but possible"
            f" types '{incoming}' in the request."
        )


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


class Schema:
    """The project's field name → type table."""

    __slots__ = ("types",)

    def __init__(self, types: Mapping[str, str] | None = None) -> None:
        self.types: dict[str, str] = dict(types or {})

    def plan(
        self,
        rows: Iterable[tuple[str, Mapping[str, object]]],
        *,
        create_new: bool = True,
    ) -> FieldPlan:
        """Check ``rows`` of (error key prefix, dataFields) without changing anything.

        A prefix of "" gives error keys that are the bare field name; "3" gives
        ``"3:::field"`` (the bulk endpoints' form).
        """
        plan = FieldPlan()
        for prefix, data in rows:
            for name, value in data.items():
                self._check(plan, prefix, name, value, create_new=create_new)
        return plan

    def _check(
        self,
        plan: FieldPlan,
        prefix: str,
        name: str,
        value: object,
        *,
        create_new: bool,
    ) -> None:
        if name in MANAGED_FIELDS:
            plan.filtered.add(name)
            return
        expected = self.types.get(name) or plan.created.get(name)
        if expected is None:
            found = type_of(value)
            if found is not None and create_new:
                plan.created[name] = found
            elif found is not None:
                plan.filtered.add(name)
            return
        if not fits(expected, value):
            offending = _offending(expected, value)
            key = f"{prefix}:::{name}" if prefix else name
            plan.errors[key] = {
                "incomingTypes": _INCOMING[type_of(offending) or "string"],
                "expectedType": expected,
                "_type": "UnexpectedType",
                "offendingValue": offending,
                "category": "user",
            }

    def lock(self, plan: FieldPlan) -> list[str]:
        """Fix the types the plan introduces; returns the new field names."""
        self.types.update(plan.created)
        return sorted(plan.created)

    def apply(
        self,
        target: dict[str, object],
        data: Mapping[str, object],
        *,
        merge_nested: bool = False,
    ) -> None:
        """Merge ``data`` into profile fields (null clears; unknown names skipped)."""
        for name, value in data.items():
            expected = self.types.get(name)
            if expected is None or name in MANAGED_FIELDS:
                continue
            if value is None:
                target.pop(name, None)
            elif merge_nested and isinstance(value, dict):
                old = target.get(name)
                target[name] = {**old, **value} if isinstance(old, dict) else value
            else:
                target[name] = normalize(expected, value)

    def public(self) -> dict[str, str]:
        """The schema as getFields prints it (built-in fields included)."""
        return {**BUILTIN_FIELDS, **self.types}
