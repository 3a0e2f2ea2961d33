"""Fixtures: a migrated database (SQLite and PostgreSQL) with users of every role,
a key ring in a key file, a fake key verifier, and a leak guard on every test.

The guard captures every log record at DEBUG and, after the test, checks that no
canary API key (nor any 8-character piece of one) appears in any of them (T14).
Tests check the text of each error they provoke with :func:`assert_clean`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from audiencesync.auth.roles import Actor, Role
from audiencesync.connections import ConnectionService, KeyRejectedError
from audiencesync.core.secrets import KeyRing, write_key_file
from audiencesync.iterable import Region
from audiencesync.store import Database
from audiencesync.store.accounts import User

US_KEY = "CanaryUsKey7Q2xW9vB4nM6pL1zR8tYu"
EU_KEY = "CanaryEuKey3Hd8Kf2Jq5Wm9Xn4Bv7Ze"
OTHER_KEY = "CanaryOtherKey5Gt1Ry8Ui3Op6As2Df"
CANARY_KEYS = (US_KEY, EU_KEY, OTHER_KEY)
USERS = {
    "ana": Role.ADMIN,
    "bo": Role.ADMIN,
    "cy": Role.CONTRIBUTOR,
    "vi": Role.VIEWER,
}
MakeService = Callable[..., ConnectionService]


def key_pieces(key: str, size: int = 8) -> set[str]:
    """Every ``size``-character substring of ``key``."""
    return {key[i : i + size] for i in range(len(key) - size + 1)}


def leaked(text: str) -> list[str]:
    """The canary keys or key pieces found in ``text``."""
    return sorted(
        piece for key in CANARY_KEYS for piece in key_pieces(key) if piece in text
    )


def assert_clean(text: str) -> None:
    """No canary key, and no 8-character piece of one, is in ``text``."""
    assert leaked(text) == []


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture every log record at DEBUG; none may carry a key or a piece of it."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        assert_clean(record.getMessage())
        assert_clean(record.exc_text or "")
    assert_clean(caplog.text)


@dataclass
class FakeVerifier:
    """Accepts every key, unless told which keys Iterable would refuse."""

    refused: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[Region | None, str | None]] = field(default_factory=list)

    def verify(
        self, *, api_key: str, region: Region | None, base_url: str | None
    ) -> None:
        """Record the call (without the key); raise for a refused key."""
        self.calls.append((region, base_url))
        if api_key in self.refused:
            raise KeyRejectedError(self.refused[api_key])


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
def database(database_url: str) -> Iterator[Database]:
    """A migrated database holding one user per name in :data:`USERS`."""
    with Database.open(database_url) as database:
        database.upgrade()
        with database.session() as session:
            for name, role in USERS.items():
                session.add(User(name=name, name_key=name, role=role.value))
        yield database


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A key file with one fresh key, mode 0600."""
    path = tmp_path / "secret.key"
    write_key_file(path, [Fernet.generate_key()])
    return path


@pytest.fixture
def keyring(key_file: Path) -> KeyRing:
    """The ring of :func:`key_file`."""
    return KeyRing([key_file.read_bytes().strip()], key_file=key_file)


@pytest.fixture
def verifier() -> FakeVerifier:
    """A verifier that accepts every key."""
    return FakeVerifier()


@pytest.fixture
def make_service(
    database: Database, keyring: KeyRing, verifier: FakeVerifier
) -> MakeService:
    """``make_service("cy")``: the service acting as that user."""

    def make(name: str = "ana", *, ring: KeyRing | None = None) -> ConnectionService:
        actor = Actor(name, USERS[name])
        return ConnectionService(
            database, actor, keyring=ring or keyring, verifier=verifier
        )

    return make


@pytest.fixture
def admin(make_service: MakeService) -> ConnectionService:
    """The service acting as administrator ana."""
    return make_service("ana")
