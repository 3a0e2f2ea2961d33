"""Alembic migrations on SQLite and PostgreSQL: up, down, and equal to the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from audiencesync.store import Base, Database, head_revision


def test_upgrade_brings_an_empty_database_to_the_head(
    empty_database: Database,
) -> None:
    """After upgrade the database is at the newest revision, with every table."""
    empty_database.upgrade()
    assert empty_database.revision() == head_revision()
    tables = set(inspect(empty_database.engine).get_table_names())
    assert tables == {"alembic_version", *Base.metadata.tables}


def test_migrated_schema_matches_the_models(database: Database) -> None:
    """Autogenerate finds no difference between the migrations and the models."""
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_twice_changes_nothing(database: Database) -> None:
    """A second upgrade at the head is a no-op."""
    database.upgrade()
    assert database.revision() == head_revision()


def test_downgrade_to_base_drops_every_table(database: Database) -> None:
    """Downgrading to ``base`` leaves only Alembic's bookkeeping table."""
    database.downgrade("base")
    assert database.revision() is None
    assert inspect(database.engine).get_table_names() == ["alembic_version"]


def test_foreign_keys_are_back_on_after_migrating(sqlite_url: str) -> None:
    """Migrations switch SQLite's foreign keys off; later connections have them on."""
    with Database.open(sqlite_url) as database:
        database.upgrade()
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
