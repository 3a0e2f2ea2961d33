"""A cron schedule before it is saved: checked, said in words, its next run times.

:func:`preview_schedule` is what the Add export form and the System page show
beside a custom cron schedule as it is typed (``GET /api/v1/schedule/preview``):
the sentence of :func:`audiencesync.scheduling.cron_text.describe_cron` in the
page's language, and the next three times it runs in the chosen IANA time zone
(daylight-saving changes as :func:`next_cron_time` places them). A wrong
schedule or zone is refused by its field (``cron`` or ``timezone``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from audiencesync.errors import ConfigError
from audiencesync.scheduling.cron_text import (
    LANGUAGES,
    describe_cron,
    format_run_time,
)
from audiencesync.scheduling.schedules import (
    check_cron,
    next_cron_time,
    normalize_timezone,
)
from audiencesync.store.models import utc_now

RUNS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class SchedulePreview:
    """A valid cron schedule in words, and when it runs next (in its zone)."""

    cron: str
    timezone: str
    language: str
    description: str
    next_runs: tuple[datetime, ...]
    next_runs_text: tuple[str, ...]


def checked_cron(raw: str) -> str:
    """``raw`` single-spaced, if it is a valid cron schedule (else field ``cron``)."""
    expression = " ".join(raw.split())
    try:
        check_cron(expression)
    except ConfigError as exc:
        raise ConfigError(
            str(exc), code="invalid_cron", field="cron", details=exc.details
        ) from None
    return expression


def checked_timezone(raw: str) -> str:
    """The IANA zone ``raw`` names (else a ConfigError on field ``timezone``)."""
    try:
        return normalize_timezone(raw)
    except ConfigError as exc:
        raise ConfigError(
            str(exc), code=exc.code, field="timezone", details=exc.details
        ) from None


def preview_schedule(
    cron: str,
    timezone: str,
    *,
    language: str = "en",
    now: Callable[[], datetime] = utc_now,
    count: int = RUNS_SHOWN,
) -> SchedulePreview:
    """``cron`` read in ``timezone``: its sentence and its next ``count`` runs."""
    expression, zone = checked_cron(cron), checked_timezone(timezone)
    spoken = language if language in LANGUAGES else "en"
    runs: list[datetime] = []
    after = now()
    for _ in range(count):
        after = next_cron_time(expression, zone, after=after)
        runs.append(after)
    return SchedulePreview(
        cron=expression,
        timezone=zone,
        language=spoken,
        description=describe_cron(expression, spoken),
        next_runs=tuple(runs),
        next_runs_text=tuple(format_run_time(run, spoken) for run in runs),
    )
