"""Alembic, driven from code: no ``alembic.ini``, the scripts ship in the package.

Imported only to migrate (``init``, tests): reading the schema's revision needs
no Alembic (:mod:`audiencesync.store.schema`).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from audiencesync.store.schema import MIGRATIONS


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration over the packaged scripts, using ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on ``connection``."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """Run the migrations down to ``revision`` (``"base"``: no tables) on it."""
    command.downgrade(alembic_config(connection), revision)
