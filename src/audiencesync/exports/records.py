"""Export rows in the control-plane database, and what readers see of them.

Lookups by name ignore case (``name_key``); a name that is not found is answered
with the closest names that are. Contributors are only ever told the names of
connections they may use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from audiencesync.errors import ConflictError, NotFoundError
from audiencesync.scheduling.schedules import NextRun, describe_schedule
from audiencesync.segments.names import name_key
from audiencesync.store.destinations import Connection, Export, ExportSegment
from audiencesync.sync.export_rows import did_you_mean as _did_you_mean


def alert_key(export_id: int) -> str:
    """The system setting holding the export's last alerted state."""
    return f"alert:export:{export_id}"


if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.auth.roles import Actor

NO_CONNECTION = "No connection"
INACTIVE = NextRun(None, "inactive: no connection")
NO_RUNS_YET = "none yet"


@dataclass(frozen=True, slots=True)
class LastRun:
    """An export's newest run that was not a dry run, as readers see it now."""

    id: int
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        """When it ended, else when it started, else when it was queued."""
        return self.finished_at or self.started_at or self.created_at


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """An export setup as readers see it, with its next run and last run."""

    name: str
    connection: str | None
    connection_shared: bool
    segments: tuple[str, ...]
    email_field: str
    user_id_field: str | None
    fields: Mapping[str, str]
    schedule: str
    timezone: str
    mode: str
    removal_brake: int
    consent_column: str | None
    next_run: datetime | None
    next_run_text: str
    last_run: LastRun | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    drift_threshold: int = 5
    auto_resync: bool = True
    revision: int = 1

    @property
    def last_run_status(self) -> str:
        """The last run's status, or "none yet"."""
        return self.last_run.status if self.last_run else NO_RUNS_YET

    @property
    def active(self) -> bool:
        """Whether the export can run: a detached export (no connection) cannot."""
        return self.connection is not None

    @property
    def connection_text(self) -> str:
        """The connection's name, or "No connection" once detached."""
        return self.connection or NO_CONNECTION

    @property
    def schedule_text(self) -> str:
        """The schedule in words."""
        return describe_schedule(self.schedule, self.timezone)


@dataclass(frozen=True, slots=True)
class ExportCreated:
    """A saved export, its segments' member counts now, and warnings to show."""

    export: ExportInfo
    member_counts: Mapping[str, int]
    warnings: tuple[str, ...]


def info(row: Export, next_run: NextRun, last_run: LastRun | None = None) -> ExportInfo:
    """What readers see of ``row``; its next and last run come from the caller."""
    connection = row.connection
    return ExportInfo(
        name=row.name,
        connection=connection.name if connection else None,
        connection_shared=bool(connection and connection.shared),
        segments=tuple(link.segment.name for link in row.segment_links),
        email_field=row.email_field,
        user_id_field=row.user_id_field,
        fields=dict(row.fields or {}),
        schedule=row.schedule,
        timezone=row.timezone,
        mode=row.mode,
        removal_brake=row.removal_brake,
        consent_column=row.consent_column,
        next_run=next_run.at if connection else None,
        next_run_text=next_run.text if connection else INACTIVE.text,
        last_run=last_run,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        drift_threshold=row.drift_threshold,
        auto_resync=row.auto_resync,
        revision=row.revision,
    )


def ensure_export_free(session: Session, name: str) -> None:
    """Raise ConflictError if an export already has this name (in any case)."""
    clash = session.scalars(
        select(Export.name).where(Export.name_key == name_key(name))
    ).first()
    if clash is None:
        return
    same = "" if clash == name else f" ({clash!r} differs only in case)"
    msg = (
        f"An export named {name!r} already exists{same}. Choose another name, or"
        f" change the existing export."
    )
    raise ConflictError(
        msg, code="name_taken", field="name", details={"kind": "export", "name": clash}
    )


def find_connection(
    session: Session, name: str, actor: Actor, admins: list[str]
) -> Connection:
    """The connection called ``name`` (any case), or a NotFoundError with choices."""
    key = name_key(name)
    row = session.scalars(select(Connection).where(Connection.name_key == key)).first()
    if row is not None:
        return row
    usable = usable_connections(session, actor)
    msg = f"There is no connection named {name.strip()!r}."
    if usable:
        hint = _did_you_mean(name, usable)
        msg += f"{hint} Connections you can use: {', '.join(usable)}."
    else:
        who = f" ({', '.join(admins)})" if admins else ""
        msg += (
            f" No connection is available to {actor.name}: an administrator{who}"
            " must add one"
            + ("." if actor.is_admin else ", or share one with contributors.")
        )
    raise NotFoundError(
        msg,
        code="connection_not_found",
        field="connection",
        details={"name": name, "usable": bool(usable)},
    )


def usable_connections(session: Session, actor: Actor) -> list[str]:
    """Names of the connections ``actor`` may export to (all of them for admins)."""
    query = select(Connection.name).order_by(Connection.name_key)
    if not actor.is_admin:
        query = query.where(Connection.shared.is_(True))
    return list(session.scalars(query))


def exports_using_segment(session: Session, segment_id: int) -> list[str]:
    """Names of the exports that send the segment ``segment_id``, sorted."""
    return list(
        session.scalars(
            select(Export.name)
            .join(ExportSegment, ExportSegment.export_id == Export.id)
            .where(ExportSegment.segment_id == segment_id)
            .order_by(Export.name_key)
        )
    )
