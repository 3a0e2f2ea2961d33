"""One open data folder: the control-plane database, the profile engine, the actor.

Commands (and later the web app and the scheduler) open a workspace from the
settings, use its services, and close it. Opening checks that ``audiencesync init``
has run, so a missing data folder is one clear error instead of a stack trace, and
resolves the acting user (``--as`` / ``AUDIENCESYNC_USER``, else the administrator
``init`` made), whose role every service checks.

Services are built on first use: a command that only reads segments never loads
the Iterable client or the secret key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from audiencesync.profiles.manager import ProfileManager
from audiencesync.segments.service import SegmentService

if TYPE_CHECKING:
    from audiencesync.app.system import SystemService
    from audiencesync.auth.roles import Actor
    from audiencesync.auth.users import UserService
    from audiencesync.connections import ConnectionService
    from audiencesync.exports import ExportService
    from audiencesync.profiles.engine import ProfileEngine
    from audiencesync.settings import Settings
    from audiencesync.store.database import Database


@dataclass
class Workspace:
    """The services of one data folder, sharing one database, engine and actor."""

    settings: Settings
    database: Database
    engine: ProfileEngine
    actor: Actor

    @cached_property
    def segments(self) -> SegmentService:
        """Save, list, preview and evaluate segments."""
        return SegmentService(self.database, self.engine, actor=self.actor)

    @cached_property
    def profiles(self) -> ProfileManager:
        """Import, generate and describe profiles."""
        return ProfileManager(self.settings, self.database, self.actor)

    @cached_property
    def users(self) -> UserService:
        """Users, roles and API tokens."""
        from audiencesync.auth.users import UserService  # noqa: PLC0415 - on first use

        return UserService(self.database, self.actor)

    @cached_property
    def connections(self) -> ConnectionService:
        """Iterable connections: consent, keys, sharing, export user."""
        from audiencesync.connections import (  # noqa: PLC0415 - on first use
            ConnectionService,
            IterableKeyVerifier,
        )
        from audiencesync.core.secrets import KeyRing  # noqa: PLC0415 - on first use

        return ConnectionService(
            self.database,
            self.actor,
            keyring=KeyRing.from_settings(self.settings),
            verifier=IterableKeyVerifier(),
        )

    @cached_property
    def exports(self) -> ExportService:
        """Export setups: mapping, segments, schedule, mode."""
        from audiencesync.exports import ExportService  # noqa: PLC0415 - on first use

        return ExportService(
            self.database,
            self.engine,
            self.actor,
            project_peers=self._project_peers,
        )

    @cached_property
    def system(self) -> SystemService:
        """The refresh schedule, refresh requests and the system overview."""
        from audiencesync.app.system import SystemService  # noqa: PLC0415 - a cycle

        return SystemService(self)

    def _project_peers(self, connection_id: int) -> frozenset[int]:
        """Read when needed: the connections (and their key ring) load lazily."""
        return self.connections.project_peers(connection_id)


@contextmanager
def open_workspace(settings: Settings) -> Iterator[Workspace]:
    """The command line's workspace: ``--as`` / ``AUDIENCESYNC_USER``, else the admin.

    Only the command line falls back to the administrator ``init`` made; the web
    app builds its workspaces from :meth:`AppContext.workspace` with the actor
    its request authenticated, and never falls back.
    """
    from audiencesync.app.context import AppContext  # noqa: PLC0415 - avoids a cycle
    from audiencesync.auth.directory import resolve_actor  # noqa: PLC0415

    with AppContext.open(settings) as context:
        actor = resolve_actor(context.database, settings.user)
        with context.workspace(actor) as workspace:
            yield workspace
