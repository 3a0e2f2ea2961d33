"""Extra fields: ITERABLE_FIELD=COLUMN parsing and the names Iterable reserves."""

from __future__ import annotations

import re

import pytest

from audiencesync.errors import ConfigError
from audiencesync.exports.fields import (
    MANAGED_FIELDS,
    check_field_name,
    parse_field_options,
)


def test_parse_field_options_maps_fields_to_columns() -> None:
    """Each option splits at the first '='; order is kept."""
    assert parse_field_options(["firstName=first_name", "score=a=b"]) == {
        "firstName": "first_name",
        "score": "a=b",
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["firstName"], "The field mapping 'firstName' is not ITERABLE_FIELD=COLUMN"),
        (["=first_name"], "The field mapping '=first_name' is not ITERABLE_FIELD="),
        (["firstName="], "e.g. firstName=first_name"),
        (
            ["city=city", "city=town"],
            "The Iterable field 'city' is mapped twice (from 'city' and 'town')",
        ),
    ],
    ids=["no equals", "no field", "no column", "duplicate"],
)
def test_parse_field_options_refuses(options: list[str], message: str) -> None:
    """Malformed or repeated options are refused with the expected form."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_field_options(options)


@pytest.mark.parametrize("name", sorted(MANAGED_FIELDS))
def test_iterable_managed_fields_are_refused(name: str) -> None:
    """Every field Iterable manages itself is refused, saying so."""
    with pytest.raises(ConfigError, match=f"Iterable manages '{name}' itself"):
        check_field_name(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("email", "it is Iterable's identifier field; choose its column as the"
         " export's email field"),
        ("userId", "it is Iterable's identifier field; choose its column as the"
         " export's userId field"),
        ("USERID", "it is Iterable's identifier field; choose its column as the"
         " export's userId field"),
        ("emaillistids", "Iterable manages 'emailListIds' itself"),
        ("itblCustom", "names starting with 'itbl' are Iterable's own"),
        ("address.city", "Iterable reads a '.' as a path into a nested object"),
        (" city", "it starts or ends with a space"),
        ("city ", "it starts or ends with a space"),
        ("", "it is empty"),
    ],
    ids=[
        "email", "userId", "userId in capitals", "managed in lower case",
        "itbl prefix", "dot", "leading space", "trailing space", "empty",
    ],
)  # fmt: skip
def test_reserved_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    """The message names the field and why it cannot be written."""
    expected = f"The Iterable field {name!r} cannot be mapped: {reason}"
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}"):
        check_field_name(name)


@pytest.mark.parametrize("name", ["firstName", "phoneNumber", "timeZone", "ltv_2024"])
def test_ordinary_names_pass(name: str) -> None:
    """Everyday field names, and writable special ones, are accepted."""
    check_field_name(name)
