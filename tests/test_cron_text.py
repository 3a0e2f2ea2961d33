"""Cron schedules in words (English and French) and their next runs in a zone."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

import pytest

from audiencesync.app.schedule_preview import preview_schedule
from audiencesync.errors import ConfigError
from audiencesync.scheduling.cron_text import describe_cron


@pytest.mark.parametrize(
    ("cron", "english", "french"),
    [
        ("0 6 * * *", "At 06:00, every day", "À 06:00, tous les jours"),
        ("30 8 * * MON-FRI", "At 08:30, Monday to Friday",
         "À 08:30, du lundi au vendredi"),
        ("*/15 * * * *", "Every 15 minutes", "Toutes les 15 minutes"),
        ("30 */2 * * *", "Every 2 hours, at minute 30",
         "Toutes les 2 heures, à la minute 30"),
        ("0 6,18 * * *", "At 06:00 and 18:00, every day",
         "À 06:00 et 18:00, tous les jours"),
        ("0 9 1,15 * *", "At 09:00, on days 1 and 15 of the month",
         "À 09:00, le 1er et le 15 du mois"),
        ("0 0 * JAN,JUL SUN", "At 00:00, on Sunday, in January and July",
         "À 00:00, le dimanche, en janvier et en juillet"),
        ("*/5 9-17 * * 1-5", "Every 5 minutes, from 09:00 to 17:59, Monday to Friday",
         "Toutes les 5 minutes, de 09:00 à 17:59, du lundi au vendredi"),
        ("0 0 1-7 * 1", "At 00:00, on days 1 to 7 of the month or on Monday",
         "À 00:00, du 1er au 7 du mois ou le lundi"),
        ("0 0 1 */3 *", "At 00:00, on day 1 of the month, every 3 months",
         "À 00:00, le 1er du mois, tous les 3 mois"),
    ],
    ids=["daily", "weekdays", "every 15 min", "every 2 h at :30", "twice a day",
         "days of month", "names", "office hours", "month day or weekday",
         "quarterly"],
)  # fmt: skip
def test_a_schedule_is_said_in_english_and_french(
    cron: str, english: str, french: str
) -> None:
    """The sentence people read beside the schedule, in either language."""
    assert (describe_cron(cron, "en"), describe_cron(cron, "fr")) == (english, french)


def test_names_and_numbers_say_the_same() -> None:
    """MON-FRI and 1-5 are the same days; day 0 is Sunday."""
    assert describe_cron("0 6 * * 1-5") == describe_cron("0 6 * * mon-fri")
    assert describe_cron("0 6 * * 0", "fr") == "À 06:00, le dimanche"


def test_an_unknown_language_is_english() -> None:
    """Only English and French are spoken; anything else reads English."""
    assert describe_cron("0 6 * * *", "de") == "At 06:00, every day"


WINTER_EVE = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)  # before Paris springs ahead


def test_the_next_three_runs_are_in_the_zone_across_a_clock_change() -> None:
    """02:30 in Paris does not exist on 28 March 2027: that run is at 03:00."""
    preview = preview_schedule(
        "30 2 * * *", "Europe/Paris", language="en", now=lambda: WINTER_EVE
    )

    assert [run.isoformat() for run in preview.next_runs] == [
        "2027-03-27T02:30:00+01:00",
        "2027-03-28T03:00:00+02:00",
        "2027-03-29T02:30:00+02:00",
    ]
    assert preview.next_runs_text[0] == "Sat 27 Mar 2027, 02:30 Europe/Paris"
    assert preview.description == "At 02:30, every day"


def test_the_preview_speaks_french() -> None:
    """Description and times in French."""
    preview = preview_schedule(
        "0 6 * * *", "Europe/Paris", language="fr", now=lambda: WINTER_EVE
    )

    assert preview.description == "À 06:00, tous les jours"
    assert preview.next_runs_text[0] == "sam. 27 mars 2027, 06:00 Europe/Paris"


@pytest.mark.parametrize(
    ("cron", "zone", "expectation"),
    [
        ("0 25 * * *", "UTC", pytest.raises(ConfigError, match="hour field")),
        ("0 6 * *", "UTC", pytest.raises(ConfigError, match="has 4 fields")),
        ("0 6 L * *", "UTC", pytest.raises(ConfigError, match="'L'")),
        ("0 6 * * *", "Europe/Pariss", pytest.raises(ConfigError, match="Paris")),
        ("  0  6 * * * ", " Europe/Paris ", nullcontext()),
    ],
    ids=["hour 25", "four fields", "L extension", "unknown zone", "spaces"],
)
def test_a_wrong_schedule_or_zone_is_refused_by_its_field(
    cron: str, zone: str, expectation: AbstractContextManager[object]
) -> None:
    """The error names the field to fix: cron or timezone."""
    with expectation as refused:
        preview_schedule(cron, zone, now=lambda: WINTER_EVE)
    if isinstance(refused, pytest.ExceptionInfo):
        assert refused.value.field == ("timezone" if "Paris" in zone else "cron")
