"""The application context: what one process opens once and every request shares.

A command opens it for one command; ``audiencesync serve`` opens it once and
keeps it for the life of the process. It holds the settings and the
control-plane database (a connection pool), and opens a profile engine per
workspace, since an engine belongs to one thread. A workspace is built for one
authenticated actor: the web app authenticates every request itself (a bearer
token) and never falls back to a default user.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self

from sqlalchemy.engine import make_url

from audiencesync.app.workspace import Workspace
from audiencesync.core.private import restrict_new_files, tighten
from audiencesync.errors import ConfigError
from audiencesync.profiles import open_engine
from audiencesync.store.database import Database, database_file

if TYPE_CHECKING:
    from audiencesync.auth.roles import Actor
    from audiencesync.settings import Settings


@dataclass
class AppContext:
    """The settings and the database of one data folder, for one process."""

    settings: Settings
    database: Database
    refresh_asked: threading.Event = field(default_factory=threading.Event)
    """Set when someone requests a refresh: ``serve``'s scheduler wakes for it."""

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[Self]:
        """Open the data folder (checked to be initialised) and its database."""
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
            yield cls(settings, database)
        finally:
            database.close()

    @contextmanager
    def workspace(self, actor: Actor) -> Iterator[Workspace]:
        """The services for ``actor``, with a profile engine of this thread's own."""
        engine = open_engine(self.settings)
        try:
            yield Workspace(self.settings, self.database, engine, actor)
        finally:
            engine.close()

    def authenticate_token(self, token: str) -> Actor:
        """The active user an API token belongs to; AccessDeniedError otherwise."""
        from audiencesync.auth.directory import authenticate_token  # noqa: PLC0415

        return authenticate_token(self.database, token)


def _database_files(settings: Settings) -> tuple[Path, ...]:
    """The SQLite database file, when it lives outside the data folder."""
    file = database_file(settings.database)
    return () if file is None else (file,)


def _ensure_initialised(settings: Settings) -> None:
    url = make_url(settings.database)
    if url.get_backend_name() != "sqlite" or not url.database:
        return
    if url.database != ":memory:" and not Path(url.database).exists():
        msg = f"No audiencesync data folder at {settings.home}."
        raise ConfigError(
            msg, code="not_initialised", details={"home": str(settings.home)}
        )
