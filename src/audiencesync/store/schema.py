"""Alembic, driven from code: no ``alembic.ini``, the scripts ship in the package.

The migration scripts live in ``store/migrations/versions``, one file per
revision, numbered ``0001``, ``0002``... in a single line of history. To add
one, copy the latest file, bump ``revision`` and ``down_revision``, and write
``upgrade()`` and ``downgrade()`` by hand (``render_as_batch`` lets SQLite alter
tables).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration over the packaged scripts, using ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this audiencesync knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        msg = f"no migration scripts in {MIGRATIONS}"
        raise RuntimeError(msg)
    return head


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this audiencesync's migration scripts."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return any(script.revision == revision for script in scripts.walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None when it has no audiencesync tables."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on ``connection``."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """Run the migrations down to ``revision`` (``"base"``: no tables) on it."""
    command.downgrade(alembic_config(connection), revision)
