"""The export service: save, change, list, show, detach and remove export setups.

Every method checks the acting user first (design section 6): everyone reads;
administrators and contributors change exports, contributors only on connections
shared with them, and an export with no connection (detached) only by an
administrator. Each allowed change writes exactly one audit event in the same
transaction. Saving validates everything against the profile table and counts
each segment, but never runs the export.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, ConnectionScope, check
from audiencesync.auth.users import admin_names
from audiencesync.connections.projects import same_project_ids
from audiencesync.errors import AccessDeniedError, ConflictError
from audiencesync.exports import checks, claims, records
from audiencesync.exports.records import ExportCreated, ExportInfo
from audiencesync.exports.setup import (
    UNCHANGED,
    Setup,
    SetupChecker,
    Unchanged,
    apply,
    given_options,
    pick,
    setup_of,
    summary,
)
from audiencesync.scheduling.schedules import (
    DEFAULT_TIMEZONE,
    REFRESH,
    NextRun,
    next_refresh,
    next_run,
)
from audiencesync.segments.names import name_key
from audiencesync.store.accounts import SystemSetting
from audiencesync.store.destinations import Connection, Export
from audiencesync.store.revisions import check_revision, stale_edits
from audiencesync.store.runs import Run
from audiencesync.sync.export_rows import find_export
from audiencesync.sync.history import last_runs
from audiencesync.sync.recovery import live_run
from audiencesync.sync.statuses import RunStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.auth.roles import Actor
    from audiencesync.profiles.engine import ProfileEngine
    from audiencesync.store.database import Database
    from audiencesync.sync.history import RunInfo

DEFAULT_MODE = "mirror"
DEFAULT_REMOVAL_BRAKE = 20
DEFAULT_DRIFT_THRESHOLD = 5
_NO_FIELDS: Mapping[str, str] = MappingProxyType({})


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ExportService:
    """Export setups over one control-plane database and one profile engine."""

    def __init__(
        self,
        database: Database,
        engine: ProfileEngine,
        actor: Actor,
        *,
        now: Callable[[], datetime] = _utcnow,
        project_peers: Callable[[int], frozenset[int]] | None = None,
    ) -> None:
        self._database = database
        self._engine = engine
        self._actor = actor
        self._now = now
        self._project_peers = project_peers

    # --- reading ---------------------------------------------------------

    def list_all(self) -> list[ExportInfo]:
        """Every export, by name, with its connection, schedule and next run."""
        with self._database.session() as session:
            self._require(session, Action.READ)
            refresh = next_refresh(session, now=self._now())
            rows = session.scalars(select(Export).order_by(Export.name_key)).all()
            last = last_runs(session)
            return [self._info(row, refresh, last.get(row.id)) for row in rows]

    def get(self, name: str) -> ExportInfo:
        """One export by name (exact, or differing only in case)."""
        with self._database.session() as session:
            self._require(session, Action.READ)
            row = find_export(session, name)
            last = last_runs(session, export_id=row.id).get(row.id)
            return self._info(row, next_refresh(session, now=self._now()), last)

    # --- writing ---------------------------------------------------------

    def add(
        self,
        name: str,
        *,
        connection: str,
        email_field: str,
        segments: Sequence[str],
        user_id_field: str | None = None,
        fields: Mapping[str, str] = _NO_FIELDS,
        schedule: str = REFRESH,
        timezone: str = DEFAULT_TIMEZONE,
        mode: str = DEFAULT_MODE,
        removal_brake: int = DEFAULT_REMOVAL_BRAKE,
        consent_column: str | None = None,
        drift_threshold: int = DEFAULT_DRIFT_THRESHOLD,
        auto_resync: bool = True,
    ) -> ExportCreated:
        """Check and save a new export, and count its segments; nothing is sent."""
        with self._database.session() as session:
            admins = self._require(session, Action.EDIT_EXPORTS)
            clean = checks.normalize_export_name(name)
            records.ensure_export_free(session, clean)
            target = records.find_connection(session, connection, self._actor, admins)
            self._check_connection(target, admins)
            target_id = target.id
        setup = self._checker().check(
            Setup(
                email_field=email_field,
                user_id_field=user_id_field,
                fields=fields,
                segments=tuple(segments),
                schedule=schedule,
                timezone=timezone,
                mode=mode,
                removal_brake=removal_brake,
                consent_column=consent_column,
                drift_threshold=drift_threshold,
                auto_resync=auto_resync,
            )
        )
        counts = self._checker().count(setup.segments)
        peers = self._peers(target_id)
        with self._database.session() as session:
            records.ensure_export_free(session, clean)
            claims.ensure_unclaimed(session, setup.segments, connection_ids=peers,
                                    export=clean)  # fmt: skip
            stamp = self._now()
            row = Export(
                name=clean,
                name_key=name_key(clean),
                connection_id=target_id,
                created_at=stamp,
                created_by=self._actor.name,
            )
            apply(session, row, setup, stamp=stamp)
            session.add(row)
            session.flush()
            self._audit(session, "export.add", row, summary(row))
            info = self._info(row, next_refresh(session, now=stamp))
        return ExportCreated(info, counts, tuple(checks.size_warnings(counts)))

    def edit(
        self,
        name: str,
        *,
        new_name: str | Unchanged = UNCHANGED,
        connection: str | Unchanged = UNCHANGED,
        email_field: str | Unchanged = UNCHANGED,
        segments: Sequence[str] | Unchanged = UNCHANGED,
        user_id_field: str | Unchanged | None = UNCHANGED,
        fields: Mapping[str, str] | Unchanged = UNCHANGED,
        schedule: str | Unchanged = UNCHANGED,
        timezone: str | Unchanged = UNCHANGED,
        mode: str | Unchanged = UNCHANGED,
        removal_brake: int | Unchanged = UNCHANGED,
        consent_column: str | Unchanged | None = UNCHANGED,
        drift_threshold: int | Unchanged = UNCHANGED,
        auto_resync: bool | Unchanged = UNCHANGED,
        expected_revision: int | None = None,
    ) -> ExportCreated:
        """Change an export with the checks of :meth:`add`; ``None`` clears a field.

        Member counts (and size warnings) come back when the segments changed.
        With ``expected_revision``, an export changed since then is not touched
        (StaleEditError). Every edit moves the revision.
        """
        given = given_options(
            name=new_name, connection=connection, email_field=email_field,
            segments=segments, user_id_field=user_id_field, fields=fields,
            schedule=schedule, timezone=timezone, mode=mode,
            removal_brake=removal_brake, consent_column=consent_column,
            drift_threshold=drift_threshold, auto_resync=auto_resync,
        )  # fmt: skip
        with self._database.session() as session:
            admins = self._require(session, Action.EDIT_EXPORTS)
            row = find_export(session, name)
            self._check_export(row, admins, verb="change")
            check_revision(row, expected_revision, subject="export")
            clean = self._new_name(session, row, new_name)
            target_id = row.connection_id
            if not isinstance(connection, Unchanged):
                target = records.find_connection(
                    session, connection, self._actor, admins
                )
                self._check_connection(target, admins)
                target_id = target.id
            current = setup_of(row)
        setup = self._checker().check(
            Setup(
                email_field=pick(email_field, current.email_field),
                user_id_field=pick(user_id_field, current.user_id_field),
                fields=pick(fields, current.fields),
                segments=tuple(pick(segments, current.segments)),
                schedule=pick(schedule, current.schedule),
                timezone=pick(timezone, current.timezone),
                mode=pick(mode, current.mode),
                removal_brake=pick(removal_brake, current.removal_brake),
                consent_column=pick(consent_column, current.consent_column),
                drift_threshold=pick(drift_threshold, current.drift_threshold),
                auto_resync=pick(auto_resync, current.auto_resync),
            )
        )
        counts = self._checker().count(setup.segments) if "segments" in given else {}
        peers = (
            self._peers(target_id) if {"segments", "connection"} & set(given) else ()
        )
        with stale_edits("export", name), self._database.session() as session:
            row = find_export(session, name)
            check_revision(row, expected_revision, subject="export")
            claims.ensure_unclaimed(session, setup.segments, connection_ids=peers,
                                    export=clean, export_id=row.id)  # fmt: skip
            row.name, row.name_key, row.connection_id = (
                clean,
                name_key(clean),
                target_id,
            )
            apply(session, row, setup, stamp=self._now())
            session.flush()
            session.refresh(row, ["connection"])
            details = {"changed": given, **summary(row)}
            self._audit(session, "export.edit", row, details)
            info = self._info(row, next_refresh(session, now=self._now()))
        return ExportCreated(info, counts, tuple(checks.size_warnings(counts)))

    def remove(self, name: str, *, expected_revision: int | None = None) -> ExportInfo:
        """Delete an export setup; returns it as it was (admins may always).

        Its runs stay, under its name (marked removed). A running export is
        not removed: its run would go on sending for an export that is gone.
        """
        with stale_edits("export", name), self._database.session() as session:
            admins = self._require(session, Action.EDIT_EXPORTS)
            row = find_export(session, name)
            self._check_export(row, admins, verb="remove")
            check_revision(row, expected_revision, subject="export")
            _ensure_not_running(session, row)
            removed = records.info(row, NextRun(None, "removed"))
            self._audit(session, "export.remove", row, summary(row))
            session.execute(  # a later export given its id starts with no alert
                delete(SystemSetting).where(
                    SystemSetting.key == records.alert_key(row.id)
                )
            )
            session.execute(  # its Held runs can no longer be acted on
                update(Run)
                .where(Run.export_id == row.id, Run.status == RunStatus.HELD.code)
                .values(
                    error="Its export was removed: the held removals will not be"
                    " sent, and the run can no longer be approved or discarded."
                )
            )
            session.delete(row)
            return removed

    def detach(self, name: str, *, expected_revision: int | None = None) -> ExportInfo:
        """Unlink an export from its connection: it goes inactive, "No connection"."""
        with stale_edits("export", name), self._database.session() as session:
            admins = self._require(session, Action.EDIT_EXPORTS)
            row = find_export(session, name)
            if row.connection is None:
                msg = (
                    f"Export {row.name!r} is already detached (no connection): it is"
                    " inactive. Remove it instead."
                )
                raise ConflictError(
                    msg, code="export_detached", details={"name": row.name}
                )
            self._check_export(row, admins, verb="detach")
            check_revision(row, expected_revision, subject="export")
            details = {"connection": row.connection.name}
            row.connection = None
            row.updated_at = self._now()
            self._audit(session, "export.detach", row, details)
            session.flush()
            return self._info(row, records.INACTIVE)

    # --- internals -------------------------------------------------------

    def _require(self, session: Session, action: Action) -> list[str]:
        admins = admin_names(session)
        check(self._actor, action, admins=admins)
        return admins

    def _check_connection(self, connection: Connection, admins: list[str]) -> None:
        scope = ConnectionScope(connection.name, connection.shared)
        check(self._actor, Action.EDIT_EXPORTS, connection=scope, admins=admins)

    def _check_export(self, row: Export, admins: list[str], *, verb: str) -> None:
        if row.connection is not None:
            self._check_connection(row.connection, admins)
        elif not self._actor.is_admin:
            ask = f" ({', '.join(admins)})" if admins else ""
            msg = (
                f"Export {row.name!r} has no connection (it was detached), so only"
                f" an administrator can {verb} it. Ask an administrator{ask} to do"
                " this for you."
            )
            raise AccessDeniedError(msg)

    def _new_name(self, session: Session, row: Export, new: str | Unchanged) -> str:
        if isinstance(new, Unchanged):
            return row.name
        clean = checks.normalize_export_name(new)
        if name_key(clean) != row.name_key:
            records.ensure_export_free(session, clean)
        return clean

    def _peers(self, connection_id: int | None) -> frozenset[int]:
        """The connections on the same Iterable project as ``connection_id``."""
        if connection_id is None:
            return frozenset()
        if self._project_peers is not None:
            return self._project_peers(connection_id)
        with self._database.session() as session:
            return same_project_ids(session, connection_id)

    def _checker(self) -> SetupChecker:
        # Imported here: segments.records may import exports (segment deletion).
        from audiencesync.segments.service import SegmentService  # noqa: PLC0415

        segments = SegmentService(
            self._database, self._engine, actor=self._actor, now=self._now
        )
        return SetupChecker(self._engine, segments)

    def _info(
        self, row: Export, refresh: NextRun, last: RunInfo | None = None
    ) -> ExportInfo:
        last_run = None if last is None else records.LastRun(
            last.id, str(last.status), last.started_at, last.finished_at,
            last.created_at, dict(last.counts),
        )  # fmt: skip
        if row.connection is None:
            return records.info(row, records.INACTIVE, last_run)
        upcoming = next_run(
            row.schedule, row.timezone, now=self._now(), refresh=refresh
        )
        return records.info(row, upcoming, last_run)

    def _audit(
        self, session: Session, action: str, row: Export, details: Mapping[str, object]
    ) -> None:
        record_event(
            session,
            self._actor,
            action,
            target_type="export",
            target=row.name,
            details=details,
        )


def _ensure_not_running(session: Session, row: Export) -> None:
    running = live_run(session, row.id, now=_utcnow())
    if running is not None:
        msg = (
            f"Export {row.name!r} is running (run {running}). Wait for the run to"
            " end, or cancel it, then remove the export."
        )
        raise ConflictError(msg)
