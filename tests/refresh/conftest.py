"""A data folder with an imported CSV, segments, exports and the emulator on a port.

Exports: ``Newsletter`` (France) follows the refresh, ``Hourly`` (Germany) has its
own cron schedule (at minute 0 of every hour, UTC) and ``OnDemand`` (Anyone) is
manual; one segment each, as one Iterable project's list has one feeder. Every
control-plane read the tests make goes through a fresh workspace, as a command would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from audiencesync.app.home import initialize
from audiencesync.app.workspace import Workspace, open_workspace
from audiencesync.auth.roles import Role
from audiencesync.emulator import Emulator, EmulatorConfig, serve_in_thread
from audiencesync.emulator.config import DEFAULT_API_KEY
from audiencesync.profiles.service import import_profiles
from audiencesync.segments.where import parse_where
from audiencesync.settings import Settings, load_settings
from audiencesync.store.accounts import AuditEvent
from audiencesync.store.destinations import Export
from audiencesync.store.runs import Run

CUSTOMERS = (
    "customer_id,email,country\n"
    "C1,ana@example.com,FR\n"
    "C2,ben@example.com,FR\n"
    "C3,cleo@example.com,DE\n"
)
HOURLY = "0 * * * *"


@dataclass
class Place:
    """The data folder, its CSV source and the emulator behind the connection."""

    settings: Settings
    source: Path
    emulator: Emulator
    url: str

    @contextmanager
    def workspace(self, user: str | None = None) -> Iterator[Workspace]:
        """A workspace acting as ``user`` (default: the first administrator)."""
        settings = self.settings.model_copy(update={"user": user})
        with open_workspace(settings) as workspace:
            yield workspace

    def runs(self) -> list[tuple[str, str]]:
        """(export name, trigger) of every run, oldest first."""
        with self.workspace() as workspace, workspace.database.session() as session:
            rows = session.execute(
                select(Export.name, Run.trigger)
                .join(Export, Export.id == Run.export_id)
                .order_by(Run.id)
            )
            return [(name, trigger) for name, trigger in rows]

    def audit(self, action: str) -> list[AuditEvent]:
        """The audit events with ``action``, oldest first."""
        with self.workspace() as workspace, workspace.database.session() as session:
            return list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == action)
                    .order_by(AuditEvent.id)
                )
            )

    def saved_at(self, export: str) -> datetime:
        """When the export was last saved."""
        with self.workspace() as workspace:
            return workspace.exports.get(export).updated_at


def build(settings: Settings, tmp_path: Path, url: str) -> Path:
    """Init, import the CSV, three segments, a shared connection, three exports."""
    initialize(settings)
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    import_profiles(settings, source)
    with open_workspace(settings) as workspace:
        workspace.users.add("cora", role=Role.CONTRIBUTOR)
        workspace.users.add("vic", role=Role.VIEWER)
        workspace.segments.create("France", parse_where("country = 'FR'"))
        workspace.segments.create("Germany", parse_where("country = 'DE'"))
        workspace.segments.create("Anyone", parse_where("country IS NOT NULL"))
        workspace.connections.add(
            "Iterable", api_key=DEFAULT_API_KEY, base_url=url, shared=True, agreed=True
        )
        for name, schedule, segment in (
            ("Newsletter", "refresh", "France"),
            ("Hourly", HOURLY, "Germany"),
            ("OnDemand", "manual", "Anyone"),
        ):
            workspace.exports.add(
                name,
                connection="Iterable",
                email_field="email",
                segments=[segment],
                schedule=schedule,
            )
    return source


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """The folder with its control plane on SQLite, then on PostgreSQL."""
    url = (
        request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    )
    emulator = Emulator(EmulatorConfig(rate_limits_enabled=False))
    with serve_in_thread(emulator) as address:
        settings = load_settings(home=tmp_path / "home", database_url=url)
        source = build(settings, tmp_path, address)
        yield Place(settings, source, emulator, address)
