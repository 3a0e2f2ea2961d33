"""A migrated control-plane database (SQLite and PostgreSQL) with one export.

These fixtures live in their own folder so the sync engine's other tests keep
``tests/sync/conftest.py`` to themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from audiencesync.store import Database, Export, Segment
from audiencesync.sync.bindings import ensure_binding
from audiencesync.sync.checkpoints import add_run_segment
from audiencesync.sync.records import create_run


@dataclass(frozen=True, slots=True)
class Place:
    """A database holding one export with two segments."""

    database: Database
    export_id: int
    segment_ids: tuple[int, int]

    def new_run(self, *, segments: int = 1, trigger: str = "manual") -> Run:
        """A Queued run with ``segments`` run segments; returns the ids."""
        with self.database.session() as session:
            run = create_run(
                session, self.export_id, trigger=trigger, requested_by="admin"
            )
            parts = []
            for segment_id in self.segment_ids[:segments]:
                binding = ensure_binding(session, self.export_id, segment_id)
                name = f"Segment {segment_id}"
                parts.append(add_run_segment(session, run, binding, segment_name=name))
            return Run(run.id, tuple(part.id for part in parts))


@dataclass(frozen=True, slots=True)
class Run:
    """The ids of a run and of its run segments."""

    id: int
    segments: tuple[int, ...]

    @property
    def segment(self) -> int:
        """The first run segment's id."""
        return self.segments[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'control.db'}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open database migrated to the head (closed after the test)."""
    with Database.open(database_url) as database:
        database.upgrade()
        yield database


@pytest.fixture
def place(database: Database) -> Place:
    """The database with the export "Newsletter" of segments VIP and Lapsed."""
    with database.session() as session:
        segments = [
            Segment(name=name, name_key=name.casefold(), kind="where", definition={})
            for name in ("VIP", "Lapsed")
        ]
        export = Export(name="Newsletter", name_key="newsletter", email_field="email")
        session.add_all([*segments, export])
        session.flush()
        return Place(database, export.id, (segments[0].id, segments[1].id))
