"""The connection service: Iterable connections as Customer Insights defines them.

Administrators add a connection (name, who may use it, key, region, consent),
and the key is checked against Iterable before anything is saved; the saving
administrator becomes the export user. Keys are stored encrypted (Fernet) with
their last four characters in clear for display. Everyone may list connections,
but only administrators see their settings. Each change writes one audit event
in the same transaction, and a refused action writes none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audiencesync.auth.audit import record_event
from audiencesync.auth.roles import Action, Actor, ConnectionScope, check
from audiencesync.auth.users import admin_names
from audiencesync.connections import records
from audiencesync.connections.consent import CONSENT_VERSION, require_agreement
from audiencesync.connections.keys import StoredKeys
from audiencesync.connections.projects import same_project_ids
from audiencesync.connections.records import (
    KIND_ITERABLE,
    ConnectionInfo,
    ConnectionSettings,
    ConnectionStatus,
    Consent,
    ExportCredentials,
)
from audiencesync.connections.rotation import RotationReport
from audiencesync.connections.targets import (
    Target,
    resolve_target,
    target_of,
    where_details,
)
from audiencesync.connections.verifier import KeyVerifier, check_key_shape
from audiencesync.errors import (
    AccessDeniedError,
    ConfigError,
    ConflictError,
    ExportUserError,
)
from audiencesync.iterable import ApiKey, Region
from audiencesync.store.destinations import Connection
from audiencesync.store.models import utc_now
from audiencesync.store.revisions import check_revision, stale_edits

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audiencesync.core.secrets import KeyRing
    from audiencesync.store.database import Database


class ConnectionService:
    """Connections of one control-plane database, as one acting user."""

    def __init__(
        self,
        database: Database,
        actor: Actor,
        *,
        keyring: KeyRing,
        verifier: KeyVerifier,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._actor = actor
        self._keys = StoredKeys(keyring)
        self._verifier = verifier
        self._now = now

    # --- reading -----------------------------------------------------------

    def list_all(self) -> list[ConnectionInfo]:
        """Every connection by name, as the actor may see it."""
        with self._database.session() as session:
            self._require(session, Action.READ)
            rows = session.scalars(select(Connection).order_by(Connection.name_key))
            return [self._info(session, row) for row in rows]

    def get(self, name: str) -> ConnectionInfo:
        """One connection by name (any case), as the actor may see it."""
        with self._database.session() as session:
            self._require(session, Action.READ)
            return self._info(session, records.find(session, name))

    def status(self, name: str) -> ConnectionStatus:
        """Whether exports on the connection can run, and if not, the fix."""
        with self._database.session() as session:
            self._require(session, Action.VIEW_CONNECTION_SETTINGS)
            row = records.find(session, name)
            return records.status_of(session, row, readable=self._keys.is_readable(row))

    def project_peers(self, connection_id: int) -> frozenset[int]:
        """The connections on the same Iterable project as ``connection_id``.

        Itself included; same API root and same key (compared decrypted).
        """
        with self._database.session() as session:
            return same_project_ids(session, connection_id, reveal=self._keys.decrypt)

    def scope(self, name: str) -> ConnectionScope:
        """The connection's name and sharing, for permission checks on exports."""
        with self._database.session() as session:
            self._require(session, Action.READ)
            return _scope(records.find(session, name))

    def api_key_for_export(self, name: str) -> ExportCredentials:
        """The key and address the sync engine uses; refused unless authorised."""
        with self._database.session() as session:
            row = records.find(session, name)
            self._require(session, Action.RUN_EXPORTS, row)
            problem = records.export_user_problem(session, row)
            if problem is not None:
                raise ExportUserError(problem, details={"connection": row.name})
            key = self._keys.decrypt(row)
            region = Region(row.region) if row.region else Region.US
            return ExportCredentials(ApiKey(key), region, row.base_url)

    # --- changing ----------------------------------------------------------

    def require_manager(self) -> None:
        """Raise AccessDeniedError unless the actor may manage connections."""
        with self._database.session() as session:
            self._require(session, Action.MANAGE_CONNECTIONS)

    def add(
        self,
        name: str,
        *,
        api_key: str,
        region: Region | str | None = None,
        base_url: str | None = None,
        shared: bool = False,
        agreed: bool,
    ) -> ConnectionInfo:
        """Check the key against Iterable, then save the connection with consent."""
        self.require_manager()
        require_agreement(agreed=agreed)
        clean = records.normalize_name(name)
        target = resolve_target(region, base_url)
        key = check_key_shape(api_key)
        with self._database.session() as session:
            records.ensure_free(session, clean)
        self._verifier.verify(api_key=key, region=target[0], base_url=target[1])
        with _saving(self._database, clean) as session:
            records.ensure_free(session, clean)
            row = self._new_row(session, clean, key, target, shared=shared)
            record_event(
                session,
                self._actor,
                "connection.add",
                target_type="connection",
                target=clean,
                details=where_details(target) | {"shared": shared},
            )
            session.flush()
            return self._info(session, row)

    def check_key(
        self,
        *,
        api_key: str,
        region: Region | str | None = None,
        base_url: str | None = None,
    ) -> Target:
        """Check a key against Iterable as :meth:`add` would; nothing is saved.

        Returns where the key was checked (region or base URL).
        """
        self.require_manager()
        target = resolve_target(region, base_url)
        key = check_key_shape(api_key)
        self._verifier.verify(api_key=key, region=target[0], base_url=target[1])
        return target

    def edit(
        self,
        name: str,
        *,
        shared: bool | None = None,
        region: Region | str | None = None,
        base_url: str | None = None,
        expected_revision: int | None = None,
    ) -> ConnectionInfo:
        """Change who may use the connection and where it sends, in one edit.

        A new address (a region, or a base URL) is checked with the stored key
        first; a refusal changes nothing. What does not change writes no audit
        event and leaves the revision as it was.
        """
        moving = region is not None or base_url is not None
        if shared is None and not moving:
            msg = "Nothing to change: give allow_contributors, region or base_url."
            raise ConfigError(msg, code="nothing_to_change")
        with self._database.session() as session:
            row = records.find(session, name)
            self._require(session, Action.MANAGE_CONNECTIONS, row)
            check_revision(row, expected_revision, subject="connection")
            key = self._keys.decrypt(row) if moving else ""
        target = resolve_target(region, base_url) if moving else None
        if target is not None:
            self._verifier.verify(api_key=key, region=target[0], base_url=target[1])
        with stale_edits("connection", name), self._database.session() as session:
            row = records.find(session, name)
            check_revision(row, expected_revision, subject="connection")
            if shared is not None:
                self._share(session, row, shared=shared)
            if target is not None:
                self._move(session, row, target)
            session.flush()
            return self._info(session, row)

    def set_sharing(
        self, name: str, *, shared: bool, expected_revision: int | None = None
    ) -> ConnectionInfo:
        """Let contributors use the connection, or not; exports are unaffected."""
        return self.edit(name, shared=shared, expected_revision=expected_revision)

    def set_key(
        self, name: str, *, api_key: str, expected_revision: int | None = None
    ) -> ConnectionInfo:
        """Replace the connection's key, checked against Iterable first."""
        with self._database.session() as session:
            row = records.find(session, name)
            self._require(session, Action.MANAGE_CONNECTIONS, row)
            check_revision(row, expected_revision, subject="connection")
            target = target_of(row)
        key = check_key_shape(api_key)
        self._verifier.verify(api_key=key, region=target[0], base_url=target[1])
        with stale_edits("connection", name), self._database.session() as session:
            row = records.find(session, name)
            check_revision(row, expected_revision, subject="connection")
            row.api_key_token = self._keys.encrypt(key)
            row.key_last4 = key[-4:]
            row.updated_at = self._now()
            record_event(
                session,
                self._actor,
                "connection.set_key",
                target_type="connection",
                target=row.name,
                details={"key_changed": True},
            )
            session.flush()
            return self._info(session, row)

    def set_address(
        self, name: str, *, base_url: str, expected_revision: int | None = None
    ) -> ConnectionInfo:
        """Point the connection at an explicit base URL, e.g. the emulator's new port.

        The stored key is checked at the new address first; a refusal changes
        nothing. An unchanged address writes no audit event.
        """
        return self.edit(name, base_url=base_url, expected_revision=expected_revision)

    def authorize(
        self, name: str, *, expected_revision: int | None = None
    ) -> ConnectionInfo:
        """Make the acting administrator the connection's export user."""
        with stale_edits("connection", name), self._database.session() as session:
            row = records.find(session, name)
            self._require(session, Action.MANAGE_CONNECTIONS, row)
            check_revision(row, expected_revision, subject="connection")
            user_id = records.active_user_id(session, self._actor.name)
            if row.export_user_id != user_id:
                previous = records.export_user_name(session, row)
                row.export_user_id = user_id
                row.updated_at = self._now()
                record_event(
                    session,
                    self._actor,
                    "connection.authorize",
                    target_type="connection",
                    target=row.name,
                    details={"export_user": self._actor.name, "previous": previous},
                )
            session.flush()
            return self._info(session, row)

    def remove(self, name: str, *, expected_revision: int | None = None) -> None:
        """Delete the connection; refused while any export still uses it."""
        with stale_edits("connection", name), self._database.session() as session:
            row = records.find(session, name)
            self._require(session, Action.MANAGE_CONNECTIONS, row)
            check_revision(row, expected_revision, subject="connection")
            exports = records.export_names(session, row)
            if exports:
                msg = (
                    f"Connection {row.name!r} is used by {len(exports)} export(s):"
                    f" {', '.join(exports)}. Detach or remove them first."
                )
                raise ConflictError(
                    msg,
                    code="connection_in_use",
                    details={"connection": row.name, "exports": exports},
                )
                raise ConflictError(
                    msg,
                    code="connection_in_use",
                    details={"connection": row.name, "exports": exports},
                )
            session.delete(row)
            record_event(
                session,
                self._actor,
                "connection.remove",
                target_type="connection",
                target=row.name,
            )

    def rotate_keys(self) -> RotationReport:
        """Re-encrypt every stored API key under a new secret key."""
        self.require_manager()
        return self._keys.rotate(self._database, self._actor)

    # --- helpers -----------------------------------------------------------

    def _require(
        self, session: Session, action: Action, row: Connection | None = None
    ) -> None:
        scope = _scope(row) if row is not None else None
        admins = admin_names(session)
        check(self._actor, action, connection=scope, admins=admins)

    def _share(self, session: Session, row: Connection, *, shared: bool) -> None:
        if row.shared == shared:
            return
        row.shared = shared
        row.updated_at = self._now()
        record_event(
            session,
            self._actor,
            "connection.set_sharing",
            target_type="connection",
            target=row.name,
            details={"shared": shared},
        )

    def _move(self, session: Session, row: Connection, target: Target) -> None:
        region = target[0].value if target[0] is not None else None
        if (row.region, row.base_url) == (region, target[1]):
            return
        row.region, row.base_url = region, target[1]
        row.updated_at = self._now()
        record_event(
            session,
            self._actor,
            "connection.set_address",
            target_type="connection",
            target=row.name,
            details=where_details(target),
        )

    def _may(self, action: Action, row: Connection) -> bool:
        try:
            check(self._actor, action, connection=_scope(row))
        except AccessDeniedError:
            return False
        return True

    def _new_row(
        self, session: Session, name: str, key: str, target: Target, *, shared: bool
    ) -> Connection:
        now = self._now()
        row = Connection(
            name=name,
            name_key=records.name_key(name),
            kind=KIND_ITERABLE,
            shared=shared,
            region=target[0].value if target[0] is not None else None,
            base_url=target[1],
            api_key_token=self._keys.encrypt(key),
            key_last4=key[-4:],
            consent_version=CONSENT_VERSION,
            consent_by=self._actor.name,
            consent_at=now,
            export_user_id=records.active_user_id(session, self._actor.name),
            created_at=now,
            created_by=self._actor.name,
            updated_at=now,
        )
        session.add(row)
        return row

    def _info(self, session: Session, row: Connection) -> ConnectionInfo:
        settings = None
        if self._may(Action.VIEW_CONNECTION_SETTINGS, row):
            settings = ConnectionSettings(
                shared=row.shared,
                region=row.region,
                base_url=row.base_url,
                key_hint=records.key_hint(row.key_last4),
                export_user=records.export_user_name(session, row),
                consent=Consent(row.consent_version, row.consent_by, row.consent_at),
                status=records.status_of(
                    session, row, readable=self._keys.is_readable(row)
                ),
                created_at=row.created_at,
                created_by=row.created_by,
                updated_at=row.updated_at,
                revision=row.revision,
            )
        usable = self._may(Action.EDIT_EXPORTS, row)
        return ConnectionInfo(row.name, row.kind, usable, settings)


@contextmanager
def _saving(database: Database, name: str) -> Iterator[Session]:
    """A session whose commit turns a name taken by a concurrent add into a
    ConflictError (the unique index catches what ``ensure_free`` could not)."""
    try:
        with database.session() as session:
            yield session
    except IntegrityError as exc:
        msg = f"A connection named {name!r} was just added by someone else."
        raise ConflictError(msg) from exc


def _scope(row: Connection) -> ConnectionScope:
    return ConnectionScope(row.name, row.shared)
