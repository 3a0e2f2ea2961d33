"""Alembic's environment: run the migrations on the connection we are given.

:mod:`audiencesync.store.schema` puts an open connection in
``config.attributes["connection"]``; there is no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from audiencesync.store.models import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations in one transaction (batch mode on SQLite)."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def connection_given() -> Connection:
    """The connection :mod:`audiencesync.store.schema` handed over."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        msg = "audiencesync applies its migrations online, on a given connection"
        raise TypeError(msg)
    return connection


run_migrations(connection_given())
