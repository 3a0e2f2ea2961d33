"""Extra fields: which Iterable field names an export may write, and from where.

An export sends the email (and optionally the userId) plus only the extra fields
mapped here, as Iterable ``dataFields``. Iterable manages some profile fields
itself and ignores or rejects writes to them (``../shared/iterable-api.md``
section 7); ``email`` and ``userId`` have their own settings. Names are case- and
space-sensitive in Iterable, so a reserved name differing only in case is refused
too: it would create a confusing look-alike field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from audiencesync.errors import ConfigError

FIELDS_INPUT = "fields"
"""The input an extra-field mapping comes from, as the API names it."""
IDENTIFIER_SETTINGS = {"email": "email field", "userid": "userId field"}
MANAGED_FIELDS = frozenset(
    {
        "emailListIds",
        "userListIds",
        "itblInternal",
        "itblDS",
        "itblUserId",
        "profileUpdatedAt",
        "signupDate",
        "signupSource",
        "subscribedMessageTypeIds",
        "receivedSMSDisclaimer",
        "unsubscribedChannelIds",
        "unsubscribedMessageTypeIds",
    }
)
_MANAGED_KEYS = {name.casefold(): name for name in MANAGED_FIELDS}
ITERABLE_PREFIX = "itbl"


def parse_field_options(options: Iterable[str]) -> dict[str, str]:
    """``ITERABLE_FIELD=COLUMN`` strings as a mapping; duplicates are refused."""
    fields: dict[str, str] = {}
    for option in options:
        field, sep, column = option.partition("=")
        if not sep or not field or not column:
            msg = (
                f"The field mapping {option!r} is not ITERABLE_FIELD=COLUMN: write"
                " the Iterable field, '=', then the profile column, e.g."
                " firstName=first_name."
            )
            raise ConfigError(msg, field=FIELDS_INPUT)
        if field in fields:
            msg = (
                f"The Iterable field {field!r} is mapped twice (from {fields[field]!r}"
                f" and {column!r}): each field takes one column; keep one mapping."
            )
            raise ConfigError(msg, field=FIELDS_INPUT)
        fields[field] = column
    return fields


def check_field_names(fields: Mapping[str, str]) -> None:
    """Raise ConfigError, saying why, for the first field an export may not write."""
    for name in fields:
        check_field_name(name)


def check_field_name(name: str) -> None:
    """Raise ConfigError unless ``name`` may be sent as an Iterable data field."""
    reason = _refusal(name)
    if reason is not None:
        msg = f"The Iterable field {name!r} cannot be mapped: {reason}"
        raise ConfigError(msg, field=FIELDS_INPUT)


def _refusal(name: str) -> str | None:
    key = name.casefold()
    rules = (
        (
            not name.strip(),
            "it is empty. Name the Iterable field, e.g. firstName.",
        ),
        (
            name != name.strip(),
            "it starts or ends with a space, and Iterable field names are"
            " space-sensitive, so it would create a look-alike field. Remove the"
            " spaces.",
        ),
        (
            "." in name,
            "Iterable reads a '.' as a path into a nested object field. Use a flat"
            " name such as 'addressCity'.",
        ),
        (
            key in IDENTIFIER_SETTINGS,
            "it is Iterable's identifier field; choose its column as the export's"
            f" {IDENTIFIER_SETTINGS.get(key)} instead.",
        ),
        (
            key in _MANAGED_KEYS,
            f"Iterable manages {_MANAGED_KEYS.get(key)!r} itself (lists,"
            " subscriptions and sign-up data) and ignores or rejects writes to it."
            " Choose another name.",
        ),
        (
            key.startswith(ITERABLE_PREFIX),
            f"names starting with {ITERABLE_PREFIX!r} are Iterable's own internal"
            " fields. Choose another name.",
        ),
    )
    return next((reason for broken, reason in rules if broken), None)
