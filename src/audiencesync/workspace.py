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
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from audiencesync.errors import ConfigError
from audiencesync.private import restrict_new_files, tighten
from audiencesync.profiles import open_engine
from audiencesync.profiles.manager import ProfileManager
from audiencesync.segments.service import SegmentService
from audiencesync.store.database import Database, database_file

if TYPE_CHECKING:
    from audiencesync.auth.roles import Actor
    from audiencesync.auth.users import UserService
    from audiencesync.connections import ConnectionService
    from audiencesync.exports import ExportService
    from audiencesync.profiles.engine import ProfileEngine
    from audiencesync.settings import Settings


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
        from audiencesync.secrets import KeyRing  # noqa: PLC0415 - on first use

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

    def _project_peers(self, connection_id: int) -> frozenset[int]:
        """Read when needed: the connections (and their key ring) load lazily."""
        return self.connections.project_peers(connection_id)


@contextmanager
def open_workspace(settings: Settings) -> Iterator[Workspace]:
    """Open the database (checked to be initialised), the engine, and the actor."""
    from audiencesync.auth.users import resolve_actor  # noqa: PLC0415 - avoids a cycle

    _ensure_initialised(settings)
    restrict_new_files()
    tighten(
        settings.home,
        recursive=False,
        extra=_database_files(settings),
        leave=settings.key_file,
    )
    database = Database.open(settings.database)
    try:
        database.ensure_current()
        actor = resolve_actor(database, settings.user)
        engine = open_engine(settings)
        try:
            yield Workspace(settings, database, engine, actor)
        finally:
            engine.close()
    finally:
        database.close()


def _database_files(settings: Settings) -> tuple[Path, ...]:
    """The SQLite database file, when it lives outside the data folder."""
    file = database_file(settings.database)
    return () if file is None else (file,)


def _ensure_initialised(settings: Settings) -> None:
    url = make_url(settings.database)
    if url.get_backend_name() != "sqlite" or not url.database:
        return
    if url.database != ":memory:" and not Path(url.database).exists():
        msg = (
            f"No audiencesync data folder at {settings.home}. Run `audiencesync init"
            f" --home {settings.home}` first, or point --home (AUDIENCESYNC_HOME)"
            " at an existing one."
        )
        raise ConfigError(msg)
