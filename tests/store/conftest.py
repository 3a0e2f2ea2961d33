"""Fixtures for the control-plane database: one per engine, always closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.store import Database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in the test's folder."""
    return f"sqlite:///{tmp_path / 'control.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The URL of an empty database, on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return sqlite_url


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Database]:
    """An open database with no tables (closed after the test)."""
    with Database.open(database_url) as database:
        yield database


@pytest.fixture
def database(empty_database: Database) -> Database:
    """An open database migrated to the head."""
    empty_database.upgrade()
    return empty_database
