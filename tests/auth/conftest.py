"""Fixtures for users and tokens: a migrated database with a first admin, per engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiencesync.auth.audit import AuditEntry, list_events
from audiencesync.auth.roles import Role
from audiencesync.auth.users import UserService, ensure_first_admin, resolve_actor
from audiencesync.store import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'control.db'}"


@pytest.fixture
def bare_database(database_url: str) -> Iterator[Database]:
    """A database migrated to the head, with no user at all."""
    with Database.open(database_url) as database:
        database.upgrade()
        yield database


@pytest.fixture
def database(bare_database: Database) -> Database:
    """A database whose only user is ``admin``, the default user (as init leaves it)."""
    with bare_database.session() as session:
        ensure_first_admin(session, name="admin")
    return bare_database


@pytest.fixture
def team(database: Database) -> Database:
    """``admin`` plus ``ana`` (contributor) and ``vic`` (viewer)."""
    admin = as_user(database, "admin")
    admin.add("ana", role=Role.CONTRIBUTOR)
    admin.add("vic", role=Role.VIEWER)
    return database


@pytest.fixture
def admin(team: Database) -> UserService:
    """The user service acting as ``admin``."""
    return as_user(team, "admin")


def as_user(database: Database, name: str) -> UserService:
    """The user service acting as ``name``."""
    return UserService(database, resolve_actor(database, name))


def audit_events(database: Database) -> list[AuditEntry]:
    """Every audit event, newest first."""
    with database.session() as session:
        return list_events(session, limit=1000)
