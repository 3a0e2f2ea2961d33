"""An export's settings as one validated value, and how it is written to a row.

:class:`SetupChecker` runs the checks of :mod:`audiencesync.exports.checks`
against the profile table and the saved segments, in the order people fill the
form in: email field, userId field, extra fields, segments, schedule, time zone,
mode, removal brake, consent column, drift threshold.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, TypeVar

from sqlalchemy import select

from audiencesync.errors import ConfigError, EvaluationError, NotFoundError
from audiencesync.exports import checks
from audiencesync.scheduling.schedules import normalize_schedule, normalize_timezone
from audiencesync.segments.names import name_key
from audiencesync.store.destinations import Export, ExportSegment
from audiencesync.store.models import Segment
from audiencesync.store.revisions import touch

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.profiles.catalog import Table
    from audiencesync.profiles.engine import ProfileEngine
    from audiencesync.segments.service import SegmentService

T = TypeVar("T")


class Unchanged(enum.Enum):
    """The type of :data:`UNCHANGED`: an option of ``edit`` that was not given."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class Setup:
    """An export's settings (raw from a row, or validated by :class:`SetupChecker`)."""

    email_field: str
    user_id_field: str | None
    fields: Mapping[str, str]
    segments: tuple[str, ...]
    schedule: str
    timezone: str
    mode: str
    removal_brake: int
    consent_column: str | None
    drift_threshold: int = 5
    auto_resync: bool = True


class SetupChecker:
    """Validates setups against the profile table and counts segments."""

    def __init__(self, engine: ProfileEngine, segments: SegmentService) -> None:
        self._engine = engine
        self._segments = segments

    def check(self, setup: Setup) -> Setup:
        """``setup`` validated: canonical column, segment and time zone names."""
        table = self._profile_table()
        user_id, consent = setup.user_id_field, setup.consent_column
        return Setup(
            email_field=checks.email_column(table, setup.email_field),
            user_id_field=None
            if user_id is None
            else checks.user_id_column(table, user_id),
            fields=checks.field_columns(table, setup.fields),
            segments=self._segment_names(setup.segments),
            schedule=normalize_schedule(setup.schedule),
            timezone=normalize_timezone(setup.timezone),
            mode=checks.check_mode(setup.mode),
            removal_brake=checks.check_removal_brake(setup.removal_brake),
            consent_column=None
            if consent is None
            else checks.consent_column(table, consent),
            drift_threshold=checks.check_drift_threshold(setup.drift_threshold),
            auto_resync=bool(setup.auto_resync),
        )

    def count(self, names: Sequence[str]) -> dict[str, int]:
        """Count each segment now (the counts go into its history).

        A segment the engine cannot evaluate is named in the EvaluationError.
        """
        counts = {}
        for name in names:
            try:
                counts[name] = self._segments.count(name)
            except EvaluationError as exc:
                msg = f"Segment {name!r} cannot be counted. {exc}"
                raise EvaluationError(msg) from None
        return counts

    def _profile_table(self) -> Table:
        catalog = self._engine.catalog()
        if catalog.profile is None:
            msg = (
                f"There is no profile table {catalog.profile_table!r} yet, so no"
                " email field can be chosen. Import profiles first."
            )
            raise NotFoundError(
                msg,
                code="no_profile_table",
                details={"table": catalog.profile_table},
            )
        return catalog.profile

    def _segment_names(self, names: Sequence[str]) -> tuple[str, ...]:
        unique = checks.unique_segments(names)
        return tuple(self._segments.get(name).name for name in unique)


def setup_of(row: Export) -> Setup:
    """The settings saved in ``row``."""
    return Setup(
        email_field=row.email_field,
        user_id_field=row.user_id_field,
        fields=dict(row.fields or {}),
        segments=tuple(link.segment.name for link in row.segment_links),
        schedule=row.schedule,
        timezone=row.timezone,
        mode=row.mode,
        removal_brake=row.removal_brake,
        consent_column=row.consent_column,
        drift_threshold=row.drift_threshold,
        auto_resync=row.auto_resync,
    )


def apply(session: Session, row: Export, setup: Setup, *, stamp: datetime) -> None:
    """Write ``setup`` into ``row``; the segments keep the order given.

    The row is written in one UPDATE at the next flush, which moves its
    revision even when only the segments changed.
    """
    with session.no_autoflush:  # one UPDATE at the next flush, not one per step
        row.email_field, row.user_id_field = setup.email_field, setup.user_id_field
        row.fields = dict(setup.fields)
        row.schedule, row.timezone = setup.schedule, setup.timezone
        row.mode, row.removal_brake = setup.mode, setup.removal_brake
        row.consent_column = setup.consent_column
        row.drift_threshold = setup.drift_threshold
        row.auto_resync = setup.auto_resync
        row.segment_links = [
            ExportSegment(segment=segment, position=position)
            for position, segment in enumerate(_segment_rows(session, setup.segments))
        ]
        row.updated_at = stamp
    touch(row)


def given_options(**options: object) -> list[str]:
    """The names of the options given; a ConfigError when there are none."""
    given = [name for name, value in options.items() if value is not UNCHANGED]
    if not given:
        msg = "Nothing to change: give at least one new setting."
        raise ConfigError(msg, code="nothing_to_change")
    return given


def pick(value: T | Unchanged, current: T) -> T:
    """``value`` unless it is :data:`UNCHANGED`, then ``current``."""
    return current if isinstance(value, Unchanged) else value


def summary(row: Export) -> dict[str, object]:
    """Audit details: names and settings only, never profile data."""
    return {
        "connection": row.connection.name if row.connection else None,
        "segments": [link.segment.name for link in row.segment_links],
        "schedule": row.schedule,
        "mode": row.mode,
    }


def _segment_rows(session: Session, names: Sequence[str]) -> list[Segment]:
    keys = [name_key(name) for name in names]
    found = {
        row.name_key: row
        for row in session.scalars(select(Segment).where(Segment.name_key.in_(keys)))
    }
    missing = [name for name, key in zip(names, keys, strict=True) if key not in found]
    if missing:
        msg = (
            f"Segment {missing[0]!r} was deleted while the export was being saved."
            " Run the command again."
        )
        raise NotFoundError(msg)
    return [found[key] for key in keys]
