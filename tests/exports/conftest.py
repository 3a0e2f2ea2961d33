"""A real data folder with profiles, segments, users and two connections.

``place`` is built on SQLite and on PostgreSQL (the control-plane database; the
profiles stay in the embedded DuckDB store): every service test runs on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audiencesync.app.home import initialize
from audiencesync.auth.roles import Actor, Role
from audiencesync.exports import ExportCreated, ExportService
from audiencesync.profiles import open_engine
from audiencesync.profiles.engine import ProfileEngine
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.rules import parse_where
from audiencesync.segments.service import SegmentService
from audiencesync.settings import Settings, load_settings
from audiencesync.store.accounts import AuditEvent, SystemSetting, User
from audiencesync.store.database import Database
from audiencesync.store.destinations import Connection, Export

CUSTOMERS = """\
customer_id,email,country,lifetime_value,orders,marketing_consent,signup_date,crm_id
C1,ana@example.com,FR,1500.5,3,true,2024-01-02,101
C2,ben@example.com,FR,200,1,false,2024-02-03,102
C3,cleo@example.com,DE,3000,7,true,2023-05-06,103
"""
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a Sunday
ADMIN = Actor("admin", Role.ADMIN)
CONTRIBUTOR = Actor("cora", Role.CONTRIBUTOR)
VIEWER = Actor("vic", Role.VIEWER)
SHARED = "Iterable shared"
ADMINS_ONLY = "Iterable admins"


@dataclass
class Place:
    """One data folder's database and engine, and services acting as anyone."""

    settings: Settings
    database: Database
    engine: ProfileEngine

    def service(self, actor: Actor = ADMIN) -> ExportService:
        """The export service acting as ``actor``, with the clock pinned at NOW."""
        return ExportService(self.database, self.engine, actor, now=lambda: NOW)

    def add(
        self, name: str = "Newsletter", *, actor: Actor = ADMIN, **options: object
    ) -> ExportCreated:
        """Add an export with working defaults; ``options`` override them."""
        chosen: dict[str, object] = {
            "connection": SHARED,
            "email_field": "email",
            "segments": ["France"],
            **options,
        }
        return self.service(actor).add(name, **chosen)  # type: ignore[arg-type]

    def export_events(self) -> list[str]:
        """The actions of every audit event about exports, oldest first."""
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(AuditEvent.action)
                    .where(AuditEvent.target_type == "export")
                    .order_by(AuditEvent.id)
                )
            )

    def set_refresh_schedule(self, value: object) -> None:
        """Store the system refresh schedule setting as the scheduler will."""
        with self.database.session() as session:
            session.merge(SystemSetting(key="refresh_schedule", value=value))

    def export_count(self) -> int:
        """How many exports are saved."""
        with self.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(Export)) or 0)


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """A data folder on each control-plane database (PostgreSQL may skip)."""
    url = (
        request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    )
    settings = load_settings(home=tmp_path / "home", database_url=url)
    build_folder(settings, tmp_path)
    database = Database.open(settings.database)
    engine = open_engine(settings)
    try:
        populate(database, engine)
        yield Place(settings, database, engine)
    finally:
        engine.close()
        database.close()


def build_folder(settings: Settings, tmp_path: Path) -> None:
    """Run init and import the customers."""
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)


def populate(database: Database, engine: ProfileEngine) -> None:
    """Users, two connections (shared and admins-only) and two segments.

    The connections reach two different Iterable projects (their keys differ).
    """
    with database.session() as session:
        for actor in (ADMIN, CONTRIBUTOR, VIEWER):
            if session.scalar(select(User).where(User.name == actor.name)) is None:
                session.add(
                    User(name=actor.name, name_key=actor.name, role=actor.role.value)
                )
        if session.get(SystemSetting, "default_user") is None:
            session.add(SystemSetting(key="default_user", value=ADMIN.name))
        session.add_all(
            [
                _connection(SHARED, shared=True, last4="abcd"),
                _connection(ADMINS_ONLY, shared=False, last4="wxyz"),
            ]
        )
    segments = SegmentService(database, engine, actor=ADMIN)
    segments.create("France", parse_where("country = 'FR'"))
    segments.create("Germany", parse_where("country = 'DE'"))


def _connection(name: str, *, shared: bool, last4: str) -> Connection:
    return Connection(
        name=name,
        name_key=name.casefold(),
        shared=shared,
        region="us",
        api_key_token="not-a-real-token",
        key_last4=last4,
        consent_version="test",
        consent_by=ADMIN.name,
        consent_at=NOW,
    )
