"""API keys at rest (T13): the database never holds a key or a piece of one."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy

from audiencesync.connections import ConnectionService
from audiencesync.store import Database

from .conftest import CANARY_KEYS, EU_KEY, OTHER_KEY, US_KEY, leaked


@pytest.fixture
def filled(admin: ConnectionService) -> ConnectionService:
    """Three connections, one key replaced and one rotation later."""
    admin.add("Alpha", api_key=US_KEY, agreed=True)
    admin.add("Beta", api_key=EU_KEY, region="eu", agreed=True, shared=True)
    admin.add("Gamma", api_key=US_KEY, base_url="http://127.0.0.1:9009", agreed=True)
    admin.set_key("Gamma", api_key=OTHER_KEY)
    admin.rotate_keys()
    return admin


def dump_tables(database: Database) -> str:
    """Every row of every table, as text."""
    lines: list[str] = []
    with database.engine.connect() as connection:
        metadata = sqlalchemy.MetaData()
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            rows = connection.execute(sqlalchemy.select(table))
            lines.extend(f"{table.name}: {tuple(row)!r}" for row in rows)
    return "\n".join(lines)


def test_no_key_in_any_table_row(filled: ConnectionService, database: Database) -> None:
    """No row of any table (SQLite and PostgreSQL) holds a key or 8 chars of one."""
    text = dump_tables(database)
    assert "connections:" in text
    assert leaked(text) == []


def test_no_key_in_the_sqlite_files(
    filled: ConnectionService, database: Database, database_url: str
) -> None:
    """The SQLite file and its write-ahead log hold no key, whole or in pieces."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a file dump needs SQLite; PostgreSQL rows are checked above")
    path = Path(database_url.removeprefix("sqlite:///"))
    blobs = [p.read_bytes() for p in path.parent.glob(f"{path.name}*")]
    assert blobs
    for blob in blobs:
        text = blob.decode("latin-1")
        assert leaked(text) == []
        for key in CANARY_KEYS:
            assert key.encode("utf-16-le").decode("latin-1") not in text
