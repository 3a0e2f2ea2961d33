"""Schedules: kinds, cron checks that name the wrong field, time zones, next runs."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

import pytest

from audiencesync.errors import ConfigError
from audiencesync.scheduling.schedules import (
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


@pytest.mark.parametrize("raw", ["localtime", "Factory"])
def test_host_and_placeholder_zones_are_refused(raw: str) -> None:
    """'localtime' (the host's zone) and 'Factory' are not IANA locations: refused."""
    with refused(f"Unknown time zone {raw!r}."):
        normalize_timezone(raw)


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


EXTENSIONS = [
    ("0 6 L * *", "The day-of-month field 'L' of the schedule '0 6 L * *' uses 'L'"
     " (the last day), which audiencesync does not accept: name the days (28-31)"),
    ("0 6 * * 5L", "The day-of-week field '5L' of the schedule '0 6 * * 5L' uses 'L'"),
    ("0 6 15W * *", "The day-of-month field '15W' of the schedule '0 6 15W * *' uses"
     " 'W' (the nearest weekday), which audiencesync does not accept"),
    ("0 6 LW * *", "uses 'W' (the nearest weekday)"),
    ("0 6 * * 1#2", "The day-of-week field '1#2' of the schedule '0 6 * * 1#2' uses"
     " '#' (the nth weekday of the month), which audiencesync does not accept: name"
     " the weekdays (MON, 1-5)"),
    ("0 6 ? * MON", "The day-of-month field '?' of the schedule '0 6 ? * MON' uses"
     " '?' (no specific value), which audiencesync does not accept: write * instead"),
    ("0 6 * * 7", "The day-of-week field '7' of the schedule '0 6 * * 7' uses 7 for"
     " Sunday, which is not accepted: Sunday is 0 or SUN"),
    ("0 6 * * 5-7", "The day-of-week field '5-7' of the schedule '0 6 * * 5-7' uses 7"),
    ("0 6 * * 1,7", "The day-of-week field '1,7' of the schedule '0 6 * * 1,7' uses 7"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    EXTENSIONS,
    ids=["L", "nth L", "W", "LW", "hash", "question mark", "seven", "range to seven",
         "list with seven"],
)  # fmt: skip
def test_cron_extensions_are_refused_by_name(raw: str, message: str) -> None:
    """Syntax beyond the documented cron is named in one line with its fix."""
    with refused(message) as caught:
        normalize_schedule(raw)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    ["0 6 * * SUN", "0 6 * JUL,AUG WED", "0 6 1-31/2 * *", "0 6 * * */2", "0 6 7 * 0"],
    ids=["sunday name", "names", "stepped range", "stepped weekdays", "day 7 of month"],
)
def test_documented_cron_syntax_is_accepted(raw: str) -> None:
    """Names, lists, ranges and steps pass; 7 is refused only as a weekday."""
    assert normalize_schedule(raw) == raw


def paris_slots(expression: str, *, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` slots after ``start``, each found from the one before, UTC."""
    slots = []
    for _ in range(count):
        start = next_cron_time(expression, "Europe/Paris", after=start)
        slots.append(start.astimezone(UTC))
    return slots


def test_a_wall_clock_slot_fires_once_in_the_repeated_autumn_hour() -> None:
    """02:30 on 25 October 2026 in Paris is the summer-time 02:30 only."""
    slots = paris_slots(
        "30 2 * * *", start=datetime(2026, 10, 24, 12, 0, tzinfo=UTC), count=2
    )
    assert slots == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]


def test_an_hourly_schedule_fires_in_both_passes_of_the_repeated_hour() -> None:
    """With the hour field *, 02:30 summer time and 02:30 winter time both fire."""
    slots = paris_slots(
        "30 * * * *", start=datetime(2026, 10, 24, 23, 45, tzinfo=UTC), count=3
    )
    assert slots == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    ]


def test_a_slot_the_spring_night_skips_fires_once_at_the_shift() -> None:
    """02:00, 02:15, 02:30 and 02:45 of 29 March 2026 in Paris fire once, at 03:00."""
    slots = paris_slots(
        "*/15 2,3 * * *", start=datetime(2026, 3, 28, 12, 0, tzinfo=UTC), count=3
    )
    assert slots == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 15, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    ]
