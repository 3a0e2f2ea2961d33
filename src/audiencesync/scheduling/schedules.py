"""Schedules: the export schedule kinds, cron validation, time zones, next runs.

An export runs "with each refresh" (the default), "manual" only, or on its own
five-field cron schedule, read in the export's IANA time zone. Cron expressions
are checked with croniter when they are saved, field by field, so a mistake is
named ("the hour field "25" is out of range 0-23") instead of failing later in
the scheduler. Only the documented syntax is accepted (numbers, names, ``*``,
lists, ranges, steps): the extensions some crons know (``L``, ``W``, ``#``,
``?``, day of week 7) are refused by name. The system refresh schedule is a
:class:`SystemSetting` (``refresh_schedule``) that the scheduler of the next
issue maintains; it is read here only to say when "with each refresh" exports
run next.

Daylight-saving changes (:func:`next_cron_time`): each wall-clock time of a
schedule fires once. In the autumn hour that repeats, a time fires at its first
pass only, unless the hour field is ``*`` ("every hour"), which fires in both
passes. In spring, a time that does not exist that night fires once, at the
shift (02:30 in Paris fires at 03:00 summer time).

croniter is imported by the two functions that use it, not with the module:
every command that reads an export loads this module, few check or place a cron.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from audiencesync.core.suggest import closest
from audiencesync.errors import ConfigError
from audiencesync.store.accounts import SystemSetting

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

REFRESH = "refresh"
MANUAL = "manual"
DEFAULT_TIMEZONE = "UTC"
REFRESH_SETTING = "refresh_schedule"
CRON_EXAMPLE = '"0 6 * * *" (every day at 06:00) or "30 8 * * MON-FRI"'
CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-6 (Sunday is 0) or SUN-SAT"),
)
_ANY = ("*",) * len(CRON_FIELDS)
_CHECK_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_HOUR, _DAY_OF_WEEK = 1, 4
_VALUE = r"(?:\d+|[A-Z]{3})"
_ELEMENT = re.compile(rf"(?:\*|{_VALUE}(?:-{_VALUE})?)(?:/\d+)?")
_NAMES = re.compile(r"[A-Z]{3}")
_DST_MARGIN = timedelta(hours=3)  # wider than any daylight-saving shift
_EXTENSIONS = (  # (character, what it means in other crons, the fix)
    ("?", "'?' (no specific value)", "write * instead"),
    ("#", "'#' (the nth weekday of the month)", "name the weekdays (MON, 1-5)"),
    ("W", "'W' (the nearest weekday)", "name the days (1,15 or 1-5)"),
    ("L", "'L' (the last day)", "name the days (28-31) or weekdays (FRI)"),
)


@dataclass(frozen=True, slots=True)
class NextRun:
    """When an export runs next (None when no time is known) and how to say it."""

    at: datetime | None
    text: str


def normalize_schedule(raw: str) -> str:
    """``refresh``, ``manual`` or a valid cron expression (single-spaced)."""
    text = " ".join(raw.split())
    if text.casefold() in {REFRESH, MANUAL}:
        return text.casefold()
    if not text:
        msg = (
            'The schedule is empty: give "refresh", "manual" or a cron schedule,'
            f" e.g. {CRON_EXAMPLE}."
        )
        raise ConfigError(msg)
    check_cron(text)
    return text


INVALID_CRON = "invalid_cron"


def check_cron(expression: str) -> None:
    """Raise ConfigError naming the wrong field unless ``expression`` is valid cron."""
    from croniter import CroniterError, croniter  # noqa: PLC0415 - see the module

    fields = expression.split()
    if len(fields) != len(CRON_FIELDS):
        names = " ".join(name for name, _ in CRON_FIELDS)
        msg = (
            f"The schedule {expression!r} has {len(fields)} field"
            f"{'' if len(fields) == 1 else 's'}; a cron schedule has 5 ({names}),"
            f' e.g. {CRON_EXAMPLE}; or use "refresh" or "manual".'
        )
        details = {"schedule": expression, "fields": len(fields)}
        raise ConfigError(msg, code=INVALID_CRON, details=details)
    for position, value in enumerate(fields):
        _check_plain(expression, position, value)
    for position, (value, (name, allowed)) in enumerate(
        zip(fields, CRON_FIELDS, strict=True)
    ):
        alone = list(_ANY)
        alone[position] = value
        if not croniter.is_valid(" ".join(alone)):
            msg = (
                f"The {name} field {value!r} of the schedule {expression!r} is not"
                f" valid: use {allowed}, a list (1,15), a range (1-5) or a step"
                f" (*/15), e.g. {CRON_EXAMPLE}."
            )
            details = {"schedule": expression, "position": position + 1,
                       "value": value}  # fmt: skip
            raise ConfigError(msg, code=INVALID_CRON, details=details)
    try:
        croniter(expression, _CHECK_FROM).get_next(datetime)
    except CroniterError as exc:
        msg = (
            f"The schedule {expression!r} never runs (no date matches it, e.g. the"
            f" 31st of February). Choose another day, e.g. {CRON_EXAMPLE}."
        )
        details = {"schedule": expression, "never": True}
        raise ConfigError(msg, code=INVALID_CRON, details=details) from exc


def _check_plain(expression: str, position: int, value: str) -> None:
    """Refuse cron extensions by name, and 7 as Sunday; croniter checks the rest."""
    name = CRON_FIELDS[position][0]
    where = f"The {name} field {value!r} of the schedule {expression!r}"
    elements = value.upper().split(",")
    if all(_ELEMENT.fullmatch(element) for element in elements):
        if position == _DAY_OF_WEEK and _has_seven(elements):
            msg = (
                f"{where} uses 7 for Sunday, which is not accepted: Sunday is 0 or"
                " SUN (write 5-6,0 for 5-7)."
            )
            raise ConfigError(msg)
        return
    bare = _NAMES.sub("", value.upper())
    for character, meaning, fix in _EXTENSIONS:
        if character in bare:
            msg = (
                f"{where} uses {meaning}, which audiencesync does not accept:"
                f" {fix}; the syntax is numbers, names, *, lists, ranges and steps."
            )
            raise ConfigError(msg)


def _has_seven(elements: list[str]) -> bool:
    values = (part for element in elements for part in element.split("/")[0].split("-"))
    return any(part.isdigit() and int(part) == 7 for part in values)


def normalize_timezone(raw: str) -> str:
    """The IANA time zone name ``raw`` (trimmed), or a ConfigError with a hint."""
    name = raw.strip()
    if name in _timezones():
        return name
    close = closest(name, _timezones())
    hint = f" Did you mean {close!r}?" if close else ""
    msg = (
        f"Unknown time zone {name!r}.{hint} Use an IANA name such as"
        ' "Europe/Paris", "America/New_York" or "UTC".'
    )
    details = {"timezone": name, **({"suggestion": close} if close else {})}
    raise ConfigError(msg, code="unknown_timezone", details=details)


def next_cron_time(expression: str, timezone: str, *, after: datetime) -> datetime:
    """The first time after ``after`` matching ``expression`` in ``timezone``.

    The schedule is matched on the wall clock, then placed in time (see the
    module docstring for daylight-saving changes). Comparisons are in UTC:
    aware times of one zone compare by wall clock, blind to the repeated hour.
    """
    from croniter import croniter  # noqa: PLC0415 - see the module docstring

    zone = zoneinfo.ZoneInfo(timezone)
    after = after.astimezone(UTC)
    near_shift = (after - _DST_MARGIN).astimezone(zone).utcoffset() != (
        after + _DST_MARGIN
    ).astimezone(zone).utcoffset()
    margin = _DST_MARGIN if near_shift else timedelta(0)
    both_passes = expression.split()[_HOUR] == "*"
    walls = croniter(expression, _wall(after, zone) - margin)
    best: datetime | None = None
    while True:
        wall = walls.get_next(datetime)
        if best is not None and wall > _wall(best, zone) + margin:
            return best.astimezone(zone)
        for moment in _moments(wall, zone, both_passes=both_passes):
            if moment > after and (best is None or moment < best):
                best = moment


def _wall(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _moments(
    wall: datetime, zone: zoneinfo.ZoneInfo, *, both_passes: bool
) -> Iterator[datetime]:
    """The UTC moments a wall-clock time stands for: one, two (autumn), the shift."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        yield first
    elif first < second:  # the repeated hour: first pass, and second if hourly
        yield first
        if both_passes:
            yield second
    else:  # the skipped hour: fold 0 reads it before the shift, fold 1 after
        yield _shift(second, first, zone)


