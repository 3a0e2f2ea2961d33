"""Schedules: kinds, cron checks that name the wrong field, time zones, next runs."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

import pytest

from audiencesync.errors import ConfigError
from audiencesync.schedule import (
    NextRun,
    describe_schedule,
    format_time,
    next_cron_time,
    next_run,
    normalize_schedule,
    normalize_timezone,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REFRESH = NextRun(None, "with each refresh (no refresh schedule set)")


def refused(fragment: str) -> AbstractContextManager[Any]:
    """Expect a ConfigError containing ``fragment``."""
    return pytest.raises(ConfigError, match=re.escape(fragment))


SCHEDULES = [
    ("refresh", "refresh", nullcontext()),
    (" Manual ", "manual", nullcontext()),
    ("0   6 * *  *", "0 6 * * *", nullcontext()),
    ("30 8 * * MON-FRI", "30 8 * * MON-FRI", nullcontext()),
    ("*/15 1,13 1-7 JAN *", "*/15 1,13 1-7 JAN *", nullcontext()),
    ("", None, refused('The schedule is empty: give "refresh", "manual"')),
    ("@daily", None, refused("'@daily' has 1 field; a cron schedule has 5")),
    ("0 6 * *", None, refused("has 4 fields; a cron schedule has 5 (minute hour")),
    ("0 0 6 * * *", None, refused("has 6 fields")),
    ("60 * * * *", None, refused("The minute field '60' of the schedule")),
    ("0 24 * * *", None, refused("The hour field '24'")),
    ("0 6 32 * *", None, refused("The day-of-month field '32'")),
    ("0 6 * 13 *", None, refused("The month field '13'")),
    ("0 6 * * 8", None, refused("The day-of-week field '8'")),
    ("0 6 * * FUNDAY", None, refused("The day-of-week field 'FUNDAY'")),
    ("0 0 31 2 *", None, refused("The schedule '0 0 31 2 *' never runs")),
]


@pytest.mark.parametrize(
    ("raw", "expected", "expectation"),
    SCHEDULES,
    ids=[
        "refresh", "manual any case", "cron respaced", "weekdays", "lists and ranges",
        "empty", "alias", "four fields", "six fields", "minute", "hour",
        "day of month", "month", "day of week", "day name", "never",
    ],
)  # fmt: skip
def test_normalize_schedule(
    raw: str, expected: str | None, expectation: AbstractContextManager[Any]
) -> None:
    """Kinds are lower-cased, cron single-spaced, and mistakes name their field."""
    with expectation:
        assert normalize_schedule(raw) == expected


def test_a_cron_error_shows_an_example() -> None:
    """Every cron message carries a working example."""
    with refused('e.g. "0 6 * * *" (every day at 06:00)'):
        normalize_schedule("0 6 * * 9")


@pytest.mark.parametrize(
    ("raw", "expectation"),
    [
        ("Europe/Paris", nullcontext("Europe/Paris")),
        (" UTC ", nullcontext("UTC")),
        ("europe/paris", refused("Unknown time zone 'europe/paris'. Did you mean")),
        ("Mars/Olympus", refused("Unknown time zone 'Mars/Olympus'. Use an IANA")),
    ],
    ids=["name", "trimmed", "wrong case", "unknown"],
)
def test_normalize_timezone(raw: str, expectation: AbstractContextManager[Any]) -> None:
    """IANA names pass; others get the closest name and examples."""
    with expectation as expected:
        assert normalize_timezone(raw) == expected


def test_next_cron_time_follows_daylight_saving() -> None:
    """09:00 in Paris is 08:00 UTC in winter and 07:00 UTC after the switch."""
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    moment = next_cron_time("0 9 * * *", "Europe/Paris", after=after)
    assert moment.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "timezone", "expected"),
    [
        ("refresh", "UTC", REFRESH),
        ("manual", "UTC", NextRun(None, "manual only")),
        (
            "30 23 * * *",
            "America/Los_Angeles",
            NextRun(
                datetime(2026, 3, 2, 7, 30, tzinfo=UTC),
                "2026-03-01 23:30 America/Los_Angeles (2026-03-02 07:30 UTC)",
            ),
        ),
    ],
    ids=["refresh", "manual", "cron on another UTC day"],
)
def test_next_run(schedule: str, timezone: str, expected: NextRun) -> None:
    """Refresh defers to the refresh schedule; manual has no time; cron has one."""
    assert next_run(schedule, timezone, now=NOW, refresh=REFRESH) == expected


def test_format_time_shows_utc_once_for_utc() -> None:
    """A UTC time is not repeated in brackets."""
    assert format_time(next_cron_time("0 6 * * *", "UTC", after=NOW)) == (
        "2026-03-02 06:00 UTC"
    )


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("refresh", "with each refresh"),
        ("manual", "manual only"),
        ("0 6 * * *", "cron 0 6 * * * (Europe/Paris)"),
    ],
    ids=["refresh", "manual", "cron"],
)
def test_describe_schedule(schedule: str, expected: str) -> None:
    """Schedules in words, as lists show them."""
    assert describe_schedule(schedule, "Europe/Paris") == expected
