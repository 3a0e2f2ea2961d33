"""One open data folder: the control-plane database plus the profile engine.

Commands (and later the web app and the scheduler) open a workspace from the
settings, use its services, and close it. Opening checks that ``audiencesync init``
has run, so a missing data folder is one clear error instead of a stack trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from audiencesync.errors import ConfigError
from audiencesync.profiles import open_engine
from audiencesync.profiles.engine import ProfileEngine
from audiencesync.segments.service import SegmentService
from audiencesync.settings import Settings
from audiencesync.store.database import Database


@dataclass(frozen=True, slots=True)
class Workspace:
    """The services of one data folder, sharing one database and one engine."""

    settings: Settings
    database: Database
    engine: ProfileEngine

    @property
    def segments(self) -> SegmentService:
        """Save, list, preview and evaluate segments."""
        return SegmentService(self.database, self.engine)


@contextmanager
def open_workspace(settings: Settings) -> Iterator[Workspace]:
    """Open the database (checked to be initialised) and the profile engine."""
    _ensure_initialised(settings)
    database = Database.open(settings.database)
    try:
        database.ensure_current()
        engine = open_engine(settings)
        try:
            yield Workspace(settings, database, engine)
        finally:
            engine.close()
    finally:
        database.close()


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
