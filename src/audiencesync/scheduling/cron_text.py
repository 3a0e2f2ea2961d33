"""A cron schedule in words, in English or French, and its run times for people.

:func:`describe_cron` reads the five-field syntax audiencesync accepts (numbers,
names, ``*``, lists, ranges, steps; checked by
:func:`audiencesync.scheduling.schedules.check_cron` first) and says it as a
sentence: ``"30 8 * * MON-FRI"`` is "At 08:30, Monday to Friday" or "À 08:30, du
lundi au vendredi". Day and month names come from Babel (CLDR), so they do not
depend on the process's locale. Common shapes read naturally; unusual mixes fall
back to a plain field-by-field reading that is still exact.

:func:`format_run_time` writes a moment in its own time zone, in the language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from babel import Locale
from babel.dates import format_datetime, get_day_names, get_month_names

LANGUAGES = ("en", "fr")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN",
           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")  # fmt: skip
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MAX_TIMES = 6  # more exact times than this are read field by field
_ELEMENT = re.compile(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?")

# The words, by language ({a}, {b}, {n}, {m}, {x}: filled in below).
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "and": "and", "or": "or", "at": "at {x}", "every_minute": "every minute",
        "every_n_minutes": "every {n} minutes", "at_minutes": "at minutes {x}",
        "at_minute": "at minute {x}", "every_hour": "every hour",
        "every_n_hours": "every {n} hours", "minute_of": "at minute {m}",
        "hours_from": "every hour from {a} to {b}",
        "n_hours_from": "every {n} hours from {a} to {b}",
        "n_hours_after": "every {n} hours from {a}", "within": "from {a} to {b}",
        "in_hours": "during hours {x}", "every_day": "every day",
        "weekday": "on {x}", "weekdays": "{a} to {b}", "weekday_steps": "on {x}",
        "day": "on day {x} of the month",
        "days": "on days {x} of the month", "day_range": "{a} to {b}",
        "every_n_days": "every {n} days of the month", "in_months": "in {x}",
        "month_range": "{a} through {b}", "every_n_months": "every {n} months",
        "steps": "{a} to {b} in steps of {n}", "range": "{a} to {b}",
    },
    "fr": {
        "and": "et", "or": "ou", "at": "à {x}", "every_minute": "toutes les minutes",
        "every_n_minutes": "toutes les {n} minutes", "at_minutes": "aux minutes {x}",
        "at_minute": "à la minute {x}", "every_hour": "toutes les heures",
        "every_n_hours": "toutes les {n} heures", "minute_of": "à la minute {m}",
        "hours_from": "toutes les heures de {a} à {b}",
        "n_hours_from": "toutes les {n} heures de {a} à {b}",
        "n_hours_after": "toutes les {n} heures à partir de {a}",
        "within": "de {a} à {b}", "in_hours": "pendant les heures {x}",
        "every_day": "tous les jours", "weekday": "le {x}", "weekdays": "du {a} au {b}",
        "weekday_steps": "les jours {x}",
        "day": "le {x} du mois", "days": "{x} du mois", "day_range": "du {a} au {b}",
        "every_n_days": "tous les {n} jours du mois", "in_months": "{x}",
        "month_range": "de {a} à {b}", "every_n_months": "tous les {n} mois",
        "steps": "de {a} à {b} par pas de {n}", "range": "de {a} à {b}",
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Element:
    """One element of a field: ``*``, ``5``, ``1-5``, ``*/15``, ``1-5/2``, ``5/10``."""

    start: int | None  # None: every value
    end: int | None  # None: a single value (or, with a step, up to the top)
    step: int | None

    @property
    def is_single(self) -> bool:
        return self.start is not None and self.end is None and self.step is None

    @property
    def is_range(self) -> bool:
        return self.start is not None and self.end is not None and self.step is None


_Field = tuple[_Element, ...]
_EVERY = _Element(None, None, None)


def describe_cron(expression: str, language: str = "en") -> str:
    """``expression`` (a valid cron schedule) as a sentence in ``language``."""
    words = _WORDS[language if language in _WORDS else "en"]
    minute, hour, day, month, weekday = (
        _parse(value, names) for value, names in zip(
            expression.upper().split(), ((), (), (), _MONTHS, _DAYS), strict=True
        )
    )  # fmt: skip
    speaker = _Speaker(language if language in _WORDS else "en", words)
    parts = [speaker.time(minute, hour)]
    days = speaker.days(day, weekday)
    if days:
        parts.append(days)
    elif _exact_times(minute, hour):
        parts.append(words["every_day"])
    months = speaker.months(month)
    if months:
        parts.append(months)
    sentence = ", ".join(parts)
    return sentence[:1].upper() + sentence[1:]


def format_run_time(moment: datetime, language: str = "en") -> str:
    """``moment`` in its own time zone, e.g. "Sun, Dec 6, 2026, 06:00 Europe/Paris"."""
    locale = Locale.parse(language if language in LANGUAGES else "en")
    day = format_datetime(moment, "EEE d MMM y", tzinfo=moment.tzinfo, locale=locale)
    return f"{day}, {moment:%H:%M} {moment.tzinfo}"


def _parse(value: str, names: Sequence[str]) -> _Field:
    for index, name in enumerate(names):
        value = value.replace(name, str(index + 1 if len(names) == 12 else index))
    elements = []
    for text in value.split(","):
        found = _ELEMENT.fullmatch(text)
        if found is None:  # not the accepted syntax: check_cron refuses it first
            msg = f"Not a cron field element: {text!r}"
            raise ValueError(msg)
        start, end, step = found.groups()
        elements.append(
            _Element(
                None if start == "*" else int(start),
                None if end is None else int(end),
                None if step is None else int(step),
            )
        )
    return tuple(elements)


def _is_every(field: _Field) -> bool:
    return field == (_EVERY,)


def _singles(field: _Field) -> list[int] | None:
    if all(element.is_single for element in field):
        return sorted(element.start for element in field if element.start is not None)
    return None


def _exact_times(minute: _Field, hour: _Field) -> bool:
    minutes, hours = _singles(minute), _singles(hour)
    return bool(minutes and hours and len(minutes) * len(hours) <= _MAX_TIMES)


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


class _Speaker:
    """The phrases of one language."""

    def __init__(self, language: str, words: dict[str, str]) -> None:
        self.language = language
        self.words = words

    def say(self, key: str, **values: object) -> str:
        return self.words[key].format(**values)

    def join(self, items: Sequence[str], *, word: str = "and") -> str:
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.words[word]} {items[-1]}"

    # --- minutes and hours ---------------------------------------------------

    def time(self, minute: _Field, hour: _Field) -> str:
        minutes, hours = _singles(minute), _singles(hour)
        if minutes and hours and _exact_times(minute, hour):
            times = sorted(_clock(h, m) for h in hours for m in minutes)
            return self.say("at", x=self.join(times))
        if minutes is not None and len(minutes) == 1:
            return self._hourly(minutes[0], hour)
        return self._minutes(minute, hour)

    def _hourly(self, minute: int, hour: _Field) -> str:
        """At one minute of several hours: every hour, every 2 hours, from ... to."""
        at = "" if minute == 0 else f", {self.say('minute_of', m=minute)}"
        if _is_every(hour):
            return self.say("every_hour") + at
        if len(hour) == 1 and hour[0].start is None and hour[0].step:
            return self.say("every_n_hours", n=hour[0].step) + at
        phrases = []
        for element in hour:
            start = 0 if element.start is None else element.start
            first = _clock(start, minute)
            if element.is_single:
                phrases.append(self.say("at", x=first))
            elif element.end is None:  # 5/3: from 05:00 every 3 hours
                phrases.append(self.say("n_hours_after", n=element.step, a=first))
            elif element.step is None:
                last = _clock(element.end, minute)
                phrases.append(self.say("hours_from", a=first, b=last))
            else:
                last = _clock(element.end, minute)
                phrases.append(
                    self.say("n_hours_from", n=element.step, a=first, b=last)
                )
        return self.join(phrases)

    def _minutes(self, minute: _Field, hour: _Field) -> str:
        """Several minutes of each hour, then which hours."""
        minutes = _singles(minute)
        if _is_every(minute):
            said = self.say("every_minute")
        elif len(minute) == 1 and minute[0].start is None and minute[0].step:
            said = self.say("every_n_minutes", n=minute[0].step)
        elif minutes is not None:
            said = self.say("at_minutes", x=self.join([str(m) for m in minutes]))
        else:
            said = self.say("at_minutes", x=self._generic(minute, top=59))
        if _is_every(hour):
            return said
        if len(hour) == 1 and (hour[0].is_single or hour[0].is_range):
            start = hour[0].start or 0
            end = start if hour[0].end is None else hour[0].end
            within = self.say("within", a=_clock(start, 0), b=_clock(end, 59))
            return f"{said}, {within}"
        return f"{said}, {self.say('in_hours', x=self._generic(hour, top=23))}"

    # --- days and months -----------------------------------------------------

    def days(self, day: _Field, weekday: _Field) -> str:
        of_month = "" if _is_every(day) else self._days_of_month(day)
        of_week = "" if _is_every(weekday) else self._weekdays(weekday)
        if of_month and of_week:  # cron runs on either
            return f"{of_month} {self.words['or']} {of_week}"
        return of_month or of_week

    def _days_of_month(self, day: _Field) -> str:
        if len(day) == 1 and day[0].start is None and day[0].step:
            return self.say("every_n_days", n=day[0].step)
        if any(element.step for element in day):
            return self.say("days", x=self._generic(day, top=31, bottom=1))
        if self.language == "fr":
            phrases = [
                f"le {self._nth(element.start or 1)}"
                if element.is_single
                else self.say(
                    "day_range",
                    a=self._nth(element.start or 1),
                    b=element.end,
                )
                for element in day
            ]
            return self.say("days", x=self.join(phrases))
        if len(day) == 1 and day[0].is_single:
            return self.say("day", x=day[0].start)
        phrases = [
            str(element.start)
            if element.is_single
            else self.say("day_range", a=element.start, b=element.end)
            for element in day
        ]
        return self.say("days", x=self.join(phrases))

    def _nth(self, day: int) -> str:
        return "1er" if day == 1 else str(day)

    def _weekdays(self, weekday: _Field) -> str:
        names = _day_names(self.language)
        if any(element.step or element.start is None for element in weekday):
            x = self._generic(weekday, top=6, names=names)
            return self.say("weekday_steps", x=x)
        phrases = []
        for element in weekday:
            start = element.start or 0
            if element.end is None:
                phrases.append(self.say("weekday", x=names[start]))
            else:
                phrases.append(
                    self.say("weekdays", a=names[start], b=names[element.end])
                )
        return self.join(phrases)

    def months(self, month: _Field) -> str:
        if _is_every(month):
            return ""
        names = _month_names(self.language)
        if len(month) == 1 and month[0].start is None and month[0].step:
            return self.say("every_n_months", n=month[0].step)
        if any(element.step or element.start is None for element in month):
            return self.say(
                "in_months", x=self._generic(month, top=12, bottom=1, names=names)
            )
        phrases = []
        for element in month:
            start = element.start or 1
            if element.end is None:
                phrases.append(names[start])
            else:
                phrases.append(
                    self.say("month_range", a=names[start], b=names[element.end])
                )
        if self.language == "fr":
            phrases = [
                phrase if phrase.startswith("de ") else f"en {phrase}"
                for phrase in phrases
            ]
        return self.say("in_months", x=self.join(phrases))

    # --- anything else ---------------------------------------------------------

    def _generic(
        self,
        field: _Field,
        *,
        top: int,
        bottom: int = 0,
        names: Sequence[str] | dict[int, str] = (),
    ) -> str:
        """A field read element by element: "1 to 5", "0 to 59 in steps of 15"."""

        def name(value: int) -> str:
            return str(names[value]) if names else str(value)

        phrases = []
        for element in field:
            start = bottom if element.start is None else element.start
            end = top if element.end is None else element.end
            if element.is_single:
                phrases.append(name(start))
            elif element.step is None:
                phrases.append(self.say("range", a=name(start), b=name(end)))
            else:
                phrases.append(
                    self.say("steps", a=name(start), b=name(end), n=element.step)
                )
        return self.join(phrases)


@cache
def _day_names(language: str) -> tuple[str, ...]:
    """Sunday first (cron's 0), in ``language``."""
    names = get_day_names("wide", locale=Locale.parse(language))  # 0 is Monday
    return tuple(str(names[(index + 6) % 7]) for index in range(7))


@cache
def _month_names(language: str) -> dict[int, str]:
    """January is 1, in ``language``."""
    names = get_month_names("wide", locale=Locale.parse(language))
    return {number: str(names[number]) for number in range(1, 13)}