def _shift(before: datetime, after: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The moment between ``before`` and ``after`` at which the offset changes."""
    target = after.astimezone(zone).utcoffset()
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def describe_schedule(schedule: str, timezone: str) -> str:
    """The schedule in words: "with each refresh", "manual only", "cron ... (TZ)"."""
    if schedule == REFRESH:
        return "with each refresh"
    if schedule == MANUAL:
        return "manual only"
    return f"cron {schedule} ({timezone})"


def next_run(
    schedule: str,
    timezone: str,
    *,
    now: datetime,
    refresh: NextRun,
) -> NextRun:
    """When an active export with ``schedule`` runs next, seen at ``now``."""
    if schedule == REFRESH:
        return refresh
    if schedule == MANUAL:
        return NextRun(None, "manual only")
    at = next_cron_time(schedule, timezone, after=now)
    return NextRun(at, format_time(at))


def next_refresh(session: Session, *, now: datetime) -> NextRun:
    """When "with each refresh" exports run next, from the system refresh schedule."""
    setting = session.get(SystemSetting, REFRESH_SETTING)
    cron, timezone = _refresh_schedule(setting.value if setting else None)
    if cron is None:
        return NextRun(None, "with each refresh (no refresh schedule set)")
    try:
        check_cron(cron)
        zone = normalize_timezone(timezone)
    except ConfigError:
        return NextRun(
            None,
            "with each refresh (the refresh schedule is not valid: an administrator"
            " can set it again)",
        )
    at = next_cron_time(cron, zone, after=now)
    return NextRun(at, f"with each refresh: next at {format_time(at)}")


def format_time(moment: datetime) -> str:
    """``2026-03-02 09:00 Europe/Paris (08:00 UTC)``; UTC times once only."""
    zone = str(moment.tzinfo)
    local = f"{moment:%Y-%m-%d %H:%M} {zone}"
    if zone == DEFAULT_TIMEZONE:
        return local
    utc = moment.astimezone(UTC)
    same_day = utc.date() == moment.date()
    return f"{local} ({utc:{'%H:%M' if same_day else '%Y-%m-%d %H:%M'}} UTC)"


def _refresh_schedule(value: object) -> tuple[str | None, str]:
    if isinstance(value, str):
        return value, DEFAULT_TIMEZONE
    if isinstance(value, Mapping):
        cron, zone = value.get("cron"), value.get("timezone", DEFAULT_TIMEZONE)
        if isinstance(cron, str) and isinstance(zone, str):
            return cron, zone
    return None, DEFAULT_TIMEZONE


# In tzdata's folder but no place: the host's own zone (differs per machine) and "-00".
_NOT_PLACES = frozenset({"localtime", "Factory"})


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES
